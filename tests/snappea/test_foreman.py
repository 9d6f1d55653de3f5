"""The foreman as a real subprocess on a real SQLite file."""

import os
import signal
import subprocess
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from harness.processes import stop
from snappea.models import Task, TaskState
from tests.snappea import tasks
from tests.snappea.conftest import task_rows, wait_for


def test_thousand_tasks_from_threads_run_exactly_once(queue_dir):
    foreman = queue_dir.start_foreman("--workers", "4")

    def enqueue_many(thread_no):
        try:
            for i in range(250):
                tasks.record.enqueue(f"{thread_no}-{i}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=enqueue_many, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    wait_for(lambda: len(queue_dir.ran()) >= 1000, timeout=60, what="1,000 tasks to run")
    wait_for(lambda: Task.objects.count() == 0, what="the queue to empty")
    counts = Counter(queue_dir.ran())
    assert len(counts) == 1000
    assert set(counts.values()) == {1}
    assert stop(foreman) == 0
    assert "1000 done, 0 failed" in queue_dir.log()


def test_kill_9_mid_task_runs_it_again_at_restart(queue_dir):
    foreman = queue_dir.start_foreman()
    tasks.slow.enqueue("k", 1.0)
    wait_for(lambda: "start k" in queue_dir.runs(), what="the task to start")
    os.killpg(foreman.pid, signal.SIGKILL)
    foreman.wait(10)
    assert "end k" not in queue_dir.runs()
    assert [row.state for row in task_rows()] == [TaskState.RUNNING]  # claimed by the dead one

    queue_dir.start_foreman()
    wait_for(lambda: "end k" in queue_dir.runs(), what="the task to run again and finish")
    assert queue_dir.runs().count("start k") == 2
    wait_for(lambda: not task_rows(), what="the finished task to leave the queue")
    assert "1 task(s) claimed by a foreman that died will run again" in queue_dir.log()


def test_sigterm_lets_the_running_task_finish(queue_dir):
    foreman = queue_dir.start_foreman()
    tasks.slow.enqueue("t", 1.0)
    wait_for(lambda: "start t" in queue_dir.runs(), what="the task to start")
    foreman.send_signal(signal.SIGTERM)
    assert foreman.wait(15) == 0
    assert queue_dir.runs() == ["start t", "end t"]
    assert task_rows() == []


def test_second_signal_exits_at_once_and_the_task_survives(queue_dir):
    foreman = queue_dir.start_foreman()
    tasks.slow.enqueue("u", 30.0)
    wait_for(lambda: "start u" in queue_dir.runs(), what="the task to start")
    foreman.send_signal(signal.SIGTERM)
    wait_for(lambda: "no new tasks" in queue_dir.log(), timeout=10, what="the first signal")
    foreman.send_signal(signal.SIGTERM)
    assert foreman.wait(5) == 1
    assert "end u" not in queue_dir.runs()
    assert [row.state for row in task_rows()] == [TaskState.RUNNING]  # runs again at next start


def test_grace_period_expires_and_the_task_stays_queued(queue_dir):
    foreman = queue_dir.start_foreman(settings={"SNAPPEA_GRACE_PERIOD": 0.5})
    tasks.slow.enqueue("g", 30.0)
    wait_for(lambda: "start g" in queue_dir.runs(), what="the task to start")
    foreman.send_signal(signal.SIGTERM)
    assert foreman.wait(10) == 1
    assert "still running after the 0.5s grace period" in queue_dir.log()
    assert len(task_rows()) == 1


def test_priority_then_fifo_then_deferred(queue_dir):
    queue_dir.start_foreman("--workers", "1")
    # One transaction on the queue: the foreman sees all six at once, at its commit (and its
    # start-up cannot eat into the deferral).
    with transaction.atomic(using="snappea"):
        later = timezone.now() + timedelta(seconds=1.5)
        tasks.record.using(priority=100, run_after=later).enqueue("deferred")
        tasks.record.using(priority=-10).enqueue("low")
        tasks.record.enqueue("mid1")
        tasks.record.using(priority=50).enqueue("high")
        tasks.record.enqueue("mid2")
        tasks.record_async.enqueue("mid3-async")
    wait_for(lambda: len(queue_dir.ran()) == 6, what="all six tasks")
    assert queue_dir.ran() == ["high", "mid1", "mid2", "mid3-async", "low", "deferred"]
    deferred_ran_at = float(queue_dir.runs()[-1].split()[2])
    assert deferred_ran_at >= later.timestamp()


def test_a_second_foreman_is_refused(queue_dir):
    first = queue_dir.start_foreman()
    second = subprocess.run(
        queue_dir.foreman_command(),
        env={**os.environ, **queue_dir.foreman_env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    assert f"Another foreman (pid {first.pid}) is already running" in second.stderr
    assert first.poll() is None


def test_a_failing_task_is_recorded_and_the_foreman_carries_on(queue_dir):
    foreman = queue_dir.start_foreman()
    tasks.fail.enqueue("boom")
    tasks.record.enqueue("after")
    wait_for(lambda: "after" in queue_dir.ran(), what="the task after the failure")
    wait_for(lambda: task_rows(TaskState.FAILED), what="the failure to be recorded")
    (failed,) = task_rows()
    assert failed.task_path == "tests.snappea.tasks.fail"
    assert "ValueError: task boom failed on purpose" in failed.last_error
    assert failed.failed_at is not None
    assert "Task tests.snappea.tasks.fail #" in queue_dir.log()
    assert "Traceback" in queue_dir.log()
    assert foreman.poll() is None


def test_retries_with_backoff(queue_dir, settings):
    settings.TASKS = {"default": {**settings.TASKS["default"], "OPTIONS": {"RESULTS": True}}}
    queue_dir.start_foreman(settings={"SNAPPEA_MAX_RETRIES": 1, "SNAPPEA_RESULTS": True})
    result = tasks.flaky.enqueue("r")
    wait_for(lambda: tasks.flaky.get_result(result.id).is_finished, what="the retried task")
    assert queue_dir.runs() == ["attempt r 1", "attempt r 2"]
    final = tasks.flaky.get_result(result.id)
    assert final.status == "SUCCESSFUL"
    assert final.return_value == 2


def test_burst_runs_until_empty_then_exits(queue_dir):
    for i in range(20):
        tasks.record.enqueue(f"b{i}")
    tasks.record.using(run_after=timezone.now() + timedelta(hours=1)).enqueue("tomorrow")
    burst = queue_dir.start_foreman("--burst", wait=False)
    assert burst.wait(60) == 0
    assert sorted(queue_dir.ran()) == sorted(f"b{i}" for i in range(20))
    assert [row.task_path for row in task_rows()] == ["tests.snappea.tasks.record"]  # deferred one


def test_queue_option_runs_only_the_named_queues(queue_dir):
    tasks.record.using(queue_name="mail").enqueue("mail")
    tasks.record.enqueue("default")
    burst = queue_dir.start_foreman("--burst", "--queue", "mail", wait=False)
    assert burst.wait(60) == 0
    assert queue_dir.ran() == ["mail"]
    assert [row.queue_name for row in task_rows()] == ["default"]


def test_without_use_tz_in_a_far_time_zone(queue_dir, settings):
    """USE_TZ off and a local time 5 hours from UTC: deferral and status still line up."""
    settings.USE_TZ = False
    settings.TIME_ZONE = "America/New_York"
    from snappea.status import foreman_status

    # The foreman first: its start-up must not eat into the deferral.
    queue_dir.start_foreman(settings={"USE_TZ": False, "TIME_ZONE": "America/New_York"})
    run_after = timezone.now() + timedelta(seconds=3)  # naive, New York time
    tasks.record.using(run_after=run_after).enqueue("deferred")
    assert foreman_status()["deferred"] == 1  # not taken for due 5 hours early
    tasks.record.enqueue("now")
    wait_for(lambda: "now" in queue_dir.ran(), what="the due task")
    status = foreman_status()
    assert status["state"] in ("running", "idle")
    assert status["heartbeat_age_seconds"] < 5
    wait_for(lambda: queue_dir.ran() == ["now", "deferred"], what="the deferred task")
    ran_at = float(queue_dir.runs()[-1].split()[2])
    assert 0 <= ran_at - run_after.astimezone().timestamp() < 5


def test_polling_fallback_wakes_the_foreman(queue_dir):
    queue_dir.start_foreman(settings={"SNAPPEA_INOTIFY": False})
    assert "(polling every 0.05s)" in queue_dir.log()
    tasks.record.enqueue("polled")
    wait_for(lambda: queue_dir.ran() == ["polled"], timeout=10, what="the task")


def test_old_failures_and_results_are_pruned(queue_dir):
    from snappea.models import TaskResultRecord

    now = timezone.now()
    for label, age in (("old", timedelta(days=8)), ("recent", timedelta(days=1))):
        Task.objects.create(
            task_path=f"app.{label}",
            enqueued_at=now - age,
            run_after=now - age,
            state=TaskState.FAILED,
            failed_at=now - age,
        )
        TaskResultRecord.objects.create(
            id=1000 + age.days,
            task_path=f"app.{label}",
            queue_name="default",
            backend_name="default",
            args_kwargs="{}",
            status="SUCCESSFUL",
            enqueued_at=now - age - timedelta(hours=1),
            started_at=now - age - timedelta(hours=1),
            finished_at=now - age - timedelta(hours=1),
        )
    queue_dir.start_foreman()  # prunes at start: failures after 7 days, results after 1 day
    wait_for(
        lambda: Task.objects.count() == 1 and TaskResultRecord.objects.count() == 0,
        what="the old failure and both results to go",
    )
    assert [t.task_path for t in Task.objects.all()] == ["app.recent"]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_worker_threads_close_their_connections(queue_dir):
    foreman = queue_dir.start_foreman("--workers", "2")
    for i in range(4):
        tasks.use_main_database.enqueue(f"db{i}")
    wait_for(lambda: len(queue_dir.ran()) == 4, what="the tasks")

    def open_main_db_files():
        fd_dir = f"/proc/{foreman.pid}/fd"
        paths = []
        for fd in os.listdir(fd_dir):
            try:
                paths.append(os.readlink(f"{fd_dir}/{fd}"))
            except OSError:
                pass  # closed meanwhile
        return [p for p in paths if "main.sqlite3" in p]

    wait_for(lambda: not open_main_db_files(), timeout=5, what="main.sqlite3 to be closed")


def test_a_later_high_priority_task_overtakes_slow_queued_ones(queue_dir):
    for i in range(110):
        tasks.slow.enqueue(f"low{i}", 0.06)
    queue_dir.start_foreman("--workers", "4")
    wait_for(lambda: "end low0" in queue_dir.runs(), what="the first slow task")
    started_before = sum(line.startswith("start") for line in queue_dir.runs())
    tasks.record.using(priority=10).enqueue("urgent")
    started_after = sum(line.startswith("start") for line in queue_dir.runs())
    wait_for(lambda: "urgent" in queue_dir.ran(), timeout=30, what="the urgent task")
    order = [line.split()[1] for line in queue_dir.runs() if line.startswith(("ran", "start"))]
    # Long tasks are claimed a few per free worker, not a batch of 100 that the urgent task
    # would wait behind: only the few already claimed start between its enqueue and its run.
    assert order.index("urgent") - started_after <= 12, (started_before, started_after, order)
