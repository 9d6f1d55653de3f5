from django.conf import settings
from django.db import models


class Level(models.TextChoices):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    FATAL = "fatal"


class IssueStatus(models.TextChoices):
    UNRESOLVED = "unresolved"
    RESOLVED = "resolved"
    MUTED = "muted"


class IssueQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The issues of the projects `user` may see (models.access.visible_projects)."""
        from bugsink_issues.models.access import visible_projects

        return self.filter(project__in=visible_projects(user).values("pk"))


class Issue(models.Model):
    """Events that share a grouping key; what users triage."""

    # db_index=False: every index below leads with the project.
    project = models.ForeignKey(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="issues", db_index=False
    )
    # The key the issue was created with (sha256 hex); all its keys are in Grouping, which is
    # where the digest looks keys up (so no index on this copy).
    grouping_key = models.CharField(max_length=64)
    title = models.CharField(max_length=255)
    culprit = models.CharField(max_length=255, blank=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.ERROR)
    platform = models.CharField(max_length=64, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    # Exact: every digested event counts; stored drops when retention evicts.
    event_count = models.PositiveBigIntegerField(default=0)
    stored_event_count = models.PositiveBigIntegerField(default=0)
    first_release = models.CharField(max_length=250, blank=True)
    last_release = models.CharField(max_length=250, blank=True)

    status = models.CharField(
        max_length=12, choices=IssueStatus.choices, default=IssueStatus.UNRESOLVED
    )
    # Resolution: in a given release, in the next release seen after resolving, or now.
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_in_release = models.CharField(max_length=250, blank=True)
    resolve_in_next_release = models.BooleanField(default=False)
    # Muting: forever (no condition), until a time, or until N events within a window.
    muted_at = models.DateTimeField(null=True, blank=True)
    muted_until = models.DateTimeField(null=True, blank=True)
    mute_until_event_count = models.PositiveIntegerField(null=True, blank=True)
    mute_window_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Recent event times while muted with a count condition (bounded list of epoch seconds).
    mute_window_hits = models.JSONField(default=list, blank=True)
    regression_count = models.PositiveIntegerField(default=0)
    last_regressed_at = models.DateTimeField(null=True, blank=True)

    objects = IssueQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["project", "status", "-last_seen"], name="bi_issue_status_seen"),
            models.Index(fields=["project", "-last_seen"], name="bi_issue_project_seen"),
            models.Index(fields=["project", "-first_seen"], name="bi_issue_project_first"),
            models.Index(fields=["project", "-event_count"], name="bi_issue_project_count"),
        ]

    def __str__(self):
        return self.title

    def clear_resolution(self):
        """Forget how the issue was resolved (the caller sets the new status and saves)."""
        self.resolved_at = None
        self.resolved_in_release = ""
        self.resolve_in_next_release = False

    def clear_mute(self):
        """Forget the mute and its condition (the caller sets the new status and saves)."""
        self.muted_at = None
        self.muted_until = None
        self.mute_until_event_count = None
        self.mute_window_seconds = None
        self.mute_window_hits = []


class Grouping(models.Model):
    """A grouping key and the parts it was hashed from, so the UI can explain the grouping."""

    # db_index=False: the unique (project, key) constraint leads with the project.
    project = models.ForeignKey("bugsink_ingest.Project", on_delete=models.CASCADE, db_index=False)
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="groupings")
    key = models.CharField(max_length=64)
    version = models.PositiveSmallIntegerField()
    # {"kind": "exception"|"message"|"fingerprint"|..., "parts": [...], "description": "..."}
    parts = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="bi_grouping_unique_key")
        ]

    def __str__(self):
        return f"{self.key[:12]} (v{self.version})"


class HistoryKind(models.TextChoices):
    CREATED = "created"
    RESOLVED = "resolved"
    RESOLVED_IN_RELEASE = "resolved_in_release"
    RESOLVED_IN_NEXT_RELEASE = "resolved_in_next_release"
    REOPENED = "reopened"
    REGRESSED = "regressed"
    MUTED = "muted"
    UNMUTED = "unmuted"
    COMMENT = "comment"


class IssueHistory(models.Model):
    """One state change of an issue: what, when, who (null for the system), why and a comment."""

    # db_index=False: bi_history_issue leads with it.
    issue = models.ForeignKey(
        Issue, on_delete=models.CASCADE, related_name="history", db_index=False
    )
    kind = models.CharField(max_length=32, choices=HistoryKind.choices)
    created_at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    comment = models.TextField(blank=True)
    release = models.CharField(max_length=250, blank=True)
    # The event that caused it (regressions, unmutes, creation); kept by retention.
    event_id = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["issue", "created_at"], name="bi_history_issue")]
        verbose_name_plural = "issue history"

    def __str__(self):
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M}"
