from django.db import models, transaction

from bugsink_issues.conf import app_settings


class ProjectSettingsManager(models.Manager):
    def new_row_defaults(self):
        """What a new row starts with beyond the field defaults (the configured settings)."""
        return {"grouping_version": app_settings.GROUPING_VERSION}

    def for_project(self, project_id, *, lock=False):
        """The project's row, created with new_row_defaults() if it has none: the one place rows
        are made. `lock`: SELECT ... FOR UPDATE (serialises digests of a project on PostgreSQL;
        SQLite's write lock already does)."""
        row, _ = self.get_or_create(project_id=project_id, defaults=self.new_row_defaults())
        return self.select_for_update().get(pk=row.pk) if lock else row

    def allocate_issue_numbers(self, project_id, count):
        """The next `count` issue numbers of a project (a list), taken for good: a number is
        never handed out twice, even when its issue is deleted or merged away."""
        if count < 1:
            return []
        with transaction.atomic():
            row = self.for_project(project_id)
            # The UPDATE takes the row's write lock until commit: concurrent callers queue.
            self.filter(pk=row.pk).update(last_issue_number=models.F("last_issue_number") + count)
            last = self.filter(pk=row.pk).values_list("last_issue_number", flat=True).get()
        return list(range(last - count + 1, last + 1))

    def grouping_versions(self, project_ids):
        """{project id: grouping version} for each id, rows or not (a missing row means the
        configured default, which its row will get when it is made)."""
        project_ids = list(project_ids)
        known = dict(
            self.filter(project_id__in=project_ids).values_list("project_id", "grouping_version")
        )
        default = self.new_row_defaults()["grouping_version"]
        return {pid: known.get(pid, default) for pid in project_ids}


class ProjectSettings(models.Model):
    """Per-project knobs of the digest. Made by ProjectSettings.objects.for_project() only; a
    missing row means the defaults."""

    project = models.OneToOneField(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="issue_settings"
    )
    # Null falls back to BUGSINK_ISSUES_RETENTION_MAX_EVENTS / _MAX_AGE_DAYS.
    retention_max_events = models.PositiveIntegerField(null=True, blank=True)
    retention_max_age_days = models.PositiveIntegerField(null=True, blank=True)
    # New keys are computed with this version; keys of older versions still map to their issues.
    grouping_version = models.PositiveSmallIntegerField(default=1)
    alerts_enabled = models.BooleanField(default=True)
    # Null falls back to BUGSINK_ISSUES_ALERT_RATE_PER_PROJECT_PER_HOUR.
    alert_rate_per_hour = models.PositiveIntegerField(null=True, blank=True)
    # Kept exact by the digest and retention, so the cap check needs no COUNT(*).
    stored_event_count = models.PositiveBigIntegerField(default=0)
    last_age_sweep_at = models.DateTimeField(null=True, blank=True)
    # The last issue number handed out (Issue.number; allocate_issue_numbers()).
    last_issue_number = models.PositiveIntegerField(default=0)

    objects = ProjectSettingsManager()

    class Meta:
        verbose_name_plural = "project settings"

    def __str__(self):
        return f"settings of {self.project}"
