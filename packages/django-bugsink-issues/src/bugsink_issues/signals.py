"""Domain events, sent after the transaction that caused them commits.

Every signal is sent with sender=Issue and keyword arguments `issue`, `user` (None when the system
acted), `reason` and, where an event caused it, `event_id`.
"""

from django.dispatch import Signal

issue_created = Signal()
issue_regressed = Signal()
issue_unmuted = Signal()
issue_resolved = Signal()
issue_reopened = Signal()
issue_muted = Signal()
issue_deleted = Signal()  # sent with `issue_id` and `project_id` instead of a live issue
issue_assigned = Signal()  # also `assignee`: the user or team, None when unassigned
issue_merged = Signal()  # `issue` is the target; also `merged_ids`: the ids merged into it
# User feedback was stored: sent with sender=UserFeedback and `feedback` (the row; its issue is
# set when the event it names is stored already).
feedback_received = Signal()

__all__ = [
    "feedback_received",
    "issue_assigned",
    "issue_created",
    "issue_deleted",
    "issue_merged",
    "issue_muted",
    "issue_regressed",
    "issue_reopened",
    "issue_resolved",
    "issue_unmuted",
]
