"""Issue states and their changes.

actions.py: what users do (resolve, reopen, mute, unmute, delete, comment, and bulk variants).
regressions.py and mutes.py: what each new event does to its issue (the digest asks them).
releases.py: release order. retention.py and tasks.py: the per-project caps on stored events.
history.py: the IssueHistory row and the after-commit signal every change writes.
"""

from bugsink_issues.lifecycle.actions import (
    bulk_delete,
    bulk_mute,
    bulk_reopen,
    bulk_resolve,
    bulk_unmute,
    comment,
    delete,
    mute,
    reopen,
    resolve,
    unmute,
)

__all__ = [
    "bulk_delete",
    "bulk_mute",
    "bulk_reopen",
    "bulk_resolve",
    "bulk_unmute",
    "comment",
    "delete",
    "mute",
    "reopen",
    "resolve",
    "unmute",
]
