"""SnappeaBackend: a Django Tasks backend that writes tasks to the queue's own SQLite file."""

import json
from functools import partial

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from snappea import queue
from snappea.compat import (
    BaseTaskBackend,
    TaskError,
    TaskResult,
    TaskResultDoesNotExist,
    TaskResultStatus,
    normalize_json,
    task_enqueued,
)
from snappea.conf import SnappeaConf  # noqa: F401  (the SNAPPEA_ defaults)
from snappea.queue import as_utc
from snappea.sqlite import wake_file_path
from snappea.wakeup import wake_foreman

PENDING_ID = "pending"  # the id of a result whose enqueue waits for the main transaction to commit


class SnappeaBackend(BaseTaskBackend):
    supports_defer = True
    supports_async_task = True
    supports_priority = True

    def __init__(self, alias, params):
        super().__init__(alias, params)
        # OPTIONS win over the SNAPPEA_ settings, so two backends can differ.
        self.keep_results = bool(self.options.get("RESULTS", settings.SNAPPEA_RESULTS))
        self.supports_get_result = self.keep_results
        self.enqueue_on_commit = bool(
            self.options.get("ENQUEUE_ON_COMMIT", settings.SNAPPEA_ENQUEUE_ON_COMMIT)
        )
        self.on_commit_database = self.options.get(
            "ON_COMMIT_DATABASE", settings.SNAPPEA_ON_COMMIT_DATABASE
        )
        self._wake_file = None

    def enqueue(self, task, args, kwargs):
        self.validate_task(task)
        args_kwargs = normalize_json({"args": args, "kwargs": kwargs})
        now = timezone.now()
        result = TaskResult(
            task=task,
            id=PENDING_ID,
            status=TaskResultStatus.READY,
            enqueued_at=now,
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=args_kwargs["args"],
            kwargs=args_kwargs["kwargs"],
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        payload = json.dumps(args_kwargs, separators=(",", ":"))
        write = partial(self._insert_and_wake, task, payload, result)
        if (
            self.enqueue_on_commit
            and transaction.get_connection(self.on_commit_database).in_atomic_block
        ):
            transaction.on_commit(write, using=self.on_commit_database)
        else:
            write()
        return result

    def _insert_and_wake(self, task, payload, result):
        now = result.enqueued_at
        task_id = queue.insert_task(
            task.module_path,
            task.queue_name,
            task.priority,
            self.alias,
            payload,
            now,
            task.run_after,  # None: due at once, whatever the wall clock does meanwhile
        )
        object.__setattr__(result, "id", str(task_id))
        conn = transaction.get_connection(queue.queue_alias())
        if conn.in_atomic_block:
            # Inside a transaction on the queue database the row is not visible until it commits.
            transaction.on_commit(self._wake, using=queue.queue_alias())
        else:
            self._wake()
        task_enqueued.send(type(self), task_result=result)

    def _wake(self):
        # Cached per database file name: resolving the path costs more than the wake-up itself.
        name = connections[queue.queue_alias()].settings_dict["NAME"]
        if self._wake_file is None or self._wake_file[0] != name:
            self._wake_file = (name, wake_file_path())
        wake_foreman(self._wake_file[1])

    def get_result(self, result_id):
        if not self.keep_results:
            raise NotImplementedError(
                "Results are off: set SNAPPEA_RESULTS = True (or OPTIONS['RESULTS']) to keep them."
            )
        from snappea.models import Task, TaskResultRecord, TaskState

        try:
            task_id = int(result_id)
        except (TypeError, ValueError):
            raise TaskResultDoesNotExist(result_id)
        # The task row first: the foreman deletes it and writes the result in one transaction,
        # so a missing row means the result is already there (or never will be).
        row = Task.objects.filter(id=task_id).first()
        if row is None or row.state == TaskState.FAILED:
            record = TaskResultRecord.objects.filter(id=task_id).first()
            if record is not None:
                return _result_from_record(record)
        if row is None:
            raise TaskResultDoesNotExist(result_id)
        return _result_from_task_row(row)

    def check(self, **kwargs):
        from snappea.checks import check_backend

        return [*super().check(**kwargs), *check_backend(self)]


def _load_task(task_path, backend_name, queue_name, priority):
    from django.utils.module_loading import import_string

    task = import_string(task_path)
    # The stored attributes win over the decorator's: .using() may have changed them at enqueue.
    return task.using(priority=priority, queue_name=queue_name, backend=backend_name)


def _result_from_record(record):
    args_kwargs = json.loads(record.args_kwargs)
    successful = record.status == "SUCCESSFUL"
    errors = []
    if not successful:
        errors.append(
            TaskError(exception_class_path=record.exception_class_path, traceback=record.traceback)
        )
    result = TaskResult(
        task=_load_task(record.task_path, record.backend_name, record.queue_name, record.priority),
        id=str(record.id),
        status=TaskResultStatus.SUCCESSFUL if successful else TaskResultStatus.FAILED,
        enqueued_at=as_utc(record.enqueued_at),
        started_at=as_utc(record.started_at),
        finished_at=as_utc(record.finished_at),
        last_attempted_at=as_utc(record.started_at),
        args=args_kwargs["args"],
        kwargs=args_kwargs["kwargs"],
        backend=record.backend_name,
        errors=errors,
        worker_ids=[record.worker_id] * record.attempts,
    )
    if successful:
        object.__setattr__(result, "_return_value", json.loads(record.return_value))
    return result


def _result_from_task_row(row):
    args_kwargs = json.loads(row.args_kwargs)
    status = {
        "READY": TaskResultStatus.READY,
        "RUNNING": TaskResultStatus.RUNNING,
        "FAILED": TaskResultStatus.FAILED,
    }[row.state]
    errors = []
    if row.last_error:
        errors.append(TaskError(exception_class_path="", traceback=row.last_error))
    return TaskResult(
        task=_load_task(row.task_path, row.backend_name, row.queue_name, row.priority),
        id=str(row.id),
        status=status,
        enqueued_at=as_utc(row.enqueued_at),
        started_at=as_utc(row.claimed_at),
        # A READY row's failed_at is its last failed attempt (a retry waits): not a finish.
        finished_at=as_utc(row.failed_at) if row.state == "FAILED" else None,
        last_attempted_at=as_utc(row.claimed_at),
        args=args_kwargs["args"],
        kwargs=args_kwargs["kwargs"],
        backend=row.backend_name,
        errors=errors,
        worker_ids=["snappea"] * row.attempts,
    )
