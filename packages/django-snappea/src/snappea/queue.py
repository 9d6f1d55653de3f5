"""The queue's hot paths in plain SQL: insert, claim, finish, release, prune.

Plain SQL because these run thousands of times a second; each is one statement or one short write
transaction on the queue's own SQLite file.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, overload

from django.conf import settings
from django.db import connections, transaction
from django.utils.dateparse import parse_datetime

from snappea.conf import queue_alias

_INSERT = (
    "INSERT INTO snappea_task (task_path, queue_name, priority, backend_name, args_kwargs, state,"
    " enqueued_at, run_after, attempts, last_error) VALUES (%s, %s, %s, %s, %s, 'READY', %s, %s, 0, '')"
)
# INDEXED BY: without statistics SQLite would pick the (state, run_after) index and sort the whole
# backlog for every claim; the partial index walks due tasks already in claim order.
# run_after NULL means "at once": a task enqueued while the wall clock read hours ahead is claimed
# the moment the clock is set back, not hours later.
_CLAIM = (
    "UPDATE snappea_task SET state = 'RUNNING', claimed_at = %s, attempts = attempts + 1"
    " WHERE id IN (SELECT id FROM snappea_task INDEXED BY snappea_task_ready_idx"
    " WHERE state = 'READY' AND (run_after IS NULL OR run_after <= %s){queues}"
    " ORDER BY priority DESC, id LIMIT %s)"
    " RETURNING id, task_path, queue_name, priority, backend_name, args_kwargs, enqueued_at, attempts"
)
_CHUNK = 500  # stays far below SQLite's limit on bound parameters
# next_due_at() for a task that is due at once (run_after NULL): earlier than any real time.
DUE_NOW = datetime.min.replace(tzinfo=UTC)


class ClaimedTask(NamedTuple):
    id: int
    task_path: str
    queue_name: str
    priority: int
    backend_name: str
    args_kwargs: str
    enqueued_at: str
    attempts: int


@dataclass(slots=True)
class Outcome:
    """What happened when a worker ran a claimed task."""

    task: ClaimedTask
    succeeded: bool
    started_at: datetime
    finished_at: datetime
    worker_id: str
    keep_result: bool = False  # the task's backend keeps results (its RESULTS setting)
    return_json: str = "null"
    exception_class_path: str = ""
    traceback: str = ""
    retry_at: datetime | None = None  # set when the task failed and will be tried again
    # Seconds the task ran, by the monotonic clock (a clock step cannot skew it).
    elapsed: float = 0.0


def utc_now() -> datetime:
    """snappea keeps every time in UTC, whatever USE_TZ and TIME_ZONE say."""
    return datetime.now(UTC)


def orm_datetime(value: datetime) -> datetime:
    """A UTC time for an ORM write: Django refuses aware values on SQLite when USE_TZ is off."""
    return value if settings.USE_TZ else value.astimezone(UTC).replace(tzinfo=None)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """A time read through the ORM: naive ones (USE_TZ off) were written as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def db_datetime(value: datetime) -> str:
    """A datetime as Django stores it in SQLite (naive UTC text), comparable as text."""
    return str(value.astimezone(UTC).replace(tzinfo=None))


def parse_db_datetime(value: str | datetime) -> datetime:
    """A time read by plain SQL: naive UTC text (or a datetime where the driver converted it)."""
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    if parsed is None:
        raise ValueError(f"not a time: {value!r}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def insert_task(
    task_path: str,
    queue_name: str,
    priority: int,
    backend_name: str,
    args_kwargs: str,
    enqueued_at: datetime,
    run_after: datetime | None,
) -> int:
    """Queue a task; run_after None makes it due at once whatever the wall clock does later."""
    with connections[queue_alias()].cursor() as cursor:
        cursor.execute(
            _INSERT,
            (
                task_path,
                queue_name,
                priority,
                backend_name,
                args_kwargs,
                db_datetime(enqueued_at),
                None if run_after is None else db_datetime(run_after),
            ),
        )
        task_id: int = cursor.lastrowid
        return task_id


def claim_tasks(limit: int, now: datetime, queue_names: Sequence[str] = ()) -> list[ClaimedTask]:
    """Mark up to `limit` due tasks RUNNING and return them, highest priority then oldest first."""
    queues = ""
    params: list[str | int] = [db_datetime(now), db_datetime(now)]
    if queue_names:
        queues = " AND queue_name IN (" + ", ".join(["%s"] * len(queue_names)) + ")"
        params.extend(queue_names)
    params.append(limit)
    with connections[queue_alias()].cursor() as cursor:
        cursor.execute(_CLAIM.format(queues=queues), params)
        rows = [ClaimedTask(*row) for row in cursor.fetchall()]
    # RETURNING gives no order guarantee.
    rows.sort(key=lambda t: (-t.priority, t.id))
    return rows


def finish_tasks(outcomes: Sequence[Outcome]) -> None:
    """Record a batch of outcomes in one transaction: done rows leave, failures stay or retry."""
    if not outcomes:
        return
    alias = queue_alias()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        failed = [o for o in outcomes if not o.succeeded]
        for o in failed:
            if o.retry_at is not None:
                cursor.execute(
                    "UPDATE snappea_task SET state = 'READY', claimed_at = NULL, run_after = %s,"
                    " failed_at = %s, last_error = %s WHERE id = %s",
                    (db_datetime(o.retry_at), db_datetime(o.finished_at), o.traceback, o.task.id),
                )
            else:
                cursor.execute(
                    "UPDATE snappea_task SET state = 'FAILED', claimed_at = NULL, failed_at = %s,"
                    " last_error = %s WHERE id = %s",
                    (db_datetime(o.finished_at), o.traceback, o.task.id),
                )
        to_delete = [o.task.id for o in outcomes if o.succeeded]
        for start in range(0, len(to_delete), _CHUNK):
            chunk = to_delete[start : start + _CHUNK]
            cursor.execute(
                "DELETE FROM snappea_task WHERE id IN (" + ", ".join(["%s"] * len(chunk)) + ")",
                chunk,
            )
        # A result for each finished task (done, or failed for good) whose backend keeps them.
        finished = [o for o in outcomes if o.keep_result and (o.succeeded or o.retry_at is None)]
        if finished:
            cursor.executemany(
                "INSERT OR REPLACE INTO snappea_result (id, task_path, queue_name, priority,"
                " backend_name, args_kwargs, status, enqueued_at, started_at, finished_at, attempts,"
                " return_value, exception_class_path, traceback, worker_id)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        o.task.id,
                        o.task.task_path,
                        o.task.queue_name,
                        o.task.priority,
                        o.task.backend_name,
                        o.task.args_kwargs,
                        "SUCCESSFUL" if o.succeeded else "FAILED",
                        o.task.enqueued_at,
                        db_datetime(o.started_at),
                        db_datetime(o.finished_at),
                        o.task.attempts,
                        o.return_json,
                        o.exception_class_path,
                        o.traceback,
                        o.worker_id,
                    )
                    for o in finished
                ],
            )


def release_tasks(ids: Iterable[int]) -> None:
    """Give claimed tasks that never started back to the queue (used at shutdown)."""
    task_ids = list(ids)
    with connections[queue_alias()].cursor() as cursor:
        for start in range(0, len(task_ids), _CHUNK):
            chunk = task_ids[start : start + _CHUNK]
            cursor.execute(
                "UPDATE snappea_task SET state = 'READY', claimed_at = NULL,"
                " attempts = MAX(attempts - 1, 0) WHERE state = 'RUNNING' AND id IN ("
                + ", ".join(["%s"] * len(chunk))
                + ")",
                chunk,
            )


def requeue_orphans() -> int:
    """Tasks left RUNNING by a foreman that died: ready again (only one foreman holds the lock)."""
    with connections[queue_alias()].cursor() as cursor:
        cursor.execute(
            "UPDATE snappea_task SET state = 'READY', claimed_at = NULL WHERE state = 'RUNNING'"
        )
        requeued: int = cursor.rowcount
        return requeued


def next_due_at(queue_names: Sequence[str] = ()) -> datetime | None:
    """When the earliest waiting task becomes due (it may be in the past; DUE_NOW: at once).

    None when nothing waits. Ordered by the (state, run_after) index, where NULLs come first.
    """
    sql = "SELECT run_after FROM snappea_task WHERE state = 'READY'"
    params: list[str] = []
    if queue_names:
        sql += " AND queue_name IN (" + ", ".join(["%s"] * len(queue_names)) + ")"
        params.extend(queue_names)
    sql += " ORDER BY run_after LIMIT 1"
    with connections[queue_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return DUE_NOW if row[0] is None else parse_db_datetime(row[0])


def rebase_future_retries(now: datetime, tolerance: float) -> int:
    """Retries scheduled while the wall clock read later than `now` (it was stepped back since):
    keep each one's backoff but count it from now, so a step back defers none of them by more
    than its backoff. The foreman calls this at start and when it sees its clock go back.

    Only retries (READY rows with failed_at) move: a run_after the caller chose is wall-clock time.
    """
    horizon = db_datetime(now + timedelta(seconds=tolerance))
    alias = queue_alias()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        # run_after > horizon first: the (state, run_after) index narrows it to deferred rows.
        cursor.execute(
            "SELECT id, run_after, failed_at FROM snappea_task WHERE state = 'READY'"
            " AND run_after > %s AND failed_at > %s",
            (horizon, horizon),
        )
        rows = cursor.fetchall()
        for task_id, run_after, failed_at in rows:
            backoff = parse_db_datetime(run_after) - parse_db_datetime(failed_at)
            cursor.execute(
                "UPDATE snappea_task SET run_after = %s, failed_at = %s WHERE id = %s",
                (db_datetime(now + backoff), db_datetime(now), task_id),
            )
    return len(rows)


def prune(now: datetime, *, keep_failed_for: float, keep_results_for: float) -> int:
    """Delete failed tasks and results past their keep time, in one transaction."""
    alias = queue_alias()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute(
            "DELETE FROM snappea_task WHERE state = 'FAILED' AND failed_at < %s",
            (db_datetime(now - timedelta(seconds=keep_failed_for)),),
        )
        pruned: int = cursor.rowcount
        cursor.execute(
            "DELETE FROM snappea_result WHERE finished_at < %s",
            (db_datetime(now - timedelta(seconds=keep_results_for)),),
        )
        results: int = cursor.rowcount
        return pruned + results
