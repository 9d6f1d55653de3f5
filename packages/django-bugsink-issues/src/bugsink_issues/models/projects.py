from django.db import models


class ProjectSettings(models.Model):
    """Per-project knobs of the digest. Created on demand; a missing row means the defaults."""

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

    class Meta:
        verbose_name_plural = "project settings"

    def __str__(self):
        return f"settings of {self.project}"
