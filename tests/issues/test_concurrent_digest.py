"""Several digest workers at once, on PostgreSQL (the scale-out database; SQLite has one writer),
and the one transaction per project that lets them overlap (on either database).

Each worker is a thread with its own database connection, released by a barrier so their batches
meet: the same new grouping keys, the same projects (listed in opposite orders), the same tags,
release and session buckets. Every count must come out as if the batches ran one after the other.
"""

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, connections

from bugsink_issues.digest import digest_batch
from bugsink_issues.models import (
    Event,
    Grouping,
    Issue,
    IssueTagValue,
    ProjectSettings,
    Release,
    ReleaseHealthBucket,
)
from tests.factories import make_project, python_exception, spooled

KEYS = 15  # new grouping keys shared by both workers
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL (SQLite serialises every write)")


def _batch(projects, worker, round_):
    events = []
    for project in projects:
        for key in range(KEYS):
            events.append(
                spooled(
                    project,
                    python_exception(
                        exc_type=f"Race{round_}Error{key}",
                        value=f"from worker {worker}",
                        release="app@1.0",
                        tags={"worker": "any", "shard": str(key % 3)},
                    ),
                )
            )
        sid = f"{round_:02d}{worker:02d}" + "0" * 28
        body = {
            "sid": sid,
            "init": True,
            "started": NOW.isoformat(),
            "status": "exited",
            "errors": 0,
            "attrs": {"release": "app@1.0", "environment": "prod"},
        }
        events.append(spooled(project, body, kind="session", received_at=NOW))
    return events


def _run_at_once(batches):
    barrier = threading.Barrier(len(batches))
    errors = []

    def work(batch):
        try:
            barrier.wait(timeout=10)
            digest_batch(batch)
        except Exception as e:  # reported below: a deadlock or IntegrityError fails the test
            errors.append(e)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_digesting_the_same_new_keys_and_projects_at_once(_postgres_only):
    first, second = make_project("first"), make_project("second")
    rounds = 3
    for round_ in range(rounds):
        # Opposite project orders: unsorted per-project locks would deadlock here.
        errors = _run_at_once(
            [_batch([first, second], 0, round_), _batch([second, first], 1, round_)]
        )
        assert errors == []
    for project in (first, second):
        issues = Issue.objects.filter(project=project)
        # One issue per key, each with both workers' events, numbered without gaps or twins.
        assert issues.count() == rounds * KEYS
        assert Grouping.objects.filter(project=project).count() == rounds * KEYS
        assert set(issues.values_list("event_count", flat=True)) == {2}
        assert set(issues.values_list("stored_event_count", flat=True)) == {2}
        numbers = sorted(issues.values_list("number", flat=True))
        assert numbers == list(range(1, rounds * KEYS + 1))
        for issue in issues:
            sequences = sorted(
                Event.objects.filter(issue=issue).values_list("issue_sequence", flat=True)
            )
            assert sequences == [1, 2]
        events = rounds * KEYS * 2
        assert Event.objects.filter(project=project).count() == events
        assert ProjectSettings.objects.get(project=project).stored_event_count == events
        worker_tags = IssueTagValue.objects.filter(issue__project=project, key="worker")
        assert sum(worker_tags.values_list("count", flat=True)) == events
        assert Release.objects.filter(project=project, version="app@1.0").count() == 1
        buckets = ReleaseHealthBucket.objects.filter(project=project, release="app@1.0")
        assert sum(buckets.values_list("sessions", flat=True)) == rounds * 2


@pytest.mark.django_db
def test_a_batch_failing_in_a_later_project_is_redelivered_without_doubles(digest, monkeypatch):
    """Each project commits on its own: the earlier projects' part of a failed batch is stored,
    and the redelivery stores nothing of it twice (events, counters, standalone attachments)."""
    from django.db import OperationalError

    from bugsink_issues.digest import consumer
    from bugsink_issues.models import EventAttachment
    from tests.factories import SpooledAttachment

    first, second = make_project("first"), make_project("second")
    earlier = spooled(first, python_exception("Earlier"))
    digest([earlier])
    log = SpooledAttachment.from_bytes("log.txt", "text/plain", "event.attachment", b"hello")
    batch = [
        spooled(first, python_exception("Again")),
        spooled(first, b"{}", kind="attachment", event_id=earlier.event_id, attachments=(log,)),
        spooled(second, python_exception("Again")),
    ]
    enforce, failed = consumer.retention.enforce, []

    def down_once(project_settings):
        if project_settings.project_id == second.pk and not failed:
            failed.append(True)
            raise OperationalError("server closed the connection unexpectedly")
        return enforce(project_settings)

    monkeypatch.setattr(consumer.retention, "enforce", down_once)
    with pytest.raises(OperationalError):
        digest(batch)
    assert Event.objects.filter(project=first).count() == 2  # committed before the failure
    assert Event.objects.filter(project=second).count() == 0
    digest(batch)  # the drain delivers it again
    for project, events in ((first, 2), (second, 1)):
        assert Event.objects.filter(project=project).count() == events
        assert ProjectSettings.objects.get(project=project).stored_event_count == events
        assert sum(Issue.objects.filter(project=project).values_list("event_count", flat=True)) == (
            events
        )
    assert EventAttachment.objects.filter(event__event_id=earlier.event_id).count() == 1
