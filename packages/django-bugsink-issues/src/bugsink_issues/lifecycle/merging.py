"""Merging issues: several issues that are really one become one.

The target (the issue with the most events unless named) takes over the others' events (numbered
after its own, so event navigation keeps its order; their full-text documents follow), grouping
keys (so their future events arrive at the target), tag counts, events per day, user feedback and
counters. Each merged issue stays as a row pointing to the target (`merged_into`), with a history
entry, so its id and short id still lead somewhere; the target's history names what it took in.
One transaction: all of it, or none of it.
"""

from django.db import transaction
from django.db.models import F

from bugsink_issues import signals
from bugsink_issues.lifecycle.history import record, send_on_commit
from bugsink_issues.models import (
    Event,
    Grouping,
    Issue,
    IssueDayCount,
    IssueSeen,
    IssueTagValue,
    ProjectSettings,
    UserFeedback,
    fulltext,
)
from bugsink_issues.models.issues import HistoryKind

__all__ = ["MergeError", "merge"]

TAG_CHUNK = 500


class MergeError(ValueError):
    """These issues cannot be merged (fewer than two, or of different projects)."""


@transaction.atomic
def merge(issues, *, into=None, user=None, comment=""):
    """Merge `issues` (a queryset or list of issues or ids) into one; returns the target.

    `into`: the target (one of `issues`, or another issue of the same project); by default the one
    with the most events (the oldest on a tie)."""
    pks = {i.pk if isinstance(i, Issue) else int(i) for i in issues}
    if into is not None:
        pks.add(into.pk if isinstance(into, Issue) else int(into))
    project_ids = set(Issue.objects.filter(pk__in=pks).values_list("project_id", flat=True))
    if len(project_ids) > 1:
        raise MergeError("Issues of different projects cannot be merged.")
    if project_ids:
        # The digest holds this lock while it maps grouping keys to issues: a merge never moves
        # a key between the digest's look-up and its use.
        ProjectSettings.objects.for_project(project_ids.pop(), lock=True)
    locked = list(Issue.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
    if len(locked) < 2:
        raise MergeError("Merging needs at least two issues.")
    if len({i.project_id for i in locked}) > 1:
        raise MergeError("Issues of different projects cannot be merged.")
    if into is not None:
        target_pk = into.pk if isinstance(into, Issue) else int(into)
        target = next(i for i in locked if i.pk == target_pk)
    else:
        target = max(locked, key=lambda i: (i.event_count, -i.pk))
    sources = [i for i in locked if i.pk != target.pk]
    for source in sources:
        _move(source, target)
    target.save()
    names = ", ".join(s.short_id for s in sources)
    reason = f"merged {names} into this issue"
    record(target, HistoryKind.MERGED, user=user, reason=reason[:255], comment=comment)
    for source in sources:
        record(
            source,
            HistoryKind.MERGED_INTO,
            user=user,
            reason=f"merged into {target.short_id}",
            comment=comment,
        )
    send_on_commit(
        signals.issue_merged,
        target,
        user=user,
        reason=reason,
        merged_ids=[s.pk for s in sources],
    )
    return target


def _move(source, target):
    # Sequence numbers follow the target's, in the source's own order.
    offset = target.event_count
    fulltext.move_issue_events(source.pk, target.pk)  # free-text search finds them at the target
    Event.objects.filter(issue_id=source.pk).update(
        issue_id=target.pk, issue_sequence=F("issue_sequence") + offset
    )
    Grouping.objects.filter(issue_id=source.pk).update(issue_id=target.pk)
    UserFeedback.objects.filter(issue_id=source.pk).update(issue_id=target.pk)
    _merge_tag_counts(source, target)
    IssueDayCount.objects.move(source.pk, target.pk)
    IssueSeen.objects.filter(issue_id=source.pk).delete()
    # Issues merged into the source earlier now lead straight to the target.
    Issue.including_merged.filter(merged_into_id=source.pk).update(merged_into_id=target.pk)

    if source.first_seen < target.first_seen:
        target.first_seen, target.first_release = source.first_seen, source.first_release
    if source.last_seen > target.last_seen:
        target.last_seen = source.last_seen
        target.last_release = source.last_release or target.last_release
    target.event_count += source.event_count
    target.stored_event_count += source.stored_event_count

    source.merged_into = target
    source.event_count = source.stored_event_count = 0
    source.assigned_user = source.assigned_team = None
    source.save()


def _merge_tag_counts(source, target):
    """Add the source's per-issue tag counts to the target's, value by value."""
    while True:
        rows = list(IssueTagValue.objects.filter(issue_id=source.pk).order_by("pk")[:TAG_CHUNK])
        if not rows:
            return
        existing = {
            row.tag_value_id: row
            for row in IssueTagValue.objects.filter(
                issue_id=target.pk, tag_value_id__in=[r.tag_value_id for r in rows]
            )
        }
        changed, moved = [], []
        for row in rows:
            into = existing.get(row.tag_value_id)
            if into is None:
                moved.append(row.pk)
                continue
            into.count += row.count
            into.first_seen = min(into.first_seen, row.first_seen)
            into.last_seen = max(into.last_seen, row.last_seen)
            changed.append(into)
        IssueTagValue.objects.bulk_update(changed, ["count", "first_seen", "last_seen"])
        IssueTagValue.objects.filter(pk__in=[r.pk for r in rows if r.pk not in moved]).delete()
        IssueTagValue.objects.filter(pk__in=moved).update(issue_id=target.pk)
