"""insert_returning_pks against bulk_create: the same rows, the same columns, ids set; insert_values
and update_by_pk: rows as values, conflicts skipped, fields converted."""

from datetime import UTC, datetime, timedelta

import pytest

from bugsink_issues.digest.bulk_insert import insert_returning_pks
from bugsink_issues.models import Event, Issue

pytestmark = pytest.mark.django_db


def events(project, issue, prefix, count):
    base = datetime(2026, 11, 28, 1, 2, 3, 456789, tzinfo=UTC)
    return [
        Event(
            project_id=project.pk,
            issue_id=issue.pk,
            event_id=f"{prefix}{i:031x}",
            timestamp=base + timedelta(seconds=i),
            received_at=base,
            issue_sequence=i + 1,
            title=f"ValueError: ünïcode {i}",
            culprit="app.views in index",
            level="warning" if i % 2 else "error",
            release="" if i % 3 else "1.0",
            payload=bytes(range(256)) * (i + 1),
            payload_size=256 * (i + 1),
            payload_dict_id=i % 3,
            problems=[] if i % 2 else [{"path": "exception", "problem": "too deep"}],
            is_pinned=bool(i % 2),
        )
        for i in range(count)
    ]


def comparable(rows):
    return [
        {k: bytes(v) if isinstance(v, memoryview) else v for k, v in row.items()} for row in rows
    ]


def test_the_same_rows_as_bulk_create_with_their_ids(project):
    issue = Issue.objects.create(
        project_id=project.pk,
        grouping_key="k",
        title="t",
        first_seen=datetime.now(UTC),
        last_seen=datetime.now(UTC),
    )
    by_orm = events(project, issue, "a", 7)
    Event.objects.bulk_create(by_orm)
    fast = events(project, issue, "b", 7)
    insert_returning_pks(fast, batch_size=3)  # three statements: 3, 3 and 1 rows

    assert all(e.pk and not e._state.adding for e in fast)
    stored = {e["event_id"]: e for e in comparable(Event.objects.values())}
    assert {e.event_id: stored[e.event_id]["id"] for e in fast} == {e.event_id: e.pk for e in fast}
    for orm, mine in zip(by_orm, fast, strict=True):
        expected = {k: v for k, v in stored[orm.event_id].items() if k not in ("id", "event_id")}
        got = {k: v for k, v in stored[mine.event_id].items() if k not in ("id", "event_id")}
        assert got == expected
    # Read back as the digest's readers do: aware datetimes, JSON, bytes.
    last = Event.objects.get(pk=fast[-1].pk)
    assert last.timestamp == fast[-1].timestamp and last.problems == fast[-1].problems
    assert bytes(last.payload) == fast[-1].payload


def test_nothing_to_insert_does_nothing(project):
    insert_returning_pks([])
    assert Event.objects.count() == 0


def test_insert_values_converts_what_needs_it_and_can_skip_conflicting_rows(project):
    from bugsink_issues.digest.bulk_insert import insert_values
    from bugsink_issues.models import ReleaseHealthBucket, ReleaseHealthUser, SessionState

    hour = datetime(2026, 11, 28, 1, tzinfo=UTC)
    bucket = ReleaseHealthBucket.objects.create(project=project, release="r@1", hour=hour)
    fields = ("bucket", "user_hash", "crashed")
    insert_values(ReleaseHealthUser, fields, [(bucket.pk, "u1", False), (bucket.pk, "u2", True)])
    # u1 again breaks the unique constraint: skipped, the other rows of the statement kept
    insert_values(
        ReleaseHealthUser,
        fields,
        [(bucket.pk, "u1", True), (bucket.pk, "u3", False)],
        ignore_conflicts=True,
        batch_size=1,
    )
    users = dict(ReleaseHealthUser.objects.values_list("user_hash", "crashed"))
    assert users == {"u1": False, "u2": True, "u3": False}
    # a datetime goes through its field (what the driver cannot take as it is)
    when = datetime(2026, 11, 28, 1, 2, 3, 456789, tzinfo=UTC)
    insert_values(
        SessionState,
        ("project", "sid_hash", "bucket", "user_hash", "status", "errored", "updated_at"),
        [(project.pk, "s1", bucket.pk, "", "ok", True, when)],
    )
    assert SessionState.objects.get(sid_hash="s1").updated_at == when


def test_update_by_pk_writes_the_named_fields_of_each_row(project):
    from bugsink_issues.digest.bulk_insert import update_by_pk
    from bugsink_issues.models.monitors import Monitor

    monitors = [Monitor.objects.create(project=project, slug=f"job-{i}") for i in range(3)]
    when = datetime(2026, 11, 28, 1, 2, 3, 456789, tzinfo=UTC)
    for i, m in enumerate(monitors[:2]):
        m.status, m.last_checkin_at, m.slug = "failing", when + timedelta(minutes=i), "renamed"
    update_by_pk(monitors[:2], ["status", "last_checkin_at"])
    stored = {m.pk: m for m in Monitor.objects.all()}
    for i, m in enumerate(monitors[:2]):
        assert stored[m.pk].status == "failing"
        assert stored[m.pk].last_checkin_at == when + timedelta(minutes=i)
        assert stored[m.pk].slug == f"job-{i}"  # not named: not written
    assert stored[monitors[2].pk].status == "ok" and stored[monitors[2].pk].last_checkin_at is None
