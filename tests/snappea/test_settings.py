"""Every documented setting, honoured where it applies: set as SNAPPEA_<NAME>, and where it is a
per-backend option (RESULTS, ENQUEUE_ON_COMMIT, ON_COMMIT_DATABASE), through
TASKS[alias]["OPTIONS"] too, which then wins for that backend.

Settings the foreman reads are set in a real foreman process; the enqueuing side in this one.
Settings covered elsewhere: SNAPPEA_GRACE_PERIOD (test_foreman::test_grace_period_expires_...),
SNAPPEA_INOTIFY (test_foreman::test_polling_fallback_wakes_the_foreman), SNAPPEA_DEAD_AFTER and
SNAPPEA_STUCK_AFTER (test_backend::test_status_*), SNAPPEA_READY_* (test_health).
"""

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from harness.processes import ROOT, stop
from snappea.models import ForemanHeartbeat, Task, TaskResultRecord, TaskState
from tests.snappea import tasks
from tests.snappea.conftest import SNAPPEA_TASKS, QueueDir, task_rows, wait_for


def use_backend(settings, **options):
    """A fresh TASKS with these OPTIONS: Django builds the backend anew, and a backend reads its
    settings when it is built (so set SNAPPEA_ settings before this)."""
    settings.TASKS = {"default": {**SNAPPEA_TASKS["default"], "OPTIONS": options}}


def beat():
    row = ForemanHeartbeat.objects.filter(id=1).first()
    return row.heartbeat_at if row else None


# -- SNAPPEA_DATABASE ------------------------------------------------------------------------------


def test_database_names_the_queue_alias(tmp_path):
    """Another alias for the queue: migrate, enqueue, the foreman, its files and the status all
    follow SNAPPEA_DATABASE (each in a process of its own, as in a deployment)."""
    qdir = QueueDir(tmp_path)
    env = qdir.foreman_env(
        settings={
            "SNAPPEA_DATABASE": "jobs",
            "DATABASES": {
                "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "m.db")},
                "jobs": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "j.db")},
            },
        }
    )

    def run(*args):
        return subprocess.run(
            [sys.executable, *args],
            env={**os.environ, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert run("-m", "django", "migrate", "--database", "jobs").returncode == 0
    enqueue = (
        "import django; django.setup(); from tests.snappea import tasks; tasks.record.enqueue('j')"
    )
    assert (proc := run("-c", enqueue)).returncode == 0, proc.stderr
    status = run("-m", "django", "snappea_status", "--json")
    assert json.loads(status.stdout)["backlog"] == 1
    assert (proc := run("-m", "django", "runsnappea", "--burst")).returncode == 0, proc.stderr
    assert qdir.ran() == ["j"]
    assert (tmp_path / "j.db.wake").exists() and (tmp_path / "j.db.foreman.lock").exists()
    assert not (tmp_path / "snappea.sqlite3").exists()
    status = json.loads(run("-m", "django", "snappea_status", "--json").stdout)
    assert (status["state"], status["backlog"], status["done_since_start"]) == ("dead", 0, 1)


# -- the foreman's own settings -------------------------------------------------------------------


def test_workers_setting_and_the_flag_that_beats_it(queue_dir):
    foreman = queue_dir.start_foreman(settings={"SNAPPEA_WORKERS": 2})
    assert "2 worker(s)" in queue_dir.log()
    assert ForemanHeartbeat.objects.get(id=1).workers == 2
    assert stop(foreman) == 0
    queue_dir.start_foreman("--workers", "3", settings={"SNAPPEA_WORKERS": 2})
    assert "3 worker(s)" in queue_dir.log()
    assert ForemanHeartbeat.objects.get(id=1).workers == 3


def claim_groups(queue_dir):
    """How many tasks each claim transaction took (tasks claimed together share claimed_at)."""
    return Counter(line.split()[2] for line in queue_dir.runs() if line.startswith("claimed "))


@pytest.mark.parametrize("batch_size", [3, None], ids=["three", "default"])
def test_batch_size_limits_each_claim(queue_dir, batch_size):
    for i in range(20):
        tasks.record_claim.enqueue(f"c{i}")
    conf = {} if batch_size is None else {"SNAPPEA_BATCH_SIZE": batch_size}
    queue_dir.start_foreman("--workers", "4", settings=conf)
    wait_for(lambda: sum(claim_groups(queue_dir).values()) == 20, what="the 20 tasks")
    largest = max(claim_groups(queue_dir).values())
    if batch_size is None:
        # The first claim takes two per worker when 20 are due: more than 3 in one transaction.
        assert largest > 3
    else:
        assert largest <= batch_size


def test_heartbeat_interval(queue_dir):
    foreman = queue_dir.start_foreman(settings={"SNAPPEA_HEARTBEAT_INTERVAL": 0.2})
    seen = set()
    wait_for(lambda: seen.add(beat()) or len(seen) >= 4, timeout=30, what="heartbeats")
    assert stop(foreman) == 0

    hour = {
        "SNAPPEA_HEARTBEAT_INTERVAL": 3600,
        "SNAPPEA_DEAD_AFTER": 7200,
        "SNAPPEA_READY_MAX_HEARTBEAT_AGE": 7200,
    }
    queue_dir.start_foreman(settings=hour)
    seen = set()
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        seen.add(beat())
        time.sleep(0.05)
    # The start writes the row and the first loop beats once; then nothing for an hour.
    assert len(seen) <= 2


@pytest.mark.parametrize("poll_interval", [0.05, 3600.0], ids=["fast", "hour"])
def test_poll_interval_when_polling(queue_dir, poll_interval):
    """Polling (no inotify), heartbeat an hour away: only the poll notices a new task."""
    tasks.record.enqueue("first")
    queue_dir.start_foreman(
        settings={
            "SNAPPEA_INOTIFY": False,
            "SNAPPEA_POLL_INTERVAL": poll_interval,
            "SNAPPEA_HEARTBEAT_INTERVAL": 3600,
            "SNAPPEA_DEAD_AFTER": 7200,
            "SNAPPEA_READY_MAX_HEARTBEAT_AGE": 7200,
        }
    )
    assert f"(polling every {poll_interval}s)" in queue_dir.log()
    wait_for(lambda: queue_dir.ran() == ["first"] and not task_rows(), what="the first task")
    time.sleep(0.5)  # the foreman is asleep by now: nothing due, nothing running
    tasks.record.enqueue("second")
    if poll_interval < 1:
        wait_for(lambda: queue_dir.ran() == ["first", "second"], timeout=10, what="the poll")
    else:
        time.sleep(1.5)
        assert queue_dir.ran() == ["first"]  # it looks again in an hour


def test_max_retries(queue_dir):
    queue_dir.start_foreman(settings={"SNAPPEA_MAX_RETRIES": 2, "SNAPPEA_RETRY_BACKOFF": 0})
    tasks.fail.enqueue("thrice")
    wait_for(lambda: task_rows(TaskState.FAILED), what="the last attempt to fail")
    assert queue_dir.ran() == ["thrice"] * 3
    assert task_rows()[0].attempts == 3


def test_retry_backoff(queue_dir):
    queue_dir.start_foreman(settings={"SNAPPEA_MAX_RETRIES": 1, "SNAPPEA_RETRY_BACKOFF": 3600})
    tasks.fail.enqueue("later")
    (row,) = wait_for(
        lambda: [r for r in task_rows(TaskState.READY) if r.attempts == 1], what="the retry"
    )
    assert row.run_after - row.failed_at == timedelta(hours=1)


def test_keep_failed_for_and_keep_results_for(queue_dir):
    now = timezone.now()
    for label, age in (("old", timedelta(hours=2)), ("recent", timedelta(minutes=10))):
        Task.objects.create(
            task_path=f"app.{label}",
            enqueued_at=now - age,
            state=TaskState.FAILED,
            failed_at=now - age,
        )
        TaskResultRecord.objects.create(
            id=int(age.total_seconds()),
            task_path=f"app.{label}",
            queue_name="default",
            backend_name="default",
            args_kwargs="{}",
            status="SUCCESSFUL",
            enqueued_at=now - age,
            started_at=now - age,
            finished_at=now - age,
        )
    queue_dir.start_foreman(
        settings={"SNAPPEA_KEEP_FAILED_FOR": 3600, "SNAPPEA_KEEP_RESULTS_FOR": 3600}
    )
    wait_for(
        lambda: Task.objects.count() == 1 and TaskResultRecord.objects.count() == 1,
        what="the prune at start",
    )
    assert [t.task_path for t in Task.objects.all()] == ["app.recent"]
    assert [r.task_path for r in TaskResultRecord.objects.all()] == ["app.recent"]


# -- per-backend settings: SNAPPEA_<NAME>, and OPTIONS[NAME] that wins --------------------------


def test_results_setting(queue_dir, settings):
    settings.SNAPPEA_RESULTS = True
    use_backend(settings)
    added = tasks.add.enqueue(2, 3)
    queue_dir.start_foreman(settings={"SNAPPEA_RESULTS": True})
    result = wait_for(
        lambda: (r := tasks.add.get_result(added.id)).is_finished and r, what="the result"
    )
    assert (result.status, result.return_value) == ("SUCCESSFUL", 5)


def test_results_through_options_reach_the_foreman(queue_dir, settings):
    """OPTIONS["RESULTS"] alone (SNAPPEA_RESULTS left off): the foreman keeps the result too."""
    use_backend(settings, RESULTS=True)
    added = tasks.add.enqueue(2, 3)
    queue_dir.start_foreman(options={"RESULTS": True})
    result = wait_for(
        lambda: (r := tasks.add.get_result(added.id)).is_finished and r, what="the result"
    )
    assert result.status == "SUCCESSFUL"
    assert result.return_value == 5


def test_results_options_false_beats_the_setting(queue_dir, settings):
    settings.SNAPPEA_RESULTS = True
    use_backend(settings, RESULTS=False)
    added = tasks.add.enqueue(2, 3)
    with pytest.raises(NotImplementedError):
        tasks.add.get_result(added.id)
    queue_dir.start_foreman(settings={"SNAPPEA_RESULTS": True}, options={"RESULTS": False})
    wait_for(lambda: not task_rows(), what="the task to run")
    assert TaskResultRecord.objects.count() == 0


def test_enqueue_on_commit_setting(queue_dir, settings):
    settings.SNAPPEA_ENQUEUE_ON_COMMIT = True
    use_backend(settings)
    with transaction.atomic():
        result = tasks.record.enqueue("at commit")
        assert task_rows() == [] and result.id == "pending"
    assert result.id == str(task_rows()[0].id)


def test_enqueue_on_commit_options_false_beats_the_setting(queue_dir, settings):
    settings.SNAPPEA_ENQUEUE_ON_COMMIT = True
    use_backend(settings, ENQUEUE_ON_COMMIT=False)
    with transaction.atomic():
        tasks.record.enqueue("at once")
        assert len(task_rows()) == 1


def on_commit_of(database):
    """Where the enqueue waits: inside an atomic block on `database`, and on the other one."""
    other = "default" if database == "snappea" else "snappea"
    with transaction.atomic(using=other):
        tasks.record.enqueue("not deferred")
        immediate = len(task_rows()) == 1
    with transaction.atomic(using=database):
        tasks.record.enqueue("deferred")
        deferred = len(task_rows()) == 1  # still only the first one
    return immediate, deferred, len(task_rows())


def test_on_commit_database_setting(queue_dir, settings):
    settings.SNAPPEA_ENQUEUE_ON_COMMIT = True
    settings.SNAPPEA_ON_COMMIT_DATABASE = "snappea"
    use_backend(settings)
    assert on_commit_of("snappea") == (True, True, 2)


def test_on_commit_database_through_options(queue_dir, settings):
    settings.SNAPPEA_ON_COMMIT_DATABASE = "default"
    use_backend(settings, ENQUEUE_ON_COMMIT=True, ON_COMMIT_DATABASE="snappea")
    assert on_commit_of("snappea") == (True, True, 2)
