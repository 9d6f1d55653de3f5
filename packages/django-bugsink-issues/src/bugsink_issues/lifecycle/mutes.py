"""Mute conditions: until a time, or until N events within a window; unmuting when one is met."""

from django.utils import timezone

from bugsink_issues import signals
from bugsink_issues.lifecycle.history import record, send_on_commit
from bugsink_issues.models import Issue
from bugsink_issues.models.issues import HistoryKind, IssueStatus

MAX_MUTE_EVENT_COUNT = 1_000_000
WINDOW_NAMES = {3600: "an hour", 86400: "a day", 7 * 86400: "a week"}


def describe_window(seconds):
    """ "within an hour", "within 90 s": a mute window as people say it."""
    return f"within {WINDOW_NAMES.get(seconds) or f'{seconds} s'}"


def describe_condition(issue):
    """ "until 10 more events (3 so far)", "until 5 events within an hour": a muted issue's event
    condition, or ""."""
    count, window = issue.mute_until_event_count, issue.mute_window_seconds
    if not count:
        return ""
    if window:
        return f"until {count} events {describe_window(window)}"
    buckets = [b for b in issue.mute_window_hits if isinstance(b, list) and len(b) == 2]
    hits = sum(b[1] for b in buckets if isinstance(b[1], int))
    return f"until {count} more events" + (f" ({hits} so far)" if hits else "")


def unmute_in_place(issue, *, user=None, comment="", reason="", event_id="", at=None):
    """Unmute a locked issue (the caller saves it), with its history row and signal."""
    issue.clear_mute()
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


def check_unmute(issue, *, now, event_id):
    """One more event for a muted issue: unmute it if its condition is met. True if unmuted."""
    if issue.muted_until and now >= issue.muted_until:
        unmute_in_place(issue, reason="the mute period ended", event_id=event_id, at=now)
        return True
    if issue.mute_until_event_count:
        hits = count_in_window(issue, now.timestamp())
        if hits >= issue.mute_until_event_count:
            window = issue.mute_window_seconds
            reason = f"{issue.mute_until_event_count} events"
            reason += f" {describe_window(window)}" if window else " since muted"
            unmute_in_place(issue, reason=reason, event_id=event_id, at=now)
            return True
    return False


def count_in_window(issue, stamp):
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
        unmute_in_place(issue, reason="the mute period ended", at=now)
        issue.save()
