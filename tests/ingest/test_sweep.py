"""The sweep: one chain of deferred tasks while events wait, ending when the spool is empty; and
with a real foreman, an event whose drain could not be enqueued is delivered with no more traffic.
"""

import os
import sys
import time

import pytest
from django.db import connections
from django.test import Client, override_settings

from bugsink_ingest import spool, tasks
from bugsink_ingest.checks import check_ingest_settings
from harness.compat import IMMEDIATE_BACKEND, TASKS_MODULE
from harness.processes import ROOT, start, stop
from tests.ingest.recorder import received
from tests.ingest.test_spool import make_event

DUMMY = {"default": {"BACKEND": f"{TASKS_MODULE}.backends.dummy.DummyBackend"}}
SNAPPEA = {"default": {"BACKEND": "snappea.backend.SnappeaBackend", "QUEUES": []}}


@pytest.fixture(params=["segments", "database"])
def deferring(request, tmp_path):
    """A backend that keeps what is enqueued (deferred or not), and each kind of spool."""
    overrides = {"TASKS": DUMMY, "BUGSINK_INGEST_SWEEP_SECONDS": 15}
    if request.param == "segments":
        overrides["BUGSINK_INGEST_SPOOL_DIR"] = tmp_path / "spool"
    else:
        request.getfixturevalue("db")
        overrides["BUGSINK_INGEST_SPOOL"] = "bugsink_ingest.spool.database.DatabaseSpool"
    with override_settings(**overrides):
        spool._spool_for.cache_clear()
        backend = tasks.sweep_spool.get_backend()
        backend.clear()
        yield backend
    spool._spool_for.cache_clear()


def enqueued(backend, name):
    return [r for r in backend.results if r.task.name == name]


def test_one_chain_while_events_wait_and_none_after(deferring):
    s = spool.get_spool()
    s.write(make_event(1))
    tasks.arm_sweep()
    tasks.arm_sweep()  # a chain lives: nothing more
    (link,) = enqueued(deferring, "sweep_spool")
    assert link.task.run_after is not None  # deferred by SWEEP_SECONDS
    token = link.args[0]

    # Events wait and no drain is pending: it wakes one, and enqueues its next run.
    assert tasks.sweep(token) == "waiting"
    assert len(enqueued(deferring, "drain_spool")) == 1
    assert [r.args for r in enqueued(deferring, "sweep_spool")] == [[token], [token]]
    # A drain pending: not woken twice.
    assert tasks.sweep(token) == "waiting"
    assert len(enqueued(deferring, "drain_spool")) == 1

    # The spool empty: the chain ends, and the next event arms a new one.
    (event,) = s.claim(10)
    s.ack([event.spool_id])
    assert tasks.sweep(token) == "ended"
    assert len(enqueued(deferring, "sweep_spool")) == 3
    tasks.arm_sweep()
    assert len(enqueued(deferring, "sweep_spool")) == 4
    assert enqueued(deferring, "sweep_spool")[-1].args != [token]


def test_a_stale_chain_is_replaced_and_its_late_run_ends(deferring):
    s = spool.get_spool()
    s.write(make_event(1))
    old = s.request_sweep(60)
    assert old and s.request_sweep(60) is None
    new = s.request_sweep(-1)  # nothing renewed it within the staleness: taken for lost
    assert new and new != old
    assert tasks.sweep(old) == "superseded"  # the lost chain's task ran after all
    assert tasks.sweep(new) == "waiting"


def test_a_sweep_marker_dated_hours_ahead_is_stale(deferring):
    """Renewed before the clock was set back 2 h: not taken for a live chain for 2 h."""
    from datetime import timedelta

    from django.utils import timezone

    s = spool.get_spool()
    old = s.request_sweep(60)
    if hasattr(s, "sweep"):  # the segment spool: a file dated by the process clock
        ahead = time.time() + 7200
        os.utime(s.sweep.path, (ahead, ahead))
    else:
        from bugsink_ingest.models import SpoolSweep

        SpoolSweep.objects.update(renewed_at=timezone.now() + timedelta(hours=2))
    new = s.request_sweep(60)
    assert new and new != old
    assert s.request_sweep(60) is None  # renewed now: a live chain again


@pytest.mark.django_db
def test_the_request_path_arms_the_sweep(deferring):
    from bugsink_ingest.models import Project, ProjectKey

    key = ProjectKey.objects.create(project=Project.objects.create(name="p"))
    tasks._last_look[0] = 0.0
    body = b'{}\n{"type":"event"}\n{"message":"m"}'
    url = f"/api/{key.project_id}/envelope/?sentry_key={key.public_key}"
    for _ in range(3):
        assert Client().post(url, body, content_type="text/plain").status_code == 200
    assert len(enqueued(deferring, "sweep_spool")) == 1
    assert len(enqueued(deferring, "drain_spool")) == 1


def test_no_sweep_without_deferred_tasks_and_a_check_says_so(tmp_path, settings):
    settings.BUGSINK_INGEST_SPOOL_DIR = tmp_path / "spool"
    spool._spool_for.cache_clear()
    try:
        # ImmediateBackend runs every drain inside its request: nothing to sweep, nothing to say.
        with override_settings(TASKS={"default": {"BACKEND": IMMEDIATE_BACKEND}}):
            tasks.arm_sweep()
            assert not os.path.exists(spool.get_spool().sweep.path)
            assert "bugsink_ingest.W005" not in [c.id for c in check_ingest_settings()]
        with override_settings(TASKS={"default": {"BACKEND": "tests.ingest.test_sweep.NoDefer"}}):
            tasks.arm_sweep()
            assert not os.path.exists(spool.get_spool().sweep.path)
            assert "bugsink_ingest.W005" in [c.id for c in check_ingest_settings()]
            with override_settings(BUGSINK_INGEST_SWEEP_SECONDS=None):
                assert "bugsink_ingest.W005" not in [c.id for c in check_ingest_settings()]
    finally:
        spool._spool_for.cache_clear()


def _no_defer_backend():
    from importlib import import_module

    dummy = import_module(f"{TASKS_MODULE}.backends.dummy").DummyBackend

    class NoDefer(dummy):
        supports_defer = False

    return NoDefer


NoDefer = _no_defer_backend()


def _flaky_backend():
    """Snappea, except that enqueueing a drain fails while the file named by INGEST_TEST_DIR/
    lose-drain exists (a queue that refused one write: the drain's enqueue is lost)."""
    from snappea.backend import SnappeaBackend

    class FlakyBackend(SnappeaBackend):
        def enqueue(self, task, args, kwargs):
            flag = os.path.join(os.environ["INGEST_TEST_DIR"], "lose-drain")
            if task.name == "drain_spool" and os.path.exists(flag):
                raise RuntimeError("database is locked")
            return super().enqueue(task, args, kwargs)

    return FlakyBackend


FlakyBackend = _flaky_backend()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True, databases=["default", "snappea"])
def test_an_event_whose_drain_was_not_enqueued_is_delivered_with_no_more_traffic(
    tmp_path, monkeypatch
):
    """A real foreman (runsnappea) and nothing else: the request's drain enqueue fails, the
    request arms the sweep instead, and the sweep's run starts the drain."""
    from bugsink_ingest.models import Project, ProjectKey

    monkeypatch.setenv("INGEST_TEST_DIR", str(tmp_path))
    queue_db = connections["snappea"].settings_dict["NAME"]
    (tmp_path / "sweep_site.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        f"TASKS = {SNAPPEA!r}\n"
        f"DATABASES['snappea'] = {{**DATABASES['snappea'], 'NAME': {str(queue_db)!r}}}  # noqa\n"
        f"BUGSINK_INGEST_SPOOL_DIR = {str(tmp_path / 'spool')!r}\n"
        "BUGSINK_INGEST_CONSUMER = 'tests.ingest.recorder.record'\n"
        "BUGSINK_INGEST_SWEEP_SECONDS = 1\n"
    )
    foreman = start(
        [sys.executable, "-m", "django", "runsnappea"],
        env={
            "DJANGO_SETTINGS_MODULE": "sweep_site",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}",
            "BUGSINK_TEST_DATA_DIR": str(tmp_path),
            "INGEST_TEST_DIR": str(tmp_path),
        },
        log_path=tmp_path / "foreman.log",
    )
    key = ProjectKey.objects.create(project=Project.objects.create(name="p"))
    (tmp_path / "lose-drain").touch()
    try:
        with override_settings(
            TASKS={"default": {"BACKEND": "tests.ingest.test_sweep.FlakyBackend", "QUEUES": []}},
            BUGSINK_INGEST_SPOOL_DIR=tmp_path / "spool",
            BUGSINK_INGEST_CONSUMER="tests.ingest.recorder.record",
            BUGSINK_INGEST_SWEEP_SECONDS=1,
        ):
            spool._spool_for.cache_clear()
            response = Client().post(
                f"/api/{key.project_id}/envelope/?sentry_key={key.public_key}",
                b'{"event_id":"%s"}\n{"type":"event"}\n{"message":"m"}' % (b"a" * 32),
                content_type="text/plain",
            )
            assert response.status_code == 200, response.content
        (tmp_path / "lose-drain").unlink()  # the queue works again; nobody sends anything
        deadline = time.monotonic() + 60
        while not received(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [r["event_id"] for r in received(tmp_path)] == ["a" * 32], (
            tmp_path / "foreman.log"
        ).read_text()[-3000:]
    finally:
        spool._spool_for.cache_clear()
        stop(foreman)
