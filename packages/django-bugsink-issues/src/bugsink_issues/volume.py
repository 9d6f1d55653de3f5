"""Event volume per day for sparklines and the issue chart, and the SVG for them (no JS needed)."""

from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from bugsink_issues.models import Event


def _days(n):
    today = timezone.now().date()
    return [today - timedelta(days=n - 1 - i) for i in range(n)]


def daily_counts(field, ids, days=14):
    """{id: [count per day, oldest first]} for `field` in ("issue_id", "project_id")."""
    ids = list(ids)
    result = {i: [0] * days for i in ids}
    if not ids:
        return result
    dates = _days(days)
    since = timezone.now() - timedelta(days=days)
    index = {d: n for n, d in enumerate(dates)}
    rows = (
        Event.objects.filter(**{f"{field}__in": ids, "timestamp__gte": since})
        .annotate(day=TruncDate("timestamp"))
        .values(field, "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        pos = index.get(row["day"])
        if pos is not None:
            result[row[field]][pos] = row["n"]
    return result


def sparkline_svg(counts, width=80, height=18, css_class="spark"):
    """Bars as inline SVG; the numbers are ours (ints), still formatted through format_html."""
    top = max(counts) if counts and max(counts) else 1
    step = width / max(len(counts), 1)
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        (
            (
                f"{i * step:.1f}",
                f"{height - max(1.0, height * c / top) if c else height - 0.5:.1f}",
                f"{max(step - 1, 1):.1f}",
                f"{max(1.0, height * c / top) if c else 0.5:.1f}",
                c,
            )
            for i, c in enumerate(counts)
        ),
    )
    return format_html(
        '<svg class="{}" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        css_class,
        width,
        height,
        width,
        height,
        f"{sum(counts)} events in {len(counts)} days",
        bars,
    )
