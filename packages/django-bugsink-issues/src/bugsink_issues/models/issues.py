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

    def assigned_to_user(self, user):
        """Assigned to `user` themselves, or to one of `user`'s teams (Sentry's `assigned:me`)."""
        from bugsink_issues.models.access import TeamMembership

        teams = TeamMembership.objects.filter(user=user).values("team_id")
        return self.filter(models.Q(assigned_user=user) | models.Q(assigned_team__in=teams))

    def with_short_id(self, short_id):
        """The issue named `short_id` (`WEB-101`: the project's slug upper-cased, its number),
        a queryset of at most one row; none for anything that is not a short id."""
        parsed = parse_short_id(short_id)
        if parsed is None:
            return self.none()
        slug, number = parsed
        return self.filter(project__slug__iexact=slug, number=number)


class IssueManager(models.Manager.from_queryset(IssueQuerySet)):  # type: ignore[misc]
    """The live issues: an issue merged into another stays as a row that points there
    (`merged_into`), so old links and ids still lead somewhere, but it is no issue any more."""

    def get_queryset(self):
        return super().get_queryset().filter(merged_into__isnull=True)


def parse_short_id(text):
    """(project slug, number) of a short id such as `WEB-101` or `MY-APP-7`, or None."""
    prefix, sep, number = str(text or "").strip().rpartition("-")
    if not sep or not prefix or not number.isdigit() or len(number) > 18:
        return None
    return prefix.lower(), int(number)


def short_id_of(project_slug, number):
    return f"{project_slug.upper()}-{number}"


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
    # The issue's number in its project, from 1 (WEB-101 is number 101 of project "web"): handed
    # out by ProjectSettings.objects.allocate_issue_numbers() and never reused, so a short id in a
    # link or a commit message keeps naming the same issue.
    number = models.PositiveIntegerField(default=0)
    # Who works on it: a user or a team (at most one of the two; see lifecycle.assign).
    assigned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_team = models.ForeignKey(
        "bugsink_issues.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when this issue was merged into another (lifecycle.merge): its events, keys and counts
    # moved there; the row stays so its id and short id lead to the issue it became.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    objects = IssueManager()
    # Merged issues too (to follow an old id to the issue it was merged into).
    including_merged = IssueQuerySet.as_manager()

    class Meta:
        indexes = [
            # merged_into in the status indexes: the manager's merged_into IS NULL is in every
            # list's query, so that counting a status's issues reads the index alone (5,000 open
            # issues: 7.6 -> 0.2 ms) and a page reads its rows in order.
            models.Index(
                fields=["project", "status", "merged_into", "-last_seen"],
                name="bi_issue_status_seen",
            ),
            models.Index(fields=["project", "-last_seen"], name="bi_issue_project_seen"),
            models.Index(fields=["project", "-first_seen"], name="bi_issue_project_first"),
            models.Index(fields=["project", "-event_count"], name="bi_issue_project_count"),
            # The other sorts within a status (the lists' default: the open ones), so that a page
            # sorted by events or by age reads its rows in order instead of sorting them all.
            models.Index(
                fields=["project", "status", "merged_into", "-event_count"],
                name="bi_issue_status_count",
            ),
            models.Index(
                fields=["project", "status", "merged_into", "-first_seen"],
                name="bi_issue_status_first",
            ),
        ]
        constraints = [
            # Numbered rows only: rows made before numbering (0) are numbered by the migration.
            models.UniqueConstraint(
                fields=["project", "number"],
                condition=models.Q(number__gt=0),
                name="bi_issue_project_number",
            ),
            models.CheckConstraint(
                condition=models.Q(assigned_user__isnull=True)
                | models.Q(assigned_team__isnull=True),
                name="bi_issue_one_assignee",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.number and self.project_id:
            from bugsink_issues.models.projects import ProjectSettings

            self.number = ProjectSettings.objects.allocate_issue_numbers(self.project_id, 1)[0]
        super().save(*args, **kwargs)

    @property
    def short_id(self):
        """`WEB-101`: what people write in commit messages and chats (Sentry's shortId)."""
        return short_id_of(self.project.slug, self.number)

    @property
    def assignee(self):
        """The user or team it is assigned to, or None."""
        return self.assigned_user or self.assigned_team

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
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    MERGED = "merged"  # other issues were merged into this one
    MERGED_INTO = "merged_into"  # this issue was merged into another


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
