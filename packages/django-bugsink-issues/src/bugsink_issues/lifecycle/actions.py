"""Issue states and their changes: resolve, reopen, mute, unmute, delete, regressions.

Every change writes an IssueHistory row and sends its signal after commit. The functions the UI
calls take `user` (None for the system) and an optional `comment`; bulk variants take a queryset or
a list of issues and apply the change to each.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bugsink_issues import signals
from bugsink_issues.lifecycle.releases import latest_release, release_orders
from bugsink_issues.models import Event, Issue, IssueHistory, ProjectSettings
from bugsink_issues.models.issues import HistoryKind, IssueStatus

MAX_MUTE_EVENT_COUNT = 1_000_000
DELETE_CHUNK = 1000


def send_on_commit(signal, issue, **kwargs):
    transaction.on_commit(lambda: signal.send(sender=Issue, issue=issue, **kwargs))


def record(issue, kind, *, user=None, reason="", comment="", release="", event_id="", at=None):
    return IssueHistory.objects.create(
        issue=issue,
        kind=kind,
        created_at=at or timezone.now(),
        user=user if user is not None and getattr(user, "pk", None) else None,
        reason=reason[:255],
        comment=comment or "",
        release=release[:250],
        event_id=event_id,
    )


def _clear_resolution(issue):
    issue.resolved_at = None
    issue.resolved_in_release = ""
    issue.resolve_in_next_release = False


def _clear_mute(issue):
    issue.muted_at = None
    issue.muted_until = None
    issue.mute_until_event_count = None
    issue.mute_window_seconds = None
    issue.mute_window_hits = []


# --- the UI's actions ------------------------------------------------------------------------


@transaction.atomic
def resolve(issue, *, user=None, comment="", in_release="", in_next_release=False):
    """Resolve now; or in a given release (older releases don't regress it); or in the next release
    (events of the release that is current now don't regress it)."""
    issue = _locked(issue)
    _clear_resolution(issue)
    _clear_mute(issue)
    issue.status = IssueStatus.RESOLVED
    issue.resolved_at = timezone.now()
    kind, reason = HistoryKind.RESOLVED, "resolved"
    if in_release:
        issue.resolved_in_release = in_release
        kind, reason = HistoryKind.RESOLVED_IN_RELEASE, f"resolved in release {in_release}"
    elif in_next_release:
        issue.resolve_in_next_release = True
        # The release that is current now is the one NOT fixed; "" = any release regresses.
        issue.resolved_in_release = latest_release(issue.project_id) or ""
        kind, reason = HistoryKind.RESOLVED_IN_NEXT_RELEASE, "resolved in the next release"
    issue.save()
    record(issue, kind, user=user, reason=reason, comment=comment, release=in_release)
    send_on_commit(signals.issue_resolved, issue, user=user, reason=reason)
    return issue


@transaction.atomic
def reopen(issue, *, user=None, comment=""):
    issue = _locked(issue)
    _clear_resolution(issue)
    _clear_mute(issue)
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
    _clear_resolution(issue)
    _clear_mute(issue)
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
        window = f" within {window_seconds} s" if window_seconds else ""
        reason = f"muted until {event_count} events{window}"
    issue.save()
    record(issue, HistoryKind.MUTED, user=user, reason=reason, comment=comment)
    send_on_commit(signals.issue_muted, issue, user=user, reason=reason)
    return issue


@transaction.atomic
def unmute(issue, *, user=None, comment="", reason="unmuted", event_id=""):
    issue = _locked(issue)
    if issue.status != IssueStatus.MUTED:
        return issue
    _unmute_in_place(issue, user=user, comment=comment, reason=reason, event_id=event_id)
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


def _bulk(action):
    def bulk(issues, **kwargs):
        with transaction.atomic():
            return [action(issue, **kwargs) for issue in list(issues)]

    bulk.__name__ = f"bulk_{action.__name__}"
    bulk.__doc__ = f"{action.__name__} for each issue of a queryset or list, in one transaction."
    return bulk


bulk_resolve = _bulk(resolve)
bulk_reopen = _bulk(reopen)
bulk_mute = _bulk(mute)
bulk_unmute = _bulk(unmute)
bulk_delete = _bulk(delete)


def _locked(issue):
    pk = issue.pk if isinstance(issue, Issue) else issue
    return Issue.objects.select_for_update().get(pk=pk)


def _unmute_in_place(issue, *, user=None, comment="", reason="", event_id="", at=None):
    _clear_mute(issue)
    issue.status = IssueStatus.UNRESOLVED
    record(
        issue,
        HistoryKind.UNMUTED,
        user=user,
        reason=reason,
        comment=comment,
        event_id=event_id,
        at=at,
    )
    send_on_commit(signals.issue_unmuted, issue, user=user, reason=reason, event_id=event_id)


# --- what the digest asks for each new event -------------------------------------------------


def is_regression(issue, release, orders):
    """Does an event of `release` reopen this resolved issue?"""
    if not issue.resolved_in_release:
        return True  # plain resolve: anything new is a regression
    if not release:
        return True  # can't tell the release: be loud rather than silent
    if issue.resolved_in_release not in orders:  # the batch's orders cover its own releases only
        orders.update(release_orders(issue.project_id, [issue.resolved_in_release]))
    fixed = orders.get(issue.resolved_in_release)
    seen = orders.get(release)
    if fixed is None or seen is None:
        return True
    # Resolved in X: X and later regress. Resolved in the next release after X: later than X only.
    return seen > fixed if issue.resolve_in_next_release else seen >= fixed


def apply_event(issue, *, release, timestamp, now, event_id, orders):
    """Update the issue's state for one incoming event. Returns True if the state changed (the
    event is then kept by retention)."""
    if issue.status == IssueStatus.RESOLVED and is_regression(issue, release, orders):
        reason = f"new event in release {release}" if release else "new event after resolve"
        _clear_resolution(issue)
        issue.status = IssueStatus.UNRESOLVED
        issue.regression_count += 1
        issue.last_regressed_at = now
        record(
            issue, HistoryKind.REGRESSED, reason=reason, release=release, event_id=event_id, at=now
        )
        send_on_commit(signals.issue_regressed, issue, user=None, reason=reason, event_id=event_id)
        return True
    if issue.status == IssueStatus.MUTED:
        return _check_unmute(issue, now=now, event_id=event_id)
    return False


def _check_unmute(issue, *, now, event_id):
    if issue.muted_until and now >= issue.muted_until:
        _unmute_in_place(issue, reason="the mute period ended", event_id=event_id, at=now)
        return True
    if issue.mute_until_event_count:
        hits = _count_in_window(issue, now.timestamp())
        if hits >= issue.mute_until_event_count:
            window = f" within {issue.mute_window_seconds} s" if issue.mute_window_seconds else ""
            reason = f"{issue.mute_until_event_count} events{window}"
            _unmute_in_place(issue, reason=reason, event_id=event_id, at=now)
            return True
    return False


def _count_in_window(issue, stamp):
    """Add one event to the issue's window counter and return the count within the window.

    The window is kept as at most ~60 [bucket_start, count] pairs (bucket = window / 60), so the
    state stays small whatever N is; the window edge is exact to one bucket.
    """
    window = issue.mute_window_seconds
    bucket_size = max(1, window // 60) if window else None
    start = int(stamp // bucket_size * bucket_size) if bucket_size else 0
    buckets = [b for b in issue.mute_window_hits if isinstance(b, list) and len(b) == 2]
    if window:
        buckets = [b for b in buckets if b[0] > stamp - window]
    if buckets and buckets[-1][0] == start:
        buckets[-1][1] += 1
    else:
        buckets.append([start, 1])
    issue.mute_window_hits = buckets
    return sum(count for _, count in buckets)


def unmute_expired(project_id, now=None):
    """Unmute issues whose mute period ended without new events (called by the digest)."""
    now = now or timezone.now()
    for issue in Issue.objects.select_for_update().filter(
        project_id=project_id, status=IssueStatus.MUTED, muted_until__lte=now
    )[:500]:
        _unmute_in_place(issue, reason="the mute period ended", at=now)
        issue.save()


__all__ = [
    "bulk_delete",
    "bulk_mute",
    "bulk_reopen",
    "bulk_resolve",
    "bulk_unmute",
    "delete",
    "mute",
    "reopen",
    "resolve",
    "unmute",
]
