"""Event volume per day for sparklines and the issue chart, and the SVG for them (no JS needed)."""

from datetime import UTC, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.safestring import mark_safe

from bugsink_issues.models import Event


def _days(n):
    today = timezone.now().astimezone(UTC).date()
    return [today - timedelta(days=n - 1 - i) for i in range(n)]


def daily_counts(field, ids, days=14):
    """{id: [count per UTC day, oldest first]} for `field` in ("issue_id", "project_id").

    One query per day, each a range on the (issue, timestamp) / (project, timestamp) index grouped
    by the leading column: the database only walks index entries, with no per-row expression and
    no sort (grouping rows by a computed day was several times slower for hot issues)."""
    ids = list(ids)
    result = {i: [0] * days for i in ids}
    if not ids:
        return result
    if len(ids) == 1:
        return {ids[0]: _one_series(field, ids[0], days)}
    for pos, day in enumerate(_days(days)):
        start = datetime.combine(day, time.min, tzinfo=UTC)
        rows = (
            Event.objects.filter(
                **{f"{field}__in": ids},
                timestamp__gte=start,
                timestamp__lt=start + timedelta(days=1),
            )
            .values_list(field)
            .annotate(n=Count("id"))
            .order_by()
        )
        for key, n in rows:
            result[key][pos] = n
    return result


def _one_series(field, key, days):
    """One id's series in one query: a count per day with a filter each, over one index range
    (the issue page's chart; per-day queries cost more in round trips than they save)."""
    starts = [datetime.combine(day, time.min, tzinfo=UTC) for day in _days(days)]
    buckets = {
        f"d{n}": Count(
            "id", filter=Q(timestamp__gte=start, timestamp__lt=start + timedelta(days=1))
        )
        for n, start in enumerate(starts)
    }
    row = Event.objects.filter(**{field: key}, timestamp__gte=starts[0]).aggregate(**buckets)
    return [row[f"d{n}"] or 0 for n in range(days)]


def sparkline_svg(counts, width=80, height=18, css_class="spark"):
    """Bars as inline SVG. Built from our own numbers only (ints and floats we format, and a fixed
    class name), never from payload data, so it is marked safe without escaping; format_html
    per bar was the issue list's biggest cost."""
    counts = [int(c) for c in counts]
    top = max(counts) if counts and max(counts) else 1
    step = width / max(len(counts), 1)
    bar_width = max(step - 1, 1)
    bars = []
    for i, c in enumerate(counts):
        h = max(1.0, height * c / top) if c else 0.5
        bars.append(
            f'<rect x="{i * step:.1f}" y="{height - h:.1f}" width="{bar_width:.1f}" '
            f'height="{h:.1f}"><title>{c}</title></rect>'
        )
    label = f"{sum(counts)} events in {len(counts)} days"
    css_class = css_class if css_class in ("spark", "chart") else "spark"
    return mark_safe(
        f'<svg class="{css_class}" width="{int(width)}" height="{int(height)}" '
        f'viewBox="0 0 {int(width)} {int(height)}" role="img" aria-label="{label}">{"".join(bars)}</svg>'
    )
