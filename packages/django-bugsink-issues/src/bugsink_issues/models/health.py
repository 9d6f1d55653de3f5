"""Release health and client reports, aggregated as the SDKs' items arrive (digest/health.py).

Raw sessions are not kept: each hour of a release in an environment is one row of counts. Small tables
of state make the counts right: a session that may still be updated is matched by its id
(SessionState, deleted a day after its last update) so it is counted once with its final status;
the distinct users of an hour are kept as hashes (ReleaseHealthUser, bounded per hour); and each
batch's items are receipted (HealthReceipt) so that a redelivered batch counts nothing twice.
"""

from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone

__all__ = [
    "ClientReportCount",
    "ReleaseHealthFigures",
    "HealthReceipt",
    "ReleaseHealthBucket",
    "ReleaseHealthUser",
    "SessionState",
]


@dataclass(frozen=True)
class ReleaseHealthFigures:
    """A release's health over a window: what the Releases page shows."""

    sessions: int
    errored: int  # crashed and abnormal ones included
    crashed: int
    abnormal: int
    users: int  # distinct, over the window (exact up to the per-hour cap)
    crashed_users: int
    users_capped: bool
    adoption: float | None  # share of the project's sessions in the window, 0..1
    environments: tuple[str, ...]

    @property
    def crash_free_sessions(self) -> float | None:
        """0..1; None without sessions. Abnormal sessions do not count as crashes."""
        return 1 - self.crashed / self.sessions if self.sessions else None

    @property
    def crash_free_users(self) -> float | None:
        return 1 - self.crashed_users / self.users if self.users else None


class ReleaseHealthQuerySet(models.QuerySet["ReleaseHealthBucket"]):
    def figures_by_release(self, project, since, versions=None):
        """{version: ReleaseHealthFigures} of the project's buckets from `since` on (those of
        `versions` only, if given); adoption is against all the project's sessions then."""
        buckets = self.filter(project=project, hour__gte=since)
        total = buckets.aggregate(n=Sum("sessions"))["n"] or 0
        if versions is not None:
            buckets = buckets.filter(release__in=list(versions))
        rows = buckets.values("release").annotate(
            sessions=Sum("sessions"),
            errored=Sum("errored"),
            crashed=Sum("crashed"),
            abnormal=Sum("abnormal"),
            capped=Count("pk", filter=Q(users_capped=True)),
        )
        users = (
            ReleaseHealthUser.objects.filter(bucket__in=buckets)
            .values("bucket__release")
            .annotate(
                users=Count("user_hash", distinct=True),
                crashed_users=Count("user_hash", distinct=True, filter=Q(crashed=True)),
            )
        )
        user_counts = {u["bucket__release"]: (u["users"], u["crashed_users"]) for u in users}
        environments: dict[str, set[str]] = {}
        for release, environment in buckets.values_list("release", "environment").distinct():
            environments.setdefault(release, set()).add(environment)
        return {
            r["release"]: ReleaseHealthFigures(
                sessions=r["sessions"],
                errored=r["errored"],
                crashed=r["crashed"],
                abnormal=r["abnormal"],
                users=user_counts.get(r["release"], (0, 0))[0],
                crashed_users=user_counts.get(r["release"], (0, 0))[1],
                users_capped=r["capped"] > 0,
                adoption=r["sessions"] / total if total else None,
                environments=tuple(sorted(environments.get(r["release"], ()))),
            )
            for r in rows
        }


class ReleaseHealthBucket(models.Model):
    """The sessions of one release in one environment that started in one hour (UTC)."""

    project = models.ForeignKey(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="+"
    )
    release = models.CharField(max_length=250)
    environment = models.CharField(max_length=64, blank=True)
    hour = models.DateTimeField()
    sessions = models.PositiveBigIntegerField(default=0)
    # Sessions that had an error: crashed and abnormal ones included (a superset of both).
    errored = models.PositiveBigIntegerField(default=0)
    crashed = models.PositiveBigIntegerField(default=0)
    abnormal = models.PositiveBigIntegerField(default=0)
    # More distinct users came than RELEASE_HEALTH_MAX_USERS_PER_HOUR: the user figures are partial.
    users_capped = models.BooleanField(default=False)

    objects = ReleaseHealthQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "release", "environment", "hour"],
                name="bi_healthbucket_unique",
            )
        ]
        indexes = [models.Index(fields=["project", "hour"], name="bi_healthbucket_hour")]

    def __str__(self):
        return f"{self.release} {self.environment} {self.hour:%Y-%m-%d %H}h"


class ReleaseHealthUser(models.Model):
    """A distinct user (the SDK's `did`, hashed) of an hour bucket, and whether one of their
    sessions crashed."""

    bucket = models.ForeignKey(ReleaseHealthBucket, on_delete=models.CASCADE, related_name="users")
    user_hash = models.CharField(max_length=32)
    crashed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bucket", "user_hash"], name="bi_healthuser_unique")
        ]

    def __str__(self):
        return self.user_hash


class SessionState(models.Model):
    """What has been counted of one session (by its `sid`) while its updates may still come."""

    project = models.ForeignKey(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="+"
    )
    sid_hash = models.CharField(max_length=32)
    bucket = models.ForeignKey(ReleaseHealthBucket, on_delete=models.CASCADE, related_name="+")
    user_hash = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, default="ok")
    errored = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "sid_hash"], name="bi_sessionstate_unique")
        ]

    def __str__(self):
        return f"{self.sid_hash} {self.status}"


class HealthReceipt(models.Model):
    """The health items one batch counted for a project (session updates, aggregates, client
    reports), so that a batch delivered again counts nothing twice: one row per batch, not per
    item (a session item comes with nearly every error event). `items` holds a 16-byte key per
    item id; `first_item` and `last_item` are the lowest and highest spool ids among them, so the
    receipts an item can be in are found by range. Deleted after two days."""

    project = models.ForeignKey(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="+"
    )
    first_item = models.CharField(max_length=64)
    last_item = models.CharField(max_length=64)
    items = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["project", "last_item"], name="bi_healthreceipt_last")]

    def __str__(self):
        return f"{self.first_item}..{self.last_item}"


class ClientReportCount(models.Model):
    """What a project's SDKs reported they dropped (client reports), per category and reason."""

    project = models.ForeignKey(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="client_reports"
    )
    category = models.CharField(max_length=64)
    reason = models.CharField(max_length=64)
    quantity = models.PositiveBigIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["-quantity", "category", "reason"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "category", "reason"], name="bi_clientreport_unique"
            )
        ]

    def __str__(self):
        return f"{self.category}/{self.reason}: {self.quantity}"
