"""allauth's pages in the issues UI's layout (its templates are overridden in templates/allauth/)."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject


def _theme(request):
    from bugsink_issues.models.access import UserPreferences

    if not request.user.is_authenticated:
        return "auto"
    prefs = UserPreferences.objects.filter(user=request.user).only("theme").first()
    return prefs.theme if prefs else "auto"


def ui_layout(request):
    """What bugsink_issues/base.html needs outside the UI's own views (which set their own)."""
    from bugsink_issues.conf import app_settings

    return {
        "bugsink_outer_template": app_settings.UI_OUTER_TEMPLATE,
        # Lazy: the UI's own pages set it, and then no query is made for it.
        "bugsink_theme": SimpleLazyObject(lambda: _theme(request)),
        "bugsink_open_signup": settings.OPEN_SIGNUP,
    }
