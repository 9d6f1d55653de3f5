"""Issue states and their changes.

actions.py: what users do (resolve, reopen, mute, unmute, delete, comment, and bulk variants;
an author edits or deletes their comment).
assignment.py: who works on an issue (a user or a team). merging.py: several issues become one.
regressions.py and mutes.py: what each new event does to its issue (the digest asks them).
releases.py: release order. retention.py and tasks.py: the per-project caps on stored events.
history.py: the IssueHistory row and the after-commit signal every change writes.
"""

from bugsink_issues.lifecycle.actions import (
    CommentError,
    bulk_delete,
    bulk_mute,
    bulk_reopen,
    bulk_resolve,
    bulk_unmute,
    comment,
    delete,
    delete_comment,
    edit_comment,
    mute,
    reopen,
    resolve,
    unmute,
)
from bugsink_issues.lifecycle.assignment import AssignmentError, assign
from bugsink_issues.lifecycle.merging import MergeError, merge

__all__ = [
    "AssignmentError",
    "CommentError",
    "MergeError",
    "assign",
    "bulk_delete",
    "bulk_mute",
    "bulk_reopen",
    "bulk_resolve",
    "bulk_unmute",
    "comment",
    "delete",
    "delete_comment",
    "edit_comment",
    "merge",
    "mute",
    "reopen",
    "resolve",
    "unmute",
]
