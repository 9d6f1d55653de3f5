"""Events per issue and UTC day, counted by the digest: what sparklines and the issue chart draw.

A day's count is the events digested for it (by the event's timestamp), as Sentry's charts count
what arrived: retention dropping old events at its cap does not empty the chart's past days, and a
chart reads at most one row per day, however many events the issue has (counting the stored events
per day walked every event of a hot issue: 0.4-0.6 s for 270,000 events).
"""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from django.db import connection as default_connection
from django.db import models
from django.db.models import Sum
from django.utils import timezone

__all__ = ["IssueDayCount", "backfill", "daily_counts", "day_of"]


def day_of(moment: datetime) -> date:
    """The UTC day a timestamp is counted in."""
    return moment.astimezone(UTC).date()


class IssueDayCountQuerySet(models.QuerySet):
    def add(self, counts: Counter, connection=default_connection):
        """Add {(issue id, project id, day): events} to the counts, in the caller's transaction:
        one upsert per 500 rows (the digest's hot path: a row per issue and day of a batch)."""
        rows = sorted((i, p, d.isoformat(), n) for (i, p, d), n in counts.items() if n)
        if not rows:
            return
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 500):
                chunk = rows[start : start + 500]
                marks = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} (issue_id, project_id, day, events) VALUES {marks} "
                    f"ON CONFLICT (issue_id, day) DO UPDATE SET events = {table}.events + "
                    "excluded.events",
                    [v for row in chunk for v in row],
                )

    def move(self, source_id: int, target_id: int, connection=default_connection):
        """Add one issue's counts to another's (a merge), and drop the source's."""
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (issue_id, project_id, day, events) "
                f"SELECT %s, project_id, day, events FROM {table} WHERE issue_id = %s "
                f"ON CONFLICT (issue_id, day) DO UPDATE SET events = {table}.events + "
                "excluded.events",
                [target_id, source_id],
            )
        self.filter(issue_id=source_id).delete()


class IssueDayCount(models.Model):
    # db_index=False: the unique (issue, day) constraint leads with it.
    issue = models.ForeignKey(
        "bugsink_issues.Issue", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # The issue's project, copied: the project list's sparklines sum a project's issues per day.
    project = models.ForeignKey(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    events = models.PositiveBigIntegerField()

    objects = IssueDayCountQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "day"], name="bi_issueday_unique")]
        indexes = [models.Index(fields=["project", "day"], name="bi_issueday_project")]

    def __str__(self):
        return f"{self.issue_id} on {self.day}: {self.events}"


def daily_counts(field, ids, days=14):
    """{id: [events digested per UTC day, oldest first], the last `days` days} for `field` in
    ("issue_id", "project_id"): one query, a row per issue and day at most."""
    ids = list(ids)
    result = {i: [0] * days for i in ids}
    if not ids:
        return result
    first = day_of(timezone.now()) - timedelta(days=days - 1)
    rows = (
        IssueDayCount.objects.filter(**{f"{field}__in": ids}, day__gte=first)
        .values_list(field, "day")
        .annotate(n=Sum("events"))
        .order_by()
    )
    for key, day, n in rows:
        pos = (day - first).days
        if pos < days:  # tomorrow's: the digest allows a few minutes of clock skew
            result[key][pos] = n
    return result


def backfill(connection, event_table="bugsink_issues_event"):
    """Count the stored events into an empty table, in SQL (the migration and the seeding
    benchmark): one GROUP BY over the events, no rows through Python."""
    table = IssueDayCount._meta.db_table
    if connection.vendor == "postgresql":
        day = "(timestamp AT TIME ZONE 'UTC')::date"
    elif connection.vendor == "sqlite":
        day = "date(timestamp)"  # Django stores UTC text there: 'YYYY-MM-DD HH:MM:SS[.ffffff]'
    else:
        day = "CAST(timestamp AS DATE)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (issue_id, project_id, day, events) "
            f"SELECT issue_id, project_id, {day}, COUNT(*) FROM {event_table} "
            f"GROUP BY issue_id, project_id, {day}"
        )
