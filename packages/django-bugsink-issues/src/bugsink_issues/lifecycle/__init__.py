"""Issue states and their changes: resolve, reopen, mute, unmute, delete, regressions, releases and
retention."""

from bugsink_issues.lifecycle.actions import (
    apply_event,
    bulk_delete,
    bulk_mute,
    bulk_reopen,
    bulk_resolve,
    bulk_unmute,
    delete,
    is_regression,
    mute,
    record,
    reopen,
    resolve,
    send_on_commit,
    unmute,
    unmute_expired,
)

__all__ = [
    "apply_event",
    "bulk_delete",
    "bulk_mute",
    "bulk_reopen",
    "bulk_resolve",
    "bulk_unmute",
    "delete",
    "is_regression",
    "mute",
    "record",
    "reopen",
    "resolve",
    "send_on_commit",
    "unmute",
    "unmute_expired",
]
