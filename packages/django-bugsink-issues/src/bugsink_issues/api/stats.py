"""Event counts over time for issues (`stats` of Sentry's issue answers): 24 hourly buckets for
"24h", one per day for "14d" and "30d", oldest first, as [unix time of the bucket's start, count].
Days come from the digest's counts per issue and day (models/volume.py), the UI's charts' figures;
hours from the stored events of the last day.
"""

from datetime import UTC, datetime, timedelta

from django.db import connections, router
from django.db.models import Field
from django.utils import timezone

from bugsink_issues.models import Event
from bugsink_issues.models.volume import daily_counts

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


def _column(name):
    field = Event._meta.get_field(name)
    assert isinstance(field, Field)  # a column of the table, not the far side of a relation
    return field.column


def _sql(connection, buckets, ids):
    """One pass over the (issue, timestamp) index range of the period: a count per bucket, grouped
    by issue. Written out rather than built as 24 filtered Count() annotations, which cost the ORM
    several times the query's own time to assemble on every request."""
    quote = connection.ops.quote_name
    table = quote(Event._meta.db_table)
    issue, stamp = (quote(_column(f)) for f in ("issue", "timestamp"))
    counts = ", ".join(
        f"COUNT(CASE WHEN {stamp} >= %s AND {stamp} < %s THEN 1 END)" for _ in range(buckets)
    )
    marks = ", ".join(["%s"] * ids)
    return (
        f"SELECT {issue}, {counts} FROM {table} "
        f"WHERE {issue} IN ({marks}) AND {stamp} >= %s GROUP BY {issue}"
    )


def issue_stats(issue_ids, period, now=None):
    """{issue id: [[bucket start (unix seconds), events], ...]} for `period` (a STATS_PERIODS key)."""
    issue_ids = list(issue_ids)
    starts, size = _bucket_starts(period, now or timezone.now())
    empty = [[int(start.timestamp()), 0] for start in starts]
    result = {pk: [list(point) for point in empty] for pk in issue_ids}
    if not issue_ids:
        return result
    if size == timedelta(days=1):
        for issue_id, counts in daily_counts("issue_id", issue_ids, len(starts)).items():
            for point, count in zip(result[issue_id], counts, strict=True):
                point[1] = count
        return result
    connection = connections[router.db_for_read(Event)]
    adapt = connection.ops.adapt_datetimefield_value
    params: list = []
    for start in starts:
        params += [adapt(start), adapt(start + size)]
    params += [*issue_ids, adapt(starts[0])]
    with connection.cursor() as cursor:
        cursor.execute(_sql(connection, len(starts), len(issue_ids)), params)
        rows = cursor.fetchall()
    for issue_id, *counts in rows:
        series = result[issue_id]
        for n, count in enumerate(counts):
            series[n][1] = count
    return result
