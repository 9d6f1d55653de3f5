"""The wall clock stepped under a real foreman (libfaketime), as when NTP steps a host's clock.

The foreman (and an enqueuing process) run with LD_PRELOAD=libfaketime and an offset file the test
rewrites; their monotonic clocks stay real. This process keeps the true time.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from harness.faults import ServerClock, libfaketime_library
from harness.processes import ROOT
from snappea.models import TaskState
from snappea.status import foreman_status
from tests.snappea import tasks
from tests.snappea.conftest import task_rows, wait_for

pytestmark = pytest.mark.skipif(
    libfaketime_library() is None, reason="libfaketime missing (pip install libfaketime)"
)

TWO_HOURS = 2 * 3600

_ENQUEUE = (
    "import django; django.setup(); from tests.snappea import tasks; "
    "print(tasks.record.enqueue({label!r}).enqueued_at.timestamp())"
)


def enqueue_elsewhere(queue_dir, label, env) -> float:
    """Enqueue from another process (with its own clock); returns the enqueued_at it recorded."""
    proc = subprocess.run(
        [sys.executable, "-c", _ENQUEUE.format(label=label)],
        env={**os.environ, **queue_dir.foreman_env(**env)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return float(proc.stdout.split()[-1])


def test_a_task_enqueued_while_the_clock_read_ahead_runs_at_once_after_a_step_back(queue_dir):
    clock = ServerClock(queue_dir.path)
    clock.set_offset("+2h")
    enqueued_at = enqueue_elsewhere(queue_dir, "ahead", clock.env())
    assert enqueued_at > time.time() + TWO_HOURS - 60  # libfaketime did move that clock

    # Seen from the true time the task was enqueued 2 h from now: it is due, not deferred.
    status = foreman_status()
    assert (status["backlog"], status["deferred"]) == (1, 0)
    assert status["oldest_waiting_seconds"] == 0.0

    clock.set_offset("-2h")  # stepped back past the true time: 4 h behind the enqueue
    queue_dir.start_foreman(**clock.env())
    wait_for(lambda: queue_dir.ran() == ["ahead"], timeout=15, what="the task to run at once")
    wait_for(lambda: not task_rows(), what="the queue to empty")


def test_a_retry_scheduled_before_a_step_back_keeps_its_backoff_and_no_more(queue_dir):
    backoff = 4.0
    clock = ServerClock(queue_dir.path)
    clock.set_offset("+2h")
    queue_dir.start_foreman(
        settings={"SNAPPEA_MAX_RETRIES": 1, "SNAPPEA_RETRY_BACKOFF": backoff}, **clock.env()
    )
    tasks.flaky.enqueue("s")
    (retry,) = wait_for(
        lambda: [r for r in task_rows() if r.state == TaskState.READY and r.attempts == 1],
        timeout=15,
        what="the first attempt to fail and schedule a retry",
    )
    # Scheduled on the foreman's clock, 2 h ahead of the true time.
    assert retry.run_after > timezone.now() + timedelta(seconds=TWO_HOURS - 60)
    stepped_at = time.monotonic()
    clock.set_offset("+0")
    wait_for(
        lambda: "attempt s 2" in queue_dir.runs(),
        timeout=backoff + 15,
        what="the retry to run about its backoff after the step, not 2 h later",
    )
    assert time.monotonic() - stepped_at >= backoff - 0.5  # the backoff itself is kept
    assert "1 retry(s) keep their backoff, counted from now" in queue_dir.log()
    assert queue_dir.runs() == ["attempt s 1", "attempt s 2"]


def test_status_across_a_step_back_with_a_task_running(queue_dir):
    clock = ServerClock(queue_dir.path)
    clock.set_offset("+2h")
    queue_dir.start_foreman(**clock.env())
    tasks.slow.enqueue("long", 6.0)
    wait_for(lambda: "start long" in queue_dir.runs(), timeout=15, what="the slow task")

    # To the true clock the heartbeat comes from 2 h ahead, as right after a step back before the
    # next beat: counted by its distance, it is not fresh (the old check called it fresh for 2 h).
    status = foreman_status()
    assert status["heartbeat_age_seconds"] > TWO_HOURS - 60
    assert status["state"] == "stuck"

    clock.set_offset("+0")
    status = wait_for(
        lambda: (s := foreman_status())["heartbeat_age_seconds"] < 5 and s,
        timeout=10,
        what="a heartbeat on the stepped clock",
    )
    if "end long" not in queue_dir.runs():
        # The running time is measured on the monotonic clock: the step does not show in it.
        assert status["state"] == "running"
        assert 0 < status["longest_running_seconds"] < 10
    wait_for(lambda: "end long" in queue_dir.runs(), timeout=15, what="the slow task to end")
    wait_for(lambda: foreman_status()["state"] == "idle", timeout=10, what="idle")
