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


@register.filter
def percent(value):
    """A 0..1 share as '99.5%' (one decimal, two below 1%); '—' for None."""
    if value is None:
        return "—"
    share = value * 100
    return f"{share:.2f}%" if 0 < share < 1 else f"{share:.1f}%"
