"""What one new event does to its issue's state: reopen a resolved issue (a regression, aware of
releases) or count towards a muted issue's unmute condition."""

from bugsink_issues import signals
from bugsink_issues.lifecycle.history import record, send_on_commit
from bugsink_issues.lifecycle.mutes import check_unmute
from bugsink_issues.lifecycle.releases import is_later, release_orders
from bugsink_issues.models.issues import HistoryKind, IssueStatus


def is_regression(issue, release, orders):
    """Does an event of `release` reopen this resolved issue? `orders`: release_orders() of the
    batch's releases (the fixed release is added to it)."""
    if not issue.resolved_in_release:
        return True  # plain resolve: anything new is a regression
    if not release:
        return True  # can't tell the release: be loud rather than silent
    if issue.resolved_in_release not in orders:  # the batch's orders cover its own releases only
        orders.update(release_orders(issue.project_id, [issue.resolved_in_release]))
    if release == issue.resolved_in_release:
        # Resolved in X: X itself regresses. In the next release after X: X still runs somewhere.
        return not issue.resolve_in_next_release
    later = is_later(release, issue.resolved_in_release, orders)
    # None: another package's release, or an unknown one, says nothing about the fix: be loud.
    return True if later is None else later


def apply_event(issue, *, release, now, event_id, orders):
    """Update the issue's state for one incoming event. Returns True if the state changed (the
    event is then kept by retention)."""
    if issue.status == IssueStatus.RESOLVED and is_regression(issue, release, orders):
        reason = f"new event in release {release}" if release else "new event after resolve"
        issue.clear_resolution()
        issue.status = IssueStatus.UNRESOLVED
        issue.regression_count += 1
        issue.last_regressed_at = now
        record(
            issue, HistoryKind.REGRESSED, reason=reason, release=release, event_id=event_id, at=now
        )
        send_on_commit(signals.issue_regressed, issue, user=None, reason=reason, event_id=event_id)
        return True
    if issue.status == IssueStatus.MUTED:
        return check_unmute(issue, now=now, event_id=event_id)
    return False
