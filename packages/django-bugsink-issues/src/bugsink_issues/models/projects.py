from typing import NamedTuple

from django.db import models, transaction

from bugsink_issues.conf import app_settings
from bugsink_issues.scrubbing import ScrubbingConfig


class DigestOptions(NamedTuple):
    """What the digest's CPU phase needs of a project's settings."""

    grouping_version: int
    scrubbing: ScrubbingConfig


class ProjectSettingsManager(models.Manager["ProjectSettings"]):
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

    def digest_options(self, project_ids) -> dict[int, DigestOptions]:
        """{project id: DigestOptions} for each id, rows or not (a missing row means the defaults
        its row will get when it is made)."""
        project_ids = list(project_ids)
        rows = {
            row.project_id: row
            for row in self.filter(project_id__in=project_ids).only(
                "project_id", "grouping_version", *SCRUBBING_FIELDS
            )
        }
        default = self.model(**self.new_row_defaults())
        return {pid: rows.get(pid, default).digest_options() for pid in project_ids}


SCRUBBING_FIELDS = ("scrub_data", "scrub_ip_addresses", "scrub_extra_fields", "scrub_safe_fields")


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
    grouping_version = models.PositiveSmallIntegerField(
        default=1,
        help_text="1: exception type and in-app frames (module, function). 2: also each in-app "
        "frame's source line, and frames of the SDK itself never count. Moving up keeps existing "
        "issues: their events still join them.",
    )
    alerts_enabled = models.BooleanField(default=True)
    # Null falls back to BUGSINK_ISSUES_ALERT_RATE_PER_PROJECT_PER_HOUR.
    alert_rate_per_hour = models.PositiveIntegerField(null=True, blank=True)
    # Kept exact by the digest and retention, so the cap check needs no COUNT(*).
    stored_event_count = models.PositiveBigIntegerField(default=0)
    last_age_sweep_at = models.DateTimeField(null=True, blank=True)
    # The last issue number handed out (Issue.number; allocate_issue_numbers()).
    last_issue_number = models.PositiveIntegerField(default=0)
    # Server-side data scrubbing (bugsink_issues.scrubbing), before an event is stored.
    scrub_data = models.BooleanField(
        "scrub sensitive data",
        default=True,
        help_text="Replace passwords, tokens, secrets, cookies, Authorization headers and card "
        "numbers by [Filtered] before events are stored.",
    )
    scrub_ip_addresses = models.BooleanField(
        "scrub IP addresses",
        default=False,
        help_text="Also remove the user's IP address and the client address headers.",
    )
    scrub_extra_fields = models.TextField(
        "additional sensitive fields",
        blank=True,
        default="",
        help_text="One per line or comma-separated: keys containing one are scrubbed, and so is "
        "every value that contains one.",
    )
    scrub_safe_fields = models.TextField(
        "safe fields",
        blank=True,
        default="",
        help_text="One per line or comma-separated: keys with exactly this name are never "
        "scrubbed, nor anything under them.",
    )

    objects = ProjectSettingsManager()

    class Meta:
        verbose_name_plural = "project settings"

    def __str__(self):
        return f"settings of {self.project}"

    def scrubbing_config(self) -> ScrubbingConfig:
        if not self.scrub_data:
            return ScrubbingConfig(enabled=False)
        return ScrubbingConfig.from_settings(
            self.scrub_data,
            self.scrub_ip_addresses,
            self.scrub_extra_fields,
            self.scrub_safe_fields,
        )

    def digest_options(self) -> DigestOptions:
        return DigestOptions(self.grouping_version, self.scrubbing_config())
