"""The backend in the enqueuing process: results, on-commit enqueue, validation, status."""

import json
import signal
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from snappea.compat import InvalidTask, TaskResultDoesNotExist, task_backends
from snappea.models import TaskResultRecord
from snappea.status import foreman_status
from tests.snappea import tasks
from tests.snappea.conftest import task_rows, wait_for


@pytest.fixture
def results_on(settings):
    settings.TASKS = {"default": {**settings.TASKS["default"], "OPTIONS": {"RESULTS": True}}}


def test_results_off_by_default(queue_dir):
    backend = task_backends["default"]
    assert backend.supports_get_result is False
    result = tasks.add.enqueue(2, 3)
    assert result.id.isdigit()
    assert result.status == "READY"
    with pytest.raises(NotImplementedError, match="SNAPPEA_RESULTS"):
        tasks.add.get_result(result.id)
    queue_dir.start_foreman()
    wait_for(lambda: not task_rows(), what="the task to run")
    assert TaskResultRecord.objects.count() == 0


def test_results_on_give_status_return_value_and_error(queue_dir, results_on):
    later = tasks.add.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(1, 1)
    added = tasks.add.enqueue(2, 3)
    failed = tasks.fail.enqueue("r")
    assert tasks.add.get_result(added.id).status == "READY"
    queue_dir.start_foreman(settings={"SNAPPEA_RESULTS": True})
    wait_for(lambda: tasks.add.get_result(added.id).is_finished, what="the result")
    result = tasks.add.get_result(added.id)
    assert result.status == "SUCCESSFUL"
    assert result.return_value == 5
    assert result.args == [2, 3]
    assert result.finished_at >= result.started_at >= result.enqueued_at

    wait_for(lambda: tasks.fail.get_result(failed.id).is_finished, what="the failure")
    failure = tasks.fail.get_result(failed.id)
    assert failure.status == "FAILED"
    assert failure.errors[0].exception_class is ValueError
    assert "failed on purpose" in failure.errors[0].traceback
    with pytest.raises(ValueError):
        failure.return_value  # noqa: B018

    assert tasks.add.get_result(later.id).status == "READY"
    with pytest.raises(TaskResultDoesNotExist):
        tasks.add.get_result("999999")
    with pytest.raises(TaskResultDoesNotExist):
        tasks.add.get_result("not-a-number")


def test_enqueue_on_commit_waits_for_the_main_transaction(queue_dir, settings):
    settings.TASKS = {
        "default": {**settings.TASKS["default"], "OPTIONS": {"ENQUEUE_ON_COMMIT": True}}
    }
    with transaction.atomic():
        result = tasks.record.enqueue("committed")
        assert task_rows() == []
        assert result.id == "pending"
    assert len(task_rows()) == 1
    assert result.id == str(task_rows()[0].id)

    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.record.enqueue("rolled back")
        raise RuntimeError("roll back")
    assert len(task_rows()) == 1

    tasks.record.enqueue("outside a transaction")  # no transaction: at once
    assert len(task_rows()) == 2


def test_without_on_commit_enqueue_is_immediate_inside_a_transaction(queue_dir):
    with transaction.atomic():
        tasks.record.enqueue("now")
        assert len(task_rows()) == 1


def test_stored_fields(queue_dir):
    run_after = timezone.now() + timedelta(minutes=5)
    tasks.record.using(priority=7, queue_name="mail", run_after=run_after).enqueue(
        "x",
    )
    (row,) = task_rows()
    assert (row.task_path, row.priority, row.queue_name) == (
        "tests.snappea.tasks.record",
        7,
        "mail",
    )
    assert abs((row.run_after - run_after).total_seconds()) < 0.001
    assert json.loads(row.args_kwargs) == {"args": ["x"], "kwargs": {}}


def test_validation(queue_dir, settings):
    settings.TASKS = {"default": {**settings.TASKS["default"], "QUEUES": ["default"]}}
    with pytest.raises(InvalidTask):
        tasks.record.using(queue_name="elsewhere").enqueue("x")
    with pytest.raises(InvalidTask):
        tasks.record.using(priority=1000).enqueue("x")
    with pytest.raises(InvalidTask):
        tasks.record.using(run_after=timezone.now().replace(tzinfo=None)).enqueue("x")


def test_status_through_a_foreman_life(queue_dir, settings, capsys):
    assert foreman_status()["state"] == "never_started"
    foreman = queue_dir.start_foreman()
    wait_for(lambda: foreman_status()["state"] == "idle", what="idle")
    status = foreman_status()
    assert status["heartbeat_age_seconds"] < 5
    assert status["backlog"] == 0
    assert status["pid"] == foreman.pid
    call_command("snappea_status")
    assert "idle" in capsys.readouterr().out

    tasks.fail.enqueue("s")
    tasks.slow.enqueue("s", 5.0)
    wait_for(lambda: "start s" in queue_dir.runs(), what="the slow task")
    wait_for(lambda: foreman_status()["state"] == "running", what="running")
    settings.SNAPPEA_STUCK_AFTER = 0.5
    wait_for(lambda: foreman_status()["state"] == "stuck", timeout=10, what="stuck")
    assert foreman_status()["failed"] == 1
    assert foreman_status()["longest_running_seconds"] > 0.5

    foreman.send_signal(signal.SIGKILL)
    foreman.wait(10)
    assert foreman_status()["state"] == "dead"
    with pytest.raises(CommandError, match="foreman is dead"):
        call_command("snappea_status")


def test_status_backlog_and_oldest_waiting(queue_dir):
    tasks.record.enqueue("a")
    tasks.record.enqueue("b")
    tasks.record.using(run_after=timezone.now() + timedelta(hours=1)).enqueue("c")
    status = foreman_status()
    assert status["backlog"] == 2
    assert status["deferred"] == 1
    assert status["oldest_waiting_seconds"] >= 0


def test_aenqueue(queue_dir):
    import asyncio

    from django.db import connections

    async def enqueue():
        return await tasks.record_async.aenqueue("from async code")

    result = asyncio.run(enqueue())
    (row,) = task_rows()
    assert result.id == str(row.id)
    assert row.task_path == "tests.snappea.tasks.record_async"
    connections.close_all()


def test_queue_connections_use_wal_and_normal_sync(queue_dir):
    from django.db import connections

    tasks.record.enqueue("x")
    with connections["snappea"].cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 1  # NORMAL
    assert (queue_dir.path / "snappea.sqlite3.wake").exists()


def test_status_tells_a_frozen_foreman_from_a_dead_one(queue_dir, settings):
    foreman = queue_dir.start_foreman()
    wait_for(lambda: foreman_status()["state"] == "idle", what="idle")
    settings.SNAPPEA_DEAD_AFTER = 1.0
    foreman.send_signal(signal.SIGSTOP)  # alive but silent, like a hung main loop
    try:
        wait_for(lambda: foreman_status()["state"] == "stuck", timeout=10, what="stuck")
    finally:
        foreman.send_signal(signal.SIGCONT)
    wait_for(lambda: foreman_status()["state"] == "idle", timeout=10, what="idle again")
    foreman.send_signal(signal.SIGKILL)
    foreman.wait(10)
    assert foreman_status()["state"] == "dead"


def test_status_command_json(queue_dir, capsys):
    import json as jsonlib

    tasks.record.enqueue("waiting")
    with pytest.raises(CommandError, match="never_started"):
        call_command("snappea_status", "--json")
    status = jsonlib.loads(capsys.readouterr().out)
    assert status["state"] == "never_started"
    assert status["backlog"] == 1
