"""Issues ("groups" in Sentry's words), their status as Sentry names it, and the requests that change
them.

Sentry's status words map onto ours: unresolved = unresolved, resolved = resolved (with
`statusDetails` inRelease / inNextRelease), ignored = muted (with ignoreUntil / ignoreCount and
ignoreWindow). `IssuePage` loads what a page of issues needs beyond their rows (stats, user counts,
comment counts, what the caller has seen) in a few queries for the whole page.
"""

from datetime import datetime, timedelta
from typing import Any, Literal

from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import slugify
from ninja import Field, Schema

from bugsink_issues.api.schemas.answers import Answer
from bugsink_issues.api.schemas.users import UserOut, user_out
from bugsink_issues.api.stats import issue_stats
from bugsink_issues.models import IssueHistory, IssueSeen, IssueTagValue, Release, UserFeedback
from bugsink_issues.models.issues import HistoryKind, IssueStatus

__all__ = [
    "ActivityOut",
    "AssigneeOut",
    "IssueDetailOut",
    "IssueOut",
    "IssuePage",
    "IssueProjectOut",
    "IssueUpdateIn",
    "IssueUpdateOut",
    "ReleaseSummaryOut",
    "StatusDetailsIn",
    "sentry_status",
]

SENTRY_STATUSES = {
    IssueStatus.UNRESOLVED: "unresolved",
    IssueStatus.RESOLVED: "resolved",
    IssueStatus.MUTED: "ignored",
}
# IssueHistory kinds as Sentry's activity types.
ACTIVITY_TYPES = {
    HistoryKind.CREATED: "first_seen",
    HistoryKind.RESOLVED: "set_resolved",
    HistoryKind.RESOLVED_IN_RELEASE: "set_resolved_in_release",
    HistoryKind.RESOLVED_IN_NEXT_RELEASE: "set_resolved_in_release",
    HistoryKind.REOPENED: "set_unresolved",
    HistoryKind.REGRESSED: "set_regression",
    HistoryKind.MUTED: "set_ignored",
    HistoryKind.UNMUTED: "set_unresolved",
    HistoryKind.COMMENT: "note",
    HistoryKind.ASSIGNED: "assigned",
    HistoryKind.UNASSIGNED: "unassigned",
    HistoryKind.MERGED: "merge",
    HistoryKind.MERGED_INTO: "merge",
}
NEW_FOR = timedelta(days=3)
REGRESSED_FOR = timedelta(days=7)
ACTIVITY_SHOWN = 100


class IssueProjectOut(Answer):
    id: str
    name: str
    slug: str
    platform: str | None


class AssigneeOut(Answer):
    type: Literal["user", "team"]
    id: str
    name: str
    email: str | None = None


class IssueMetadata(Answer):
    title: str
    type: str | None = None
    value: str | None = None


class ReleaseSummaryOut(Answer):
    version: str
    shortVersion: str
    dateCreated: datetime
    dateReleased: datetime | None
    firstEvent: datetime | None
    lastEvent: datetime | None


class IssueOut(Answer):
    """An issue as the lists show it (Sentry's issue list items)."""

    id: str
    shortId: str = Field(description="The project's slug upper-cased, a dash, the issue number.")
    title: str
    culprit: str
    permalink: str = Field(description="The issue's page in the UI.")
    logger: str | None
    level: str
    status: Literal["unresolved", "resolved", "ignored"]
    statusDetails: dict[str, Any] = Field(
        description="Resolved: inRelease (a version) or inNextRelease (true); ignored: "
        "ignoreUntil (a time), or ignoreCount with ignoreWindow (minutes, null for ever); "
        "empty otherwise."
    )
    substatus: str | None = Field(
        description="unresolved: new, ongoing or regressed; ignored: archived_forever or "
        "archived_until_condition_met; null when resolved."
    )
    isPublic: bool
    platform: str | None
    project: IssueProjectOut
    type: str
    issueType: str
    issueCategory: str
    metadata: IssueMetadata
    numComments: int
    assignedTo: AssigneeOut | None
    isBookmarked: bool
    isSubscribed: bool
    subscriptionDetails: dict[str, Any] | None
    hasSeen: bool
    annotations: list[str]
    isUnhandled: bool
    count: str = Field(description="Events seen, all of them (retention keeps fewer).")
    userCount: int = Field(description="Distinct users of its events (by the `user` tag).")
    firstSeen: datetime
    lastSeen: datetime
    stats: dict[str, list[tuple[int, int]]] | None = Field(
        description="Events per bucket, oldest first: '24h' (hours) or '14d' (days); "
        "[unix time of the bucket's start, events]."
    )


class ActivityOut(Answer):
    id: str
    type: str
    data: dict[str, Any]
    dateCreated: datetime
    user: UserOut | None


class TagSummaryOut(Answer):
    key: str
    name: str
    totalValues: int


class IssueDetailOut(IssueOut):
    """The issue page's answer: the list fields, and its history, releases and tag keys."""

    activity: list[ActivityOut]
    seenBy: list[UserOut]
    participants: list[UserOut]
    firstRelease: ReleaseSummaryOut | None
    lastRelease: ReleaseSummaryOut | None
    tags: list[TagSummaryOut]
    userReportCount: int
    shareId: str | None
    pluginActions: list[Any]
    pluginContexts: list[Any]
    pluginIssues: list[Any]


class StatusDetailsIn(Schema):
    inRelease: str | None = Field(None, description="A version, or 'latest'.")
    inNextRelease: bool | None = None
    inCommit: Any = None
    ignoreDuration: int | None = Field(None, description="Minutes.")
    ignoreCount: int | None = Field(None, description="Events before it is unignored.")
    ignoreWindow: int | None = Field(None, description="Minutes ignoreCount is counted in.")
    ignoreUserCount: int | None = None
    ignoreUserWindow: int | None = None
    ignoreUntilEscalating: bool | None = None


class IssueUpdateIn(Schema):
    """The body of PUT .../issues/ and .../issues/{id}/: only what is sent changes."""

    status: (
        Literal["resolved", "resolvedInNextRelease", "unresolved", "ignored", "muted"] | None
    ) = Field(None, description="'muted' is the older name of 'ignored' (sentry-cli sends it).")
    substatus: str | None = None
    statusDetails: StatusDetailsIn | None = None
    ignoreDuration: int | None = Field(None, description="Minutes (as statusDetails').")
    snoozeDuration: int | None = Field(None, description="Minutes: the older ignoreDuration.")
    assignedTo: str | None = Field(
        None,
        description="'user:<id>', 'team:<id>', a username, an e-mail, '#<team slug>'; "
        "'' or null unassigns.",
    )
    hasSeen: bool | None = None
    isBookmarked: bool | None = None
    isSubscribed: bool | None = None
    isPublic: bool | None = None
    merge: bool | None = Field(None, description="Merge the issues named by `id` into one.")
    discard: bool | None = None


class MergeOut(Answer):
    parent: str
    children: list[str]


class IssueUpdateOut(Answer):
    """What a bulk update changed, in the request's own terms."""

    status: str | None = None
    statusDetails: dict[str, Any] | None = None
    substatus: str | None = None
    assignedTo: AssigneeOut | None = None
    hasSeen: bool | None = None
    merge: MergeOut | None = None


def sentry_status(issue, now=None):
    """(status, substatus, statusDetails) of an issue in Sentry's words."""
    now = now or timezone.now()
    if issue.status == IssueStatus.RESOLVED:
        if issue.resolve_in_next_release:
            return "resolved", None, {"inNextRelease": True}
        if issue.resolved_in_release:
            return "resolved", None, {"inRelease": issue.resolved_in_release}
        return "resolved", None, {}
    if issue.status == IssueStatus.MUTED:
        details: dict[str, Any] = {}
        if issue.muted_until:
            details["ignoreUntil"] = issue.muted_until
        if issue.mute_until_event_count:
            details["ignoreCount"] = issue.mute_until_event_count
            window = issue.mute_window_seconds
            details["ignoreWindow"] = window // 60 if window else None
        substatus = "archived_until_condition_met" if details else "archived_forever"
        return "ignored", substatus, details
    if (
        issue.regression_count
        and issue.last_regressed_at
        and now - issue.last_regressed_at < REGRESSED_FOR
    ):
        return "unresolved", "regressed", {}
    if now - issue.first_seen < NEW_FOR:
        return "unresolved", "new", {}
    return "unresolved", "ongoing", {}


def assignee_out(issue):
    """The assignee of an issue (assigned_user / assigned_team loaded) as Sentry's actor."""
    if issue.assigned_user_id:
        user = issue.assigned_user
        return {
            "type": "user",
            "id": str(user.pk),
            "name": user.get_full_name() or user.get_username(),
            "email": getattr(user, "email", "") or None,
        }
    if issue.assigned_team_id:
        team = issue.assigned_team
        return {"type": "team", "id": str(team.pk), "name": slugify(team.name) or str(team.pk)}
    return None


def _metadata(issue):
    # The title is "<Type>: <value>" for exceptions (digest/summary.py); a type has no spaces.
    head, sep, rest = issue.title.partition(": ")
    if sep and head and " " not in head:
        return {"title": issue.title, "type": head, "value": rest}
    return {"title": issue.title, "type": None, "value": None}


def _permalink_base(base_url):
    try:
        return base_url + reverse("bugsink_issues:issue", args=[0]).removesuffix("0/")
    except NoReverseMatch:  # a host that mounts the API without the UI
        return base_url + "/issues/"


def release_summary(release):
    if release is None:
        return None
    version = release.version
    return {
        "version": version,
        "shortVersion": version[:12] if len(version) == 40 else version,
        "dateCreated": release.first_seen,
        "dateReleased": None,
        "firstEvent": release.first_seen,
        "lastEvent": release.last_seen,
    }


class IssuePage:
    """The answers for a page of issues (select_related project, assigned_user, assigned_team),
    with what they need beyond their rows loaded once for the page.

    stats_period: "24h", "14d", "30d" or "" (no stats)."""

    def __init__(self, issues, *, principal, base_url, stats_period="24h"):
        self.issues = list(issues)
        self.principal = principal
        self.now = timezone.now()
        self.permalink_base = _permalink_base(base_url)
        ids = [issue.pk for issue in self.issues]
        self.stats_period = stats_period
        self.stats = issue_stats(ids, stats_period, self.now) if stats_period and ids else {}
        self.user_counts = dict(
            IssueTagValue.objects.filter(issue_id__in=ids, key="user")
            .values_list("issue_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        self.comment_counts = dict(
            IssueHistory.objects.filter(issue_id__in=ids, kind=HistoryKind.COMMENT)
            .values_list("issue_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        user = principal.user
        self.seen = (
            dict(
                IssueSeen.objects.filter(issue_id__in=ids, user=user).values_list(
                    "issue_id", "last_seen_at"
                )
            )
            if user is not None
            else {}
        )

    def out(self, issue):
        """The list answer of one issue of the page (a dict, validated as IssueOut)."""
        status, substatus, details = sentry_status(issue, self.now)
        project = issue.project
        seen_at = self.seen.get(issue.pk)
        return {
            "id": str(issue.pk),
            "shortId": issue.short_id,
            "title": issue.title,
            "culprit": issue.culprit,
            "permalink": f"{self.permalink_base}{issue.pk}/",
            "logger": None,
            "level": issue.level,
            "status": status,
            "statusDetails": details,
            "substatus": substatus,
            "isPublic": False,
            "platform": issue.platform or None,
            "project": {
                "id": str(project.pk),
                "name": project.name,
                "slug": project.slug,
                "platform": None,
            },
            "type": "error",
            "issueType": "error",
            "issueCategory": "error",
            "metadata": _metadata(issue),
            "numComments": self.comment_counts.get(issue.pk, 0),
            "assignedTo": assignee_out(issue),
            "isBookmarked": False,
            "isSubscribed": False,
            "subscriptionDetails": None,
            "hasSeen": seen_at is not None and seen_at >= issue.last_seen,
            "annotations": [],
            "isUnhandled": False,
            "count": str(issue.event_count),
            "userCount": self.user_counts.get(issue.pk, 0),
            "firstSeen": issue.first_seen,
            "lastSeen": issue.last_seen,
            "stats": {self.stats_period: self.stats[issue.pk]} if self.stats else None,
        }

    def outs(self):
        return [self.out(issue) for issue in self.issues]

    def detail(self, issue):
        """The detail answer of one issue of this page (history, releases, tag keys)."""
        history = list(
            issue.history.select_related("user").order_by("-created_at", "-id")[:ACTIVITY_SHOWN]
        )
        releases = {
            r.version: r
            for r in Release.objects.filter(
                project_id=issue.project_id,
                version__in=[v for v in (issue.first_release, issue.last_release) if v],
            )
        }
        tag_keys = (
            IssueTagValue.objects.filter(issue=issue)
            .values_list("key")
            .annotate(n=Count("id"))
            .order_by("key")
        )
        seen_by = (
            IssueSeen.objects.filter(issue=issue)
            .select_related("user")
            .order_by("-last_seen_at")[:50]
        )
        participants = {h.user_id: h.user for h in history if h.user_id}
        if issue.assigned_user_id:
            participants[issue.assigned_user_id] = issue.assigned_user
        return {
            **self.out(issue),
            "activity": [activity_out(h) for h in history],
            "seenBy": [user_out(s.user) for s in seen_by],
            "participants": [user_out(u) for u in participants.values()],
            "firstRelease": release_summary(releases.get(issue.first_release)),
            "lastRelease": release_summary(releases.get(issue.last_release)),
            "tags": [{"key": k, "name": tag_name(k), "totalValues": n} for k, n in tag_keys],
            "userReportCount": UserFeedback.objects.filter(issue=issue).count(),
            "shareId": None,
            "pluginActions": [],
            "pluginContexts": [],
            "pluginIssues": [],
        }


def tag_name(key):
    """A tag key as Sentry titles it ("browser" -> "Browser")."""
    return key.replace("_", " ").replace(".", " ").title()


def activity_out(entry):
    data: dict[str, Any] = {}
    if entry.kind == HistoryKind.COMMENT:
        data["text"] = entry.comment
    elif entry.comment:
        data["comment"] = entry.comment
    if entry.release:
        data["version"] = entry.release
    if entry.reason:
        data["reason"] = entry.reason
    if entry.event_id:
        data["eventId"] = entry.event_id
    return {
        "id": str(entry.pk),
        "type": ACTIVITY_TYPES.get(entry.kind, entry.kind),
        "data": data,
        "dateCreated": entry.created_at,
        "user": user_out(entry.user) if entry.user_id else None,
    }
