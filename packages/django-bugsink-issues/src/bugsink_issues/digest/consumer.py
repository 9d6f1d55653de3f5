"""The consumer of spooled events: `digest_batch(events)`.

All CPU work (parse, normalise, group, compress) happens first; then one write transaction per
project of the batch finds or creates issues, stores events, updates counters, releases, tags,
regressions and unmute conditions, and applies retention. Idempotent: an event id already stored for its project is
skipped, so a redelivered batch changes nothing. Signals (and through them alerts) go out after
commit.

Several workers at once (PostgreSQL): each project's settings row is locked FOR UPDATE before
anything of the project is read, projects in id order, and stays locked until that project's
commit. So two batches' writes to one project run one after the other (the second sees what the
first committed: its new groupings, counters, releases, retention), while their CPU phases and
their writes to different projects overlap. Grouping's unique (project, key) then never sees a race. On SQLite the write lock does the same.
"""

import logging
from collections import Counter, defaultdict
from datetime import datetime
from typing import cast

from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from bugsink_issues.digest.attachments import (
    AttachmentQuota,
    attach_to_stored_events,
    store_attachments,
)
from bugsink_issues.digest.bulk_insert import insert_returning_pks, row_values, value_columns
from bugsink_issues.digest.feedback import feedback_row, link_waiting_feedback, store_feedback
from bugsink_issues.digest.grouping import VERSIONS, grouping_for
from bugsink_issues.digest.health import HEALTH_KINDS, record_health
from bugsink_issues.digest.prepare import PreparedEvent, event_columns, prepare_event
from bugsink_issues.digest.tags import record_issue_tags
from bugsink_issues.lifecycle import retention
from bugsink_issues.lifecycle.history import send_on_commit
from bugsink_issues.lifecycle.mutes import unmute_expired
from bugsink_issues.lifecycle.regressions import apply_event
from bugsink_issues.lifecycle.releases import observe_releases
from bugsink_issues.models import (
    Event,
    Grouping,
    Issue,
    IssueHistory,
    ProjectSettings,
)
from bugsink_issues.models.fulltext import index_events
from bugsink_issues.models.issues import HistoryKind
from bugsink_issues.models.volume import IssueDayCount, day_of
from bugsink_issues.monitors.checkins import record_check_ins
from bugsink_issues.monitors.tasks import arm_monitor_checks
from bugsink_issues.signals import issue_created

logger = logging.getLogger(__name__)


def digest_batch(events):
    """Digest a batch of bugsink_ingest.spool.SpooledEvent. Raises only on database errors (the
    batch then stays spooled and is retried)."""
    if not events:
        return
    by_project = defaultdict(list)
    for spooled in events:
        by_project[spooled.project_id].append(spooled)
    options = ProjectSettings.objects.digest_options(by_project)
    prepared = {
        project_id: [
            prepare_event(s, *options[project_id])
            for s in batch
            if s.kind not in ("feedback", "user_report", "check_in", "attachment")
            and s.kind not in HEALTH_KINDS
        ]
        for project_id, batch in by_project.items()
    }
    health = {
        project_id: [s for s in batch if s.kind in HEALTH_KINDS]
        for project_id, batch in by_project.items()
    }
    feedback = {
        project_id: [feedback_row(s) for s in batch if s.kind in ("feedback", "user_report")]
        for project_id, batch in by_project.items()
    }
    check_ins = {
        pid: [s for s in batch if s.kind == "check_in"] for pid, batch in by_project.items()
    }
    standalone = {  # attachments in envelopes of their own, for events stored before
        pid: [s for s in batch if s.kind == "attachment"] for pid, batch in by_project.items()
    }
    # One transaction per project, in project id order. Each holds its project's settings row
    # locked until it commits, so a worker whose batch shares projects with another's follows it
    # project by project instead of waiting for its whole batch (and the id order means two
    # workers never wait for each other in a circle). A failure leaves the projects before it
    # committed: the batch is redelivered, and what is stored already is skipped (idempotent).
    for project_id in sorted(by_project):
        with transaction.atomic():
            project_settings = _locked_settings(project_id)
            if project_settings is None:
                logger.warning(
                    "bugsink_issues: project %s no longer exists; %d events dropped",
                    project_id,
                    len(by_project[project_id]),
                )
                continue
            if prepared[project_id]:
                _digest_project(project_settings, prepared[project_id])
            if feedback[project_id]:
                store_feedback(project_id, feedback[project_id])
            if standalone[project_id]:  # after this batch's own events
                attach_to_stored_events(project_id, standalone[project_id])
            if check_ins[project_id]:  # cron monitors (monitors/checkins.py)
                record_check_ins(project_id, check_ins[project_id])
            if health[project_id]:
                record_health(project_id, health[project_id])
            unmute_expired(project_id)
            retention.enforce(project_settings)
    if any(check_ins.values()):
        arm_monitor_checks()  # the periodic check that finds misses and timeouts


def _locked_settings(project_id):
    from bugsink_ingest.models import Project

    if not Project.objects.filter(pk=project_id).exists():
        return None
    return ProjectSettings.objects.for_project(project_id, lock=True)


def _digest_project(project_settings, prepared):
    project_id = project_settings.project_id
    now = timezone.now()
    fresh = _drop_known(project_id, prepared)
    if not fresh:
        return
    groupings = _find_or_create_issues(project_settings, fresh, now)
    issues = Issue.objects.select_for_update().in_bulk({g.issue_id for g in groupings.values()})

    seen_releases: dict[str, tuple[datetime, datetime]] = {}
    for p in fresh:
        release = p.field("release", 250)
        if release:
            first, last = seen_releases.get(release, (p.normalized.timestamp,) * 2)
            seen_releases[release] = (
                min(first, p.normalized.timestamp),
                max(last, p.normalized.timestamp),
            )
    orders = observe_releases(project_id, seen_releases)

    rows: list[Event] = []
    # (issue id, key, value) -> [count, first seen, last seen]
    tag_counts: dict[tuple[int, str, str], list] = {}
    changed: set[int] = set()
    state_changed_issues: set[int] = set()
    per_day: Counter = Counter()  # (issue id, project id, UTC day) -> events
    for p in fresh:
        grouping = groupings[p.grouping.key]
        issue = issues[grouping.issue_id]
        timestamp, release = p.normalized.timestamp, p.field("release", 250)
        is_first = issue.event_count == 0
        state_changed = apply_event(
            issue,
            release=release,
            now=now,
            event_id=p.spooled.event_id,
            orders=orders,
        )
        if state_changed or issue.status == "muted":  # muted: the window counter moves
            state_changed_issues.add(issue.pk)
        issue.event_count += 1
        issue.stored_event_count += 1
        if is_first:
            issue.first_seen = issue.last_seen = timestamp
            issue.first_release = release
        issue.first_seen = min(issue.first_seen, timestamp)
        if timestamp >= issue.last_seen or is_first:
            issue.last_seen = timestamp
            issue.title, issue.culprit = p.title, p.culprit[:255]
            issue.level = p.data.get("level") or issue.level
            if release:
                issue.last_release = release
        changed.add(issue.pk)
        per_day[(issue.pk, project_id, day_of(timestamp))] += 1
        rows.append(
            Event(
                project_id=project_id,
                issue_id=issue.pk,
                grouping_id=grouping.pk,
                event_id=p.spooled.event_id,
                timestamp=timestamp,
                received_at=p.spooled.received_at,
                issue_sequence=issue.event_count,
                payload=p.payload,
                payload_size=p.payload_size,
                payload_dict_id=p.dict_id,
                problems=p.normalized.problems,
                is_pinned=is_first or state_changed,
                **event_columns(p),
            )
        )
        for key, value in p.tags:
            entry = tag_counts.get((issue.pk, key, value))
            if entry is None:
                tag_counts[(issue.pk, key, value)] = [1, timestamp, timestamp]
            else:
                entry[0] += 1
                entry[1], entry[2] = min(entry[1], timestamp), max(entry[2], timestamp)

    index_events(rows, [p.data for p in fresh])  # in this transaction: never out of step
    insert_returning_pks(rows, batch_size=200)
    _store_attachments(fresh, rows)
    _save_issues([issues[pk] for pk in changed], state_changed_issues)
    record_issue_tags(project_id, tag_counts)
    IssueDayCount.objects.add(per_day)
    ProjectSettings.objects.filter(pk=project_settings.pk).update(
        stored_event_count=project_settings.stored_event_count + len(rows)
    )
    project_settings.stored_event_count += len(rows)
    link_waiting_feedback(project_id, {row.event_id: row for row in rows})


# Every event changes these; the state fields below only change with a state change.
ISSUE_COUNTER_FIELDS = [
    "event_count", "stored_event_count", "first_seen", "last_seen", "title", "culprit", "level",
    "first_release", "last_release",
]  # fmt: skip
ISSUE_STATE_FIELDS = [
    "status", "resolved_at", "resolved_in_release", "resolve_in_next_release", "muted_at",
    "muted_until", "mute_until_event_count", "mute_window_seconds", "mute_window_hits",
    "regression_count", "last_regressed_at",
]  # fmt: skip


def _save_issues(issues, state_changed):
    """executemany UPDATEs: Django's bulk_update builds CASE expressions per field and row, which
    cost more than the rest of the digest together at 100 distinct issues per batch."""
    plain = [i for i in issues if i.pk not in state_changed]
    changed = [i for i in issues if i.pk in state_changed]
    for group, names in (
        (plain, ISSUE_COUNTER_FIELDS),
        (changed, ISSUE_COUNTER_FIELDS + ISSUE_STATE_FIELDS),
    ):
        if not group:
            continue
        fields = [cast(Field, Issue._meta.get_field(name)) for name in names]
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
        sql = f"UPDATE {quote(Issue._meta.db_table)} SET {assignments} WHERE id = %s"
        columns = value_columns(fields)
        rows = [row_values(issue, columns, connection) + [issue.pk] for issue in group]
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def _drop_known(project_id, prepared):
    """Skip events already stored and duplicates within the batch (at-least-once delivery)."""
    ids = {p.spooled.event_id for p in prepared}
    known = set(
        Event.objects.filter(project_id=project_id, event_id__in=ids).values_list(
            "event_id", flat=True
        )
    )
    fresh = []
    for p in prepared:
        if p.spooled.event_id not in known:
            known.add(p.spooled.event_id)
            fresh.append(p)
    return fresh


def _find_or_create_issues(project_settings, fresh, now):
    """{key: Grouping} for every key in the batch, creating issues (and their history) as needed."""
    project_id = project_settings.project_id
    keys = {p.grouping.key for p in fresh}
    found = {g.key: g for g in Grouping.objects.filter(project_id=project_id, key__in=keys)}
    missing = [p for p in fresh if p.grouping.key not in found]
    # A newer grouping version must not split issues: look the event up under older versions.
    older = [v for v in VERSIONS if v < project_settings.grouping_version]
    if missing and older:
        _adopt_older_keys(project_id, missing, older, found)
        missing = [p for p in missing if p.grouping.key not in found]
    first_by_key: dict[str, PreparedEvent] = {}
    for p in missing:
        first_by_key.setdefault(p.grouping.key, p)
    if not first_by_key:
        return found
    numbers = ProjectSettings.objects.allocate_issue_numbers(project_id, len(first_by_key))
    new_issues = [
        Issue(
            project_id=project_id,
            number=number,
            grouping_key=key,
            title=p.title,
            culprit=p.culprit[:255],
            level=p.data.get("level") or "error",
            platform=p.field("platform", 64),
            first_seen=p.normalized.timestamp,
            last_seen=p.normalized.timestamp,
        )
        for number, (key, p) in zip(numbers, first_by_key.items(), strict=True)
    ]
    Issue.objects.bulk_create(new_issues)
    new_groupings = [
        Grouping(
            project_id=project_id,
            issue_id=issue.pk,
            key=key,
            version=p.grouping.version,
            parts=p.grouping.as_json(),
        )
        for issue, (key, p) in zip(new_issues, first_by_key.items(), strict=True)
    ]
    Grouping.objects.bulk_create(new_groupings)
    history = []
    for grouping, issue, p in zip(new_groupings, new_issues, first_by_key.values(), strict=True):
        found[grouping.key] = grouping
        history.append(
            IssueHistory(
                issue=issue,
                kind=HistoryKind.CREATED,
                created_at=now,
                reason="first event",
                event_id=p.spooled.event_id,
                release=p.field("release", 250),
            )
        )
        send_on_commit(
            issue_created, issue, user=None, reason="first event", event_id=p.spooled.event_id
        )
    IssueHistory.objects.bulk_create(history)
    return found


def _adopt_older_keys(project_id, missing, older_versions, found):
    """A new key whose event has an issue under an older version's key joins that issue. One
    query per older version for the whole batch (a query per event cost an eighth of the digest
    when many new keys came in)."""
    firsts: dict[str, PreparedEvent] = {}
    for p in missing:  # several events of the batch may share the new key: the first decides
        firsts.setdefault(p.grouping.key, p)
    for version in sorted(older_versions, reverse=True):
        waiting = {key: p for key, p in firsts.items() if key not in found}
        if not waiting:
            return
        old_keys = {key: grouping_for(p.data, version).key for key, p in waiting.items()}
        existing = dict(
            Grouping.objects.filter(project_id=project_id, key__in=set(old_keys.values()))
            .order_by("pk")
            .values_list("key", "issue_id")
        )
        for key, old_key in old_keys.items():
            if old_key in existing:
                p = waiting[key]
                found[key] = Grouping.objects.create(
                    project_id=project_id,
                    issue_id=existing[old_key],
                    key=key,
                    version=p.grouping.version,
                    parts=p.grouping.as_json(),
                )


def _store_attachments(fresh, rows):
    if not any(p.spooled.attachments for p in fresh):
        return
    quota = AttachmentQuota(rows[0].project_id)
    for p, row in zip(fresh, rows, strict=True):
        if p.spooled.attachments:
            store_attachments(row, p.spooled.attachments, quota)
