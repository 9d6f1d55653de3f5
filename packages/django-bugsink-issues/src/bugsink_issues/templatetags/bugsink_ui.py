"""Small, fast filters for dense lists (Django's timesince is costly per row)."""

from django import template
from django.utils import timezone

register = template.Library()

UNITS = ((86400 * 365, "y"), (86400 * 30, "mo"), (86400, "d"), (3600, "h"), (60, "m"))


@register.filter
def ago(value):
    """'5m', '3h', '2d', 'now': compact age of a datetime."""
    if not value:
        return ""
    seconds = (timezone.now() - value).total_seconds()
    for size, unit in UNITS:
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "now"


@register.filter
def stamp(value):
    """Local time as 'YYYY-MM-DD HH:MM:SS' in the active (the user's) time zone."""
    if not value:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")


@register.filter
def clock(value):
    """Local time of day to the millisecond, 'HH:MM:SS.mmm', in the active time zone."""
    if not value:
        return ""
    return timezone.localtime(value).strftime("%H:%M:%S.%f")[:-3]
