import zoneinfo
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from bugsink_issues.conf import app_settings
from bugsink_issues.models.access import UserPreferences
from bugsink_issues.ui.login import logout_url


def preferences_of(user):
    if not user.is_authenticated:
        return UserPreferences(time_zone="UTC")
    prefs = UserPreferences.objects.filter(user=user).first()
    return prefs or UserPreferences(user=user)


def page_context(request, prefs=None):
    """What base.html needs beyond a page's own context."""
    prefs = prefs or preferences_of(request.user)
    return {
        "bugsink_outer_template": app_settings.UI_OUTER_TEMPLATE,
        "bugsink_theme": prefs.theme,
        "bugsink_logout_url": logout_url(),
    }


def page(request, template, context=None, *, status=200):
    """Render inside the configurable outer layout, in the user's time zone and theme."""
    prefs = preferences_of(request.user)
    context = {**(context or {}), **page_context(request, prefs)}
    try:
        tz = zoneinfo.ZoneInfo(prefs.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    with timezone.override(tz):
        # Rendered here (not lazily) so the override covers the template.
        response = render(request, template, context, status=status)
    return response


ERROR_TITLES = {403: "Not allowed", 404: "Not found"}
# Django's get_object_or_404 names the model ("No ProjectKey matches the given query."): not news.
_GENERIC = {403: "You may see this, not change it.", 404: "There is nothing here, or not for you."}


def error_page(request, status, exc):
    message = str(exc) if exc.args and "matches the given query" not in str(exc) else ""
    return page(
        request,
        "bugsink_issues/error.html",
        {
            "status": status,
            "error_title": ERROR_TITLES[status],
            "message": message or _GENERIC[status],
        },
        status=status,
    )


def styled_errors(view):
    """The UI's own 404 and 403 pages, with its navigation, for what its views refuse. Only the
    UI's views: the host site's handlers answer for every other URL, under the UI's prefix too."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Http404 as exc:
            return error_page(request, 404, exc)
        except PermissionDenied as exc:
            return error_page(request, 403, exc)

    return wrapper
