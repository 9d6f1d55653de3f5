"""Several drains at once: the fan-out (BUGSINK_INGEST_PARALLEL_DRAINS) and disjoint claims.

The concurrent test runs two drains in two threads, each with its own spool object and database
connection (as two worker processes or hosts have), on the test database: PostgreSQL's SKIP
LOCKED keeps their claims apart there, SQLite's write lock (BEGIN IMMEDIATE) here.
"""

import threading
import time

import pytest
from django.db import connections
from django.test import override_settings

from bugsink_ingest import spool, tasks
from bugsink_ingest.drain import Drain
from bugsink_ingest.handoff import Consumer
from bugsink_ingest.spool.database import DatabaseSpool
from harness.compat import DUMMY_BACKEND
from tests.ingest.test_spool import make_event

DELIVERED: list = []


def record(events):
    DELIVERED.extend(events)


@pytest.fixture(params=["segments", "database"])
def deferring(request, tmp_path):
    """A backend that keeps what is enqueued, each kind of spool, batches of 4."""
    overrides = {
        "TASKS": {"default": {"BACKEND": DUMMY_BACKEND}},
        "BUGSINK_INGEST_SWEEP_SECONDS": None,
        "BUGSINK_INGEST_SPOOL_BATCH_SIZE": 4,
        "BUGSINK_INGEST_CONSUMER": "tests.ingest.test_parallel_drains.record",
    }
    if request.param == "segments":
        overrides["BUGSINK_INGEST_SPOOL_DIR"] = tmp_path / "spool"
    else:
        request.getfixturevalue("db")
        overrides["BUGSINK_INGEST_SPOOL"] = "bugsink_ingest.spool.database.DatabaseSpool"
    DELIVERED.clear()
    with override_settings(**overrides):
        spool._spool_for.cache_clear()
        backend = tasks.drain_spool.get_backend()
        backend.clear()
        yield backend
    spool._spool_for.cache_clear()


def drains_enqueued(backend):
    return [r for r in backend.results if r.task.name == "drain_spool"]


def test_a_drain_with_more_than_a_batch_waiting_wakes_another(deferring):
    s = spool.get_spool()
    for n in range(10):
        s.write(make_event(n))
    with override_settings(BUGSINK_INGEST_PARALLEL_DRAINS=True):
        assert tasks.drain() == 10
    assert len(drains_enqueued(deferring)) == 1  # one more, pending: not one per batch
    assert len({e.spool_id for e in DELIVERED}) == 10

    # One batch or less waiting: this drain does it alone.
    for n in range(4):
        s.write(make_event(n))
    with override_settings(BUGSINK_INGEST_PARALLEL_DRAINS=True):
        assert tasks.drain() == 4
    assert len(drains_enqueued(deferring)) == 1


def test_by_default_one_drain_drains_alone(deferring):
    s = spool.get_spool()
    for n in range(10):
        s.write(make_event(n))
    assert tasks.drain() == 10
    assert drains_enqueued(deferring) == []


def test_without_parallel_drains_a_drain_that_finds_one_running_ends_at_once(tmp_path, monkeypatch):
    """The segment spool lets one drain run at a time (ExclusiveDrains): a drain a request
    enqueued while another runs ends at once, the wake-up marker left set so that requests
    enqueue no more; the running one, once done, clears it and wakes a drain for what came."""
    overrides = {
        "TASKS": {"default": {"BACKEND": DUMMY_BACKEND}},
        "BUGSINK_INGEST_SWEEP_SECONDS": None,
        "BUGSINK_INGEST_SPOOL_DIR": tmp_path / "spool",
        "BUGSINK_INGEST_CONSUMER": "tests.ingest.test_parallel_drains.record",
    }
    DELIVERED.clear()
    with override_settings(**overrides):
        spool._spool_for.cache_clear()
        backend = tasks.drain_spool.get_backend()
        backend.clear()
        s = spool.get_spool()
        for n in range(3):
            s.write(make_event(n))
        assert s.request_wakeup()  # the request that enqueued this drain
        with s.drain_lock() as mine:  # a drain running (another thread or process)
            assert mine
            with s.drain_lock() as second:
                assert not second  # a second open of the lock, as another thread makes
            assert tasks.drain() == 0
            assert DELIVERED == [] and s.backlog_size() == 3
            assert not s.request_wakeup()  # still set: requests enqueue nothing meanwhile
        assert tasks.drain() == 3  # the lock is free: this one drains
        assert drains_enqueued(backend) == []  # nothing came meanwhile: none woken

        # Its time up with events left (or events spooled after its last claim, whose drain
        # ended at once): once it let go of the lock, it wakes the next drain.
        for n in range(2):
            s.write(make_event(10 + n))
        monkeypatch.setattr(tasks, "RUN_SECONDS", 0)
        assert tasks.drain() == 0
        assert len(drains_enqueued(backend)) == 1 and not s.request_wakeup()
    spool._spool_for.cache_clear()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_claim_disjoint_events():
    writer = DatabaseSpool("default")
    events = [make_event(n) for n in range(120)]
    for event in events:
        writer.write(event)
    got: dict[int, list[str]] = {0: [], 1: []}
    barrier = threading.Barrier(2)
    errors = []

    def work(worker):
        def take(batch):
            got[worker].extend(e.spool_id for e in batch)
            time.sleep(0.02)  # a digest's write phase: the other drain claims meanwhile

        try:
            with override_settings(BUGSINK_INGEST_SPOOL_BATCH_SIZE=10):
                run = Drain(DatabaseSpool("default"), Consumer(take, wants_attachments=False))
                barrier.wait(timeout=10)
                assert run.run(time.monotonic() + 30)
        except Exception as e:
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(w,)) for w in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    both = got[0] + got[1]
    assert sorted(both) == sorted(e.spool_id for e in events)  # each once, none lost
    assert got[0] and got[1]  # both drained, side by side
    assert writer.backlog_size() == 0
