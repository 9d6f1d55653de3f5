import zoneinfo

from django.shortcuts import render
from django.utils import timezone

from bugsink_issues.conf import app_settings
from bugsink_issues.models.access import UserPreferences


def preferences_of(user):
    if not user.is_authenticated:
        return UserPreferences(time_zone="UTC")
    prefs = UserPreferences.objects.filter(user=user).first()
    return prefs or UserPreferences(user=user)


def page(request, template, context=None, *, status=200):
    """Render inside the configurable outer layout, in the user's time zone and theme."""
    prefs = preferences_of(request.user)
    context = {
        **(context or {}),
        "bugsink_outer_template": app_settings.UI_OUTER_TEMPLATE,
        "bugsink_theme": prefs.theme,
    }
    try:
        tz = zoneinfo.ZoneInfo(prefs.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    with timezone.override(tz):
        # Rendered here (not lazily) so the override covers the template.
        response = render(request, template, context, status=status)
    return response
