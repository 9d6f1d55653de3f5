"""Event counts over time for issues (`stats` of Sentry's issue answers): 24 hourly buckets for
"24h", one per day for "14d" and "30d", oldest first, as [unix time of the bucket's start, count].
"""

from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from bugsink_issues.models import Event

__all__ = ["STATS_PERIODS", "issue_stats"]

# name -> (bucket size, number of buckets)
STATS_PERIODS = {
    "24h": (timedelta(hours=1), 24),
    "14d": (timedelta(days=1), 14),
    "30d": (timedelta(days=1), 30),
}


def _bucket_starts(period, now):
    size, count = STATS_PERIODS[period]
    now = now.astimezone(UTC)
    if size == timedelta(hours=1):
        last = now.replace(minute=0, second=0, microsecond=0)
    else:
        last = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return [last - size * (count - 1 - i) for i in range(count)], size


def issue_stats(issue_ids, period, now=None):
    """{issue id: [[bucket start (unix seconds), events], ...]} for `period` (a STATS_PERIODS key).

    One query: a count per bucket with a filter each, over the (issue, timestamp) index range of
    the period, grouped by issue."""
    issue_ids = list(issue_ids)
    starts, size = _bucket_starts(period, now or timezone.now())
    empty = [[int(start.timestamp()), 0] for start in starts]
    result = {pk: [list(point) for point in empty] for pk in issue_ids}
    if not issue_ids:
        return result
    buckets = {
        f"b{n}": Count("id", filter=Q(timestamp__gte=start, timestamp__lt=start + size))
        for n, start in enumerate(starts)
    }
    rows = (
        Event.objects.filter(issue_id__in=issue_ids, timestamp__gte=starts[0])
        .values("issue_id")
        .annotate(**buckets)
        .order_by()
    )
    for row in rows:
        counts: dict = dict(row)
        series = result[counts["issue_id"]]
        for n in range(len(starts)):
            series[n][1] = counts[f"b{n}"]
    return result
