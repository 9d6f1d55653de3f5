"""Cron monitors: a project's scheduled jobs (by slug, made and updated by check-ins) and their
check-ins. The logic lives in bugsink_issues.monitors; these are the rows and their querysets."""

from django.db import models


class MonitorStatus(models.TextChoices):
    OK = "ok", "OK"
    FAILING = "failing", "Failing"  # the last run reported an error
    MISSED = "missed", "Missed"  # no check-in within the expected time plus the margin
    TIMED_OUT = "timed_out", "Timed out"  # in progress past its max runtime


class CheckInStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    OK = "ok", "OK"
    ERROR = "error", "Error"
    # Written by the periodic check, never sent by an SDK.
    MISSED = "missed", "Missed"
    TIMEOUT = "timeout", "Timed out"


class ScheduleType(models.TextChoices):
    CRONTAB = "crontab", "Crontab"
    INTERVAL = "interval", "Interval"


class MonitorQuerySet(models.QuerySet):
    def of_project(self, project):
        return self.filter(project=project).order_by("slug")

    def scheduled(self):
        """Those whose check-ins are expected (a schedule is known and one is due)."""
        return self.exclude(next_expected_at=None)


class Monitor(models.Model):
    """One scheduled job of a project, named by its slug as the SDK's `monitor_slug`."""

    project = models.ForeignKey(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="monitors"
    )
    slug = models.CharField(max_length=128)
    # From the check-ins' monitor_config (the last one that carried it); empty: not known yet.
    schedule_type = models.CharField(max_length=16, choices=ScheduleType.choices, blank=True)
    schedule_value = models.CharField(max_length=128, blank=True)  # crontab, or the interval
    schedule_unit = models.CharField(max_length=16, blank=True)  # interval: minute, hour, ...
    checkin_margin = models.PositiveIntegerField(null=True, blank=True)  # minutes
    max_runtime = models.PositiveIntegerField(null=True, blank=True)  # minutes
    timezone = models.CharField(max_length=64, default="UTC")
    status = models.CharField(max_length=16, choices=MonitorStatus.choices, default="ok")
    last_checkin_at = models.DateTimeField(null=True, blank=True)
    # When the next check-in is due (without the margin); None: no schedule known.
    next_expected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MonitorQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "slug"], name="bi_monitor_project_slug")
        ]
        indexes = [models.Index(fields=["next_expected_at"], name="bi_monitor_next")]

    def __str__(self):
        return self.slug


class CheckIn(models.Model):
    """One run of a monitored job (in_progress, then ok or error), or a miss the check found."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="check_ins")
    check_in_id = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=CheckInStatus.choices)
    started_at = models.DateTimeField()  # when it was received (a miss: the slot it missed)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)  # seconds, as the SDK reported it
    environment = models.CharField(max_length=64, blank=True)
    release = models.CharField(max_length=250, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["monitor", "check_in_id"], name="bi_checkin_id")
        ]
        indexes = [
            models.Index(fields=["monitor", "-started_at"], name="bi_checkin_recent"),
            models.Index(fields=["status"], name="bi_checkin_status"),
        ]

    def __str__(self):
        return f"{self.monitor_id}: {self.status}"


class MonitorCheckChain(models.Model):
    """The one live chain of the periodic monitor check (one row): its token, renewed by each link;
    a chain whose row went stale is replaced (monitors/tasks.py)."""

    token = models.CharField(max_length=32)
    renewed_at = models.DateTimeField()

    def __str__(self):
        return f"monitor check chain {self.token}"
