"""The drain under a failing consumer: poison events, an outage, and a drain killed mid-claim.

Real spools (files, database), the real snappea backend and foreman, real killed processes.
"""

import json
import os
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import override_settings

from bugsink_ingest import spool
from bugsink_ingest.spool.database import DatabaseSpool
from bugsink_ingest.spool.segments import SegmentSpool
from harness.processes import ROOT
from tests.ingest.recorder import received
from tests.ingest.test_spool import make_event

SEGMENT_SPOOL = "bugsink_ingest.spool.segments.SegmentSpool"
DELIVERED: list = []
CALLS: list = []
POISON = {"event_id": None}


def picky(events):
    """Fails for any batch holding the poison event (a digest bug hit by one event)."""
    CALLS.append(len(events))
    if any(e.event_id == POISON["event_id"] for e in events):
        raise ValueError("the digest chokes on this event")
    DELIVERED.extend(events)


def down(events):
    """Fails for everything (the database is locked or gone)."""
    CALLS.append(len(events))
    raise RuntimeError("database is locked")


@pytest.fixture(params=["segments", "database"])
def any_spool(request, tmp_path):
    """The configured spool, each kind; the database one on the test database."""
    if request.param == "segments":
        overrides = {
            "BUGSINK_INGEST_SPOOL": SEGMENT_SPOOL,
            "BUGSINK_INGEST_SPOOL_DIR": tmp_path / "spool",
        }
    else:
        request.getfixturevalue("db")
        overrides = {"BUGSINK_INGEST_SPOOL": "bugsink_ingest.spool.database.DatabaseSpool"}
    DELIVERED.clear()
    CALLS.clear()
    POISON["event_id"] = None
    with override_settings(**overrides, BUGSINK_INGEST_SPOOL_BATCH_SIZE=4):
        spool._spool_for.cache_clear()
        yield spool.get_spool()
    spool._spool_for.cache_clear()


def consumer(name):
    return override_settings(BUGSINK_INGEST_CONSUMER=f"tests.ingest.test_drain.{name}")


def quarantine_warnings():
    from django.conf import settings

    from bugsink_ingest.checks import check_quarantine

    return [c.id for c in check_quarantine(databases=list(settings.DATABASES))]


def test_a_poison_event_is_quarantined_and_every_other_event_delivered(any_spool, caplog):
    from bugsink_ingest.tasks import drain_spool

    events = [make_event(i) for i in range(10)]
    for e in events:
        any_spool.write(e)
    POISON["event_id"] = events[5].event_id
    with consumer("picky"):
        assert drain_spool.call() == 9
    assert sorted(e.spool_id for e in DELIVERED) == sorted(
        e.spool_id for e in events if e is not events[5]
    )
    # Set aside, not lost: counted, and logged as an error once (Sentry's logging integration).
    assert any_spool.backlog_size() == 0 and any_spool.quarantined_count() == 1
    reports = [r for r in caplog.records if r.levelname == "ERROR" and "quarantined" in r.message]
    assert len(reports) == 1 and events[5].spool_id in reports[0].getMessage()
    if isinstance(any_spool, SegmentSpool):
        broken = any_spool.quarantine_area.path
        assert (broken / f"{events[5].spool_id}.event").exists()
        assert "chokes" in (broken / f"{events[5].spool_id}.error").read_text()
    else:
        from bugsink_ingest.models import SpoolEntry

        assert "chokes" in SpoolEntry.objects.get(spool_id=events[5].spool_id).error
    assert quarantine_warnings() == ["bugsink_ingest.W004"]

    # Put back while the bug is still there: it fails alone with nothing to vouch for the
    # consumer, so it is neither delivered nor quarantined again: it waits in the spool.
    with consumer("picky"), pytest.raises(CommandError, match="chokes"):
        call_command("bugsink_drain_spool", "--retry-quarantined", stdout=StringIO())
    assert any_spool.backlog_size() == 1 and any_spool.quarantined_count() == 0
    assert quarantine_warnings() == []

    # The bug fixed: the event goes through.
    POISON["event_id"] = None
    out = StringIO()
    with consumer("picky"):
        call_command("bugsink_drain_spool", stdout=out)
    assert "handed off 1 events" in out.getvalue()
    assert events[5] in DELIVERED and any_spool.backlog_size() == 0


def test_the_drain_command_says_when_the_workers_drain_is_running(tmp_path):
    with override_settings(
        BUGSINK_INGEST_SPOOL=SEGMENT_SPOOL, BUGSINK_INGEST_SPOOL_DIR=tmp_path / "spool"
    ):
        spool._spool_for.cache_clear()
        s = spool.get_spool()
        s.write(make_event(1))
        out = StringIO()
        with consumer("picky"), s.drain_lock() as mine:
            assert mine
            call_command("bugsink_drain_spool", stdout=out)
        assert "handed off 0 events" in out.getvalue()
        assert "another drain is running" in out.getvalue() and s.backlog_size() == 1
        out = StringIO()
        with consumer("picky"):
            call_command("bugsink_drain_spool", stdout=out)
        assert "handed off 1 events" in out.getvalue()
        assert "another drain" not in out.getvalue()
    spool._spool_for.cache_clear()


def test_poison_at_the_head_and_the_tail_of_the_spool_does_not_look_like_an_outage(any_spool):
    # The oldest two fail alone before anything succeeded, and so does the first probe (the
    # newest event); the next probe (the oldest waiting) shows the consumer works: the three are
    # set aside and the rest goes through.
    from bugsink_ingest.tasks import drain_spool

    events = [make_event(i) for i in range(9)]
    for e in events:
        any_spool.write(e)
    POISON["event_id"] = events[0].event_id
    POISON_TOO.update((events[1].event_id, events[-1].event_id))
    try:
        with consumer("picky_too"), override_settings(BUGSINK_INGEST_SPOOL_POISON_ATTEMPTS=2):
            assert drain_spool.call() == 6
    finally:
        POISON_TOO.clear()
    assert sorted(e.spool_id for e in DELIVERED) == sorted(e.spool_id for e in events[2:-1])
    assert any_spool.quarantined_count() == 3 and any_spool.backlog_size() == 0


POISON_TOO: set = set()


def picky_too(events):
    if any(e.event_id in POISON_TOO for e in events):
        CALLS.append(len(events))
        raise ValueError("the digest chokes on this one too")
    picky(events)


def test_a_consumer_down_for_everything_quarantines_nothing(any_spool):
    from bugsink_ingest.tasks import drain_spool

    events = [make_event(i) for i in range(10)]
    for e in events:
        any_spool.write(e)
    for _ in range(3):  # every run: a few calls, then it gives up; nothing set aside
        CALLS.clear()
        with consumer("down"), pytest.raises(RuntimeError, match="locked"):
            drain_spool.call()
        # the batch, one event alone, the rest, a second alone, then three probes
        assert len(CALLS) == 7
        assert any_spool.backlog_size() == 10 and any_spool.quarantined_count() == 0
    with consumer("picky"):
        assert drain_spool.call() == 10
    assert sorted(e.spool_id for e in DELIVERED) == sorted(e.spool_id for e in events)


@pytest.mark.django_db(transaction=True, databases=["default", "snappea"])
def test_requests_while_the_consumer_is_down_enqueue_one_drain(tmp_path, monkeypatch):
    """The real snappea backend and foreman, the default spool: one deferred retry, however many
    requests come."""
    from bugsink_ingest.models import Project, ProjectKey
    from snappea.models import Task

    monkeypatch.setenv("INGEST_TEST_DIR", str(tmp_path))  # the recording consumer's directory
    queue_db = connections["snappea"].settings_dict["NAME"]
    (tmp_path / "drain_site.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        f"TASKS = {SNAPPEA_TASKS!r}\n"
        f"DATABASES['snappea'] = {{**DATABASES['snappea'], 'NAME': {str(queue_db)!r}}}  # noqa\n"
        f"BUGSINK_INGEST_SPOOL_DIR = {str(tmp_path / 'spool')!r}\n"
        "BUGSINK_INGEST_CONSUMER = 'tests.ingest.recorder.record'\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "drain_site",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}",
        "BUGSINK_TEST_DATA_DIR": str(tmp_path),
        "INGEST_TEST_DIR": str(tmp_path),
    }

    def foreman_burst():
        result = subprocess.run(
            [sys.executable, "-m", "django", "runsnappea", "--burst"],
            env={**os.environ, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr

    key = ProjectKey.objects.create(project=Project.objects.create(name="p"))
    url = f"/api/{key.project_id}/envelope/?sentry_key={key.public_key}"

    def request(client, n):
        body = b'{"event_id":"%032x"}\n{"type":"event"}\n{"message":"m"}' % n
        assert client.post(url, body, content_type="application/octet-stream").status_code == 200

    def drains():
        return list(Task.objects.using("snappea").filter(task_path__endswith="drain_spool"))

    (tmp_path / "consumer-fails").touch()
    with override_settings(
        TASKS=SNAPPEA_TASKS,
        BUGSINK_INGEST_SPOOL_DIR=tmp_path / "spool",
        BUGSINK_INGEST_CONSUMER="tests.ingest.recorder.record",
    ):
        spool._spool_for.cache_clear()
        try:
            from django.test import Client

            client = Client()
            for n in range(10):
                request(client, n)
            assert len(drains()) == 1  # the first request's; the rest saw it pending
            foreman_burst()  # runs it: the consumer fails
            (retry,) = drains()
            assert retry.state == "READY" and json.loads(retry.args_kwargs)["kwargs"] == {
                "failures": 1
            }
            assert retry.run_after.timestamp() > time.time()  # deferred: the backoff
            for n in range(10, 30):
                request(client, n)
            assert [t.id for t in drains()] == [retry.id]  # still only the one retry
            s = spool.get_spool()
            assert s.backlog_size() == 30 and s.quarantined_count() == 0
            assert received(tmp_path) == []

            (tmp_path / "consumer-fails").unlink()
            deadline = time.monotonic() + 30
            while retry.run_after.timestamp() > time.time() and time.monotonic() < deadline:
                time.sleep(0.1)
            foreman_burst()
            assert len(received(tmp_path)) == 30 and s.backlog_size() == 0
            assert drains() == []
        finally:
            spool._spool_for.cache_clear()


@pytest.mark.django_db(transaction=True, databases=["default", "snappea"])
def test_an_event_is_acknowledged_when_its_drain_cannot_be_enqueued(tmp_path, caplog):
    """Spooled is acknowledged: a task queue that refuses the drain costs the SDK nothing, and the
    next request's wake-up drains both events."""
    from django.test import Client

    from bugsink_ingest.models import Project, ProjectKey
    from bugsink_ingest.tasks import drain_spool
    from snappea.models import Task

    key = ProjectKey.objects.create(project=Project.objects.create(name="p"))
    url = f"/api/{key.project_id}/envelope/?sentry_key={key.public_key}"
    client = Client()

    def send(n):
        body = b'{"event_id":"%032x"}\n{"type":"event"}\n{"message":"m"}' % n
        return client.post(url, body, content_type="application/octet-stream")

    queue = connections["snappea"]
    with override_settings(TASKS=SNAPPEA_TASKS, BUGSINK_INGEST_SPOOL_DIR=tmp_path / "spool"):
        spool._spool_for.cache_clear()
        try:
            queue.ensure_connection()
            with queue.cursor() as cursor:
                cursor.execute("PRAGMA query_only = ON")  # every write to the queue now fails
            try:
                first = send(1)
            finally:
                with queue.cursor() as cursor:
                    cursor.execute("PRAGMA query_only = OFF")
            assert first.status_code == 200, first.content
            assert first.json() == {"id": f"{1:032x}"}
            assert "enqueueing the drain failed" in caplog.text
            assert Task.objects.using("snappea").count() == 0
            assert spool.get_spool().backlog_size() == 1

            assert send(2).status_code == 200
            assert Task.objects.using("snappea").filter(task_path__endswith="drain_spool").count()
            with override_settings(
                BUGSINK_INGEST_CONSUMER="tests.ingest.test_drain.picky", TASKS=SNAPPEA_TASKS
            ):
                DELIVERED.clear()
                assert drain_spool.call() == 2
            assert sorted(e.event_id for e in DELIVERED) == [f"{1:032x}", f"{2:032x}"]
        finally:
            spool._spool_for.cache_clear()


SNAPPEA_TASKS = {"default": {"BACKEND": "snappea.backend.SnappeaBackend", "QUEUES": []}}


@pytest.mark.django_db
def test_database_spool_lease_from_a_clock_set_back_expires():
    from datetime import timedelta

    from django.utils import timezone

    from bugsink_ingest.models import SpoolEntry

    s = DatabaseSpool("default")
    s.write(make_event())
    (first,) = s.claim(10)
    assert s.claim(10) == []
    SpoolEntry.objects.update(claimed_until=timezone.now() + timedelta(days=1))
    assert s.claim(10) == [first]


def test_sessions_do_not_count_towards_a_batch_of_events(any_spool):
    from dataclasses import replace

    from bugsink_ingest.tasks import drain_spool

    written = []
    for i in range(6):  # an error and the session the SDK sends with it, six times; then sessions
        written += [make_event(i), replace(make_event(100 + i), kind="session")]
    written += [replace(make_event(200 + i), kind="session") for i in range(10)]
    for e in written:
        any_spool.write(e)
    with consumer("picky"):
        assert drain_spool.call() == len(written)
    # Batches of 4 events (a claim of 4, topped up): 4 events and 3 sessions, then 2 events and
    # 6 sessions, then sessions only, at most twice the size in items.
    assert CALLS == [7, 8, 7]
    assert sorted(e.spool_id for e in DELIVERED) == sorted(e.spool_id for e in written)
