"""The Tasks API's TaskResult, built here and nowhere else: at enqueue, for a running task, and from
the queue's rows for get_result(). TaskResult is a frozen dataclass; the few fields that change
while a caller holds the object (the id after a deferred enqueue, the status and finish time of a
run) change here too."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, ParamSpec, TypedDict, TypeVar

from django.utils.module_loading import import_string

from snappea.compat import Task, TaskError, TaskResult, TaskResultStatus, normalize_json
from snappea.queue import as_utc

P = ParamSpec("P")
R = TypeVar("R")

if TYPE_CHECKING:
    # Models are imported late (this module loads with the backend, before the app registry
    # may be ready).
    from snappea.models import Task as TaskRow
    from snappea.models import TaskResultRecord

    # A task loaded by its dotted path: what it takes and returns is known to its author only.
    # (Type-checking names only: the backport's TaskResult takes one type parameter, not two.)
    LoadedTask = Task[..., object]
    LoadedResult = TaskResult[..., object]


class ArgsKwargs(TypedDict):
    """A task's arguments as the queue stores them (JSON)."""

    args: list[object]
    kwargs: dict[str, object]


def args_kwargs_for(args: Sequence[object], kwargs: Mapping[str, object]) -> ArgsKwargs:
    """The arguments as JSON gives them back (tuples become lists, ...), as the task will see them."""
    normalized = normalize_json({"args": list(args), "kwargs": dict(kwargs)})
    if not isinstance(normalized, dict):  # a dict in, a dict out
        raise TypeError(f"normalize_json turned a dict into {type(normalized).__name__}")
    return {"args": list(normalized["args"]), "kwargs": dict(normalized["kwargs"])}


def parse_args_kwargs(stored: str) -> ArgsKwargs:
    """The arguments as the queue stored them (written by args_kwargs_for)."""
    loaded = json.loads(stored)
    return {"args": loaded["args"], "kwargs": loaded["kwargs"]}


# The id of a result whose enqueue waits for the surrounding transaction to commit.
PENDING_ID = "pending"
# A waiting or failed task row does not record which foreman ran it; one entry per attempt.
_UNRECORDED_WORKER = "snappea"


class TaskKey(NamedTuple):
    """What a queue row says of its task; the stored attributes win over the decorator's, as
    .using() may have changed them at enqueue."""

    task_path: str
    backend_name: str
    queue_name: str
    priority: int


# Building a Task validates it (signature inspection): once per distinct task, not per run.
_tasks: dict[TaskKey, LoadedTask] = {}


def load_task(key: TaskKey) -> LoadedTask:
    task = _tasks.get(key)
    if task is None:
        decorated: LoadedTask = import_string(key.task_path)
        task = decorated.using(
            priority=key.priority, queue_name=key.queue_name, backend=key.backend_name
        )
        _tasks[key] = task
    return task


def _task_result(
    *,
    task: Task[P, R],
    id: str,
    status: TaskResultStatus,
    enqueued_at: datetime | None,
    started_at: datetime | None,
    finished_at: datetime | None,
    args_kwargs: ArgsKwargs,
    errors: list[TaskError],
    worker_ids: list[str],
) -> TaskResult[P, R]:
    return TaskResult(
        task=task,
        id=id,
        status=status,
        enqueued_at=enqueued_at,
        started_at=started_at,
        finished_at=finished_at,
        # snappea's rows keep one start time: that of the latest attempt.
        last_attempted_at=started_at,
        args=args_kwargs["args"],
        kwargs=args_kwargs["kwargs"],
        backend=task.backend,
        errors=errors,
        worker_ids=worker_ids,
    )


def enqueued_result(
    task: Task[P, R], args_kwargs: ArgsKwargs, enqueued_at: datetime
) -> TaskResult[P, R]:
    """The result enqueue() returns: READY, its id PENDING_ID until the row is written."""
    return _task_result(
        task=task,
        id=PENDING_ID,
        status=TaskResultStatus.READY,
        enqueued_at=enqueued_at,
        started_at=None,
        finished_at=None,
        args_kwargs=args_kwargs,
        errors=[],
        worker_ids=[],
    )


def running_result(
    task: LoadedTask,
    task_id: int,
    args_kwargs: ArgsKwargs,
    *,
    enqueued_at: datetime | None,
    started_at: datetime,
    attempts: int,
    worker_id: str,
) -> LoadedResult:
    """The result a running task sees (TaskContext) and the task signals carry."""
    return _task_result(
        task=task,
        id=str(task_id),
        status=TaskResultStatus.RUNNING,
        enqueued_at=enqueued_at,
        started_at=started_at,
        finished_at=None,
        args_kwargs=args_kwargs,
        errors=[],
        worker_ids=[worker_id] * attempts,
    )


def result_from_record(record: TaskResultRecord) -> LoadedResult:
    """A finished task's result, from its result row."""
    successful = record.status == TaskResultStatus.SUCCESSFUL
    errors: list[TaskError] = []
    if not successful:
        errors.append(
            TaskError(exception_class_path=record.exception_class_path, traceback=record.traceback)
        )
    result = _task_result(
        task=load_task(
            TaskKey(record.task_path, record.backend_name, record.queue_name, record.priority)
        ),
        id=str(record.id),
        status=TaskResultStatus.SUCCESSFUL if successful else TaskResultStatus.FAILED,
        enqueued_at=as_utc(record.enqueued_at),
        started_at=as_utc(record.started_at),
        finished_at=as_utc(record.finished_at),
        args_kwargs=parse_args_kwargs(record.args_kwargs),
        errors=errors,
        worker_ids=[record.worker_id] * record.attempts,
    )
    if successful:
        object.__setattr__(result, "_return_value", json.loads(record.return_value))
    return result


def result_from_task_row(row: TaskRow) -> LoadedResult:
    """A task still in the queue: waiting (READY), running, or FAILED for good."""
    failed = row.state == TaskResultStatus.FAILED
    errors: list[TaskError] = []
    if row.last_error:
        errors.append(TaskError(exception_class_path="", traceback=row.last_error))
    return _task_result(
        task=load_task(TaskKey(row.task_path, row.backend_name, row.queue_name, row.priority)),
        id=str(row.id),
        status=TaskResultStatus(row.state),
        enqueued_at=as_utc(row.enqueued_at),
        started_at=as_utc(row.claimed_at),
        # A READY row's failed_at is its last failed attempt (a retry waits): not a finish.
        finished_at=as_utc(row.failed_at) if failed else None,
        args_kwargs=parse_args_kwargs(row.args_kwargs),
        errors=errors,
        worker_ids=[_UNRECORDED_WORKER] * row.attempts,
    )


def set_result_id(result: TaskResult[P, R], task_id: int) -> None:
    object.__setattr__(result, "id", str(task_id))


def mark_finished(
    result: LoadedResult, finished_at: datetime, error: TaskError | None = None
) -> None:
    """SUCCESSFUL, or FAILED with its error."""
    object.__setattr__(result, "finished_at", finished_at)
    if error is None:
        object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
    else:
        object.__setattr__(result, "status", TaskResultStatus.FAILED)
        result.errors.append(error)
