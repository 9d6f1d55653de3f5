"""What users do to issues: resolve, reopen, mute, unmute, delete, comment (and edit or delete
their own comments); one at a time or in bulk (one transaction for the lot).

Each takes `user` (None for the system) and an optional `comment`, locks the issue, writes an
IssueHistory row and sends its signal after commit.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bugsink_issues import signals
from bugsink_issues.lifecycle.history import record, send_on_commit
from bugsink_issues.lifecycle.mutes import MAX_MUTE_EVENT_COUNT, describe_window, unmute_in_place
from bugsink_issues.lifecycle.releases import latest_release, package_of
from bugsink_issues.models import Event, Issue, ProjectSettings
from bugsink_issues.models.issues import HistoryKind, IssueStatus

DELETE_CHUNK = 1000


def _locked(issue):
    pk = issue.pk if isinstance(issue, Issue) else issue
    return Issue.objects.select_for_update().get(pk=pk)


@transaction.atomic
def resolve(issue, *, user=None, comment="", in_release="", in_next_release=False):
    """Resolve now; or in a given release (its older releases don't regress it); or in the next
    release: the latest release of the issue's package now is the one NOT fixed, so its events
    don't regress it, later releases of that package do (lifecycle/releases.py)."""
    issue = _locked(issue)
    issue.clear_resolution()
    issue.clear_mute()
    issue.status = IssueStatus.RESOLVED
    issue.resolved_at = timezone.now()
    kind, reason = HistoryKind.RESOLVED, "resolved"
    if in_release:
        issue.resolved_in_release = in_release
        kind, reason = HistoryKind.RESOLVED_IN_RELEASE, f"resolved in release {in_release}"
    elif in_next_release:
        issue.resolve_in_next_release = True
        package = package_of(issue.last_release) if issue.last_release else None
        # "" (no release known): any release regresses, as after a plain resolve.
        issue.resolved_in_release = latest_release(issue.project_id, package) or ""
        kind = HistoryKind.RESOLVED_IN_NEXT_RELEASE
        reason = "resolved in the next release"
        if issue.resolved_in_release:
            reason += f" after {issue.resolved_in_release}"
    issue.save()
    record(
        issue, kind, user=user, reason=reason, comment=comment, release=issue.resolved_in_release
    )
    send_on_commit(signals.issue_resolved, issue, user=user, reason=reason)
    return issue


@transaction.atomic
def reopen(issue, *, user=None, comment=""):
    issue = _locked(issue)
    issue.clear_resolution()
    issue.clear_mute()
    issue.status = IssueStatus.UNRESOLVED
    issue.save()
    record(issue, HistoryKind.REOPENED, user=user, reason="reopened", comment=comment)
    send_on_commit(signals.issue_reopened, issue, user=user, reason="reopened")
    return issue


@transaction.atomic
def mute(
    issue,
    *,
    user=None,
    comment="",
    until=None,
    for_seconds=None,
    event_count=None,
    window_seconds=None,
):
    """Mute forever (no arguments), until a time (`until` or `for_seconds`), or until
    `event_count` events arrive within `window_seconds` (window None: ever)."""
    issue = _locked(issue)
    issue.clear_resolution()
    issue.clear_mute()
    now = timezone.now()
    if for_seconds:
        until = now + timedelta(seconds=for_seconds)
    issue.status = IssueStatus.MUTED
    issue.muted_at = now
    issue.muted_until = until
    reason = "muted forever"
    if until:
        reason = f"muted until {until:%Y-%m-%d %H:%M} UTC"
    if event_count:
        if not 1 <= event_count <= MAX_MUTE_EVENT_COUNT:
            raise ValueError(f"event_count must be between 1 and {MAX_MUTE_EVENT_COUNT}")
        issue.mute_until_event_count = event_count
        issue.mute_window_seconds = window_seconds
        if window_seconds:
            reason = f"muted until {event_count} events {describe_window(window_seconds)}"
        else:
            reason = f"muted until {event_count} more events"
    issue.save()
    record(issue, HistoryKind.MUTED, user=user, reason=reason, comment=comment)
    send_on_commit(signals.issue_muted, issue, user=user, reason=reason)
    return issue


@transaction.atomic
def unmute(issue, *, user=None, comment="", reason="unmuted", event_id=""):
    """Unmute by hand. Sends issue_unmuted with the user; alerts go out only for the unmutes the
    system makes (a mute condition met), not for this one: whoever unmuted knows."""
    issue = _locked(issue)
    if issue.status != IssueStatus.MUTED:
        return issue
    unmute_in_place(issue, user=user, comment=comment, reason=reason, event_id=event_id)
    issue.save()
    return issue


@transaction.atomic
def delete(issue, *, user=None, comment=""):
    """Delete an issue with its events; the project's stored-event count stays exact."""
    issue = _locked(issue)
    ProjectSettings.objects.filter(project_id=issue.project_id).update(
        stored_event_count=F("stored_event_count") - issue.stored_event_count
    )
    issue_id, project_id = issue.pk, issue.project_id
    # Events go first in chunks of ids: a plain cascade would load every event (payload and all).
    while ids := list(issue.events.values_list("id", flat=True)[:DELETE_CHUNK]):
        Event.objects.filter(id__in=ids).only("id").delete()
    issue.delete()
    transaction.on_commit(
        lambda: signals.issue_deleted.send(
            sender=Issue,
            issue=None,
            issue_id=issue_id,
            project_id=project_id,
            user=user,
            reason="deleted",
            comment=comment,
        )
    )


def comment(issue, text, *, user=None):
    """A comment in the issue's history (no state change, no signal)."""
    return record(issue, HistoryKind.COMMENT, user=user, comment=text)


class CommentError(ValueError):
    """This user may not change this comment (only its author, or a superuser, may)."""


def _own_comment(entry, user):
    if entry.kind != HistoryKind.COMMENT:
        raise CommentError("Only comments can be changed.")
    if user is None or not (user.is_superuser or entry.user_id == user.pk):
        raise CommentError("Only the author of a comment may change or delete it.")


def edit_comment(entry, text, *, user):
    """Replace the text of a comment (an IssueHistory row of kind comment) by its author."""
    _own_comment(entry, user)
    entry.comment = text
    entry.save(update_fields=["comment"])
    return entry


def delete_comment(entry, *, user):
    """Remove a comment from the issue's history, by its author."""
    _own_comment(entry, user)
    entry.delete()


def _bulk(action):
    def bulk(issues, **kwargs):
        with transaction.atomic():
            return [action(issue, **kwargs) for issue in list(issues)]

    bulk.__name__ = f"bulk_{action.__name__}"
    bulk.__doc__ = (
        f"{action.__name__} for each issue of a queryset or list, in one transaction: "
        "a failure on any issue leaves all of them as they were."
    )
    return bulk


bulk_resolve = _bulk(resolve)
bulk_reopen = _bulk(reopen)
bulk_mute = _bulk(mute)
bulk_unmute = _bulk(unmute)
bulk_delete = _bulk(delete)
