"""Running one claimed task inside a worker thread, and reporting what happened."""

import json
import logging
import sys
import time
import traceback
from datetime import timedelta

from django.db import connections
from django.utils.module_loading import import_string

from snappea.compat import (
    TaskContext,
    TaskError,
    TaskResult,
    TaskResultStatus,
    normalize_json,
    task_finished,
    task_started,
)
from snappea.queue import ClaimedTask, Outcome, parse_db_datetime, utc_now

logger = logging.getLogger("snappea.foreman")

# Building a Task validates it (signature inspection): do it once per distinct task, not per run.
_task_cache: dict = {}


def load_task(task_path, backend_name, queue_name, priority):
    key = (task_path, backend_name, queue_name, priority)
    task = _task_cache.get(key)
    if task is None:
        task = import_string(task_path).using(
            priority=priority, queue_name=queue_name, backend=backend_name
        )
        _task_cache[key] = task
    return task


def capture_with_sentry(exc: BaseException) -> None:
    """Report to Sentry when the host process initialised sentry_sdk; never import it ourselves."""
    sentry_sdk = sys.modules.get("sentry_sdk")
    if sentry_sdk is None:
        return
    try:
        if sentry_sdk.get_client().is_active():
            sentry_sdk.capture_exception(exc)
    except Exception:  # reporting must never take the foreman down
        logger.debug("could not report to Sentry", exc_info=True)


def run_claimed_task(
    claimed: ClaimedTask, *, worker_id: str, keep_results: bool, max_retries: int, backoff: float
) -> Outcome:
    started_at = utc_now()
    started = time.monotonic()
    result = None
    try:
        task = load_task(
            claimed.task_path, claimed.backend_name, claimed.queue_name, claimed.priority
        )
        args_kwargs = json.loads(claimed.args_kwargs)
        result = TaskResult(
            task=task,
            id=str(claimed.id),
            status=TaskResultStatus.RUNNING,
            enqueued_at=parse_db_datetime(claimed.enqueued_at),
            started_at=started_at,
            finished_at=None,
            last_attempted_at=started_at,
            args=args_kwargs["args"],
            kwargs=args_kwargs["kwargs"],
            backend=claimed.backend_name,
            errors=[],
            worker_ids=[worker_id] * claimed.attempts,
        )
        task_started.send(type(task.get_backend()), task_result=result)
        if task.takes_context:
            value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
        else:
            value = task.call(*result.args, **result.kwargs)
        return_json = json.dumps(normalize_json(value)) if keep_results else "null"
    except (Exception, SystemExit) as exc:
        finished_at = utc_now()
        elapsed = time.monotonic() - started
        path = f"{type(exc).__module__}.{type(exc).__qualname__}"
        tb = "".join(traceback.format_exception(exc))
        will_retry = claimed.attempts <= max_retries
        logger.error(
            "Task %s #%s failed (attempt %s%s)",
            claimed.task_path,
            claimed.id,
            claimed.attempts,
            ", will retry" if will_retry else "",
            exc_info=exc,
        )
        capture_with_sentry(exc)
        outcome = Outcome(
            task=claimed,
            succeeded=False,
            started_at=started_at,
            finished_at=finished_at,
            worker_id=worker_id,
            exception_class_path=path,
            traceback=tb,
            elapsed=elapsed,
            retry_at=(
                finished_at + timedelta(seconds=backoff * 2 ** (claimed.attempts - 1))
                if will_retry
                else None
            ),
        )
        if result is not None:
            object.__setattr__(result, "status", TaskResultStatus.FAILED)
            object.__setattr__(result, "finished_at", finished_at)
            result.errors.append(TaskError(exception_class_path=path, traceback=tb))
            _send_finished(result)
        return outcome
    finally:
        # Like the end of a request: a worker thread must not hold connections (WAL checkpoints).
        for connection in connections.all(initialized_only=True):
            connection.close()
    finished_at = utc_now()
    elapsed = time.monotonic() - started
    object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
    object.__setattr__(result, "finished_at", finished_at)
    _send_finished(result)
    return Outcome(
        task=claimed,
        succeeded=True,
        started_at=started_at,
        finished_at=finished_at,
        worker_id=worker_id,
        return_json=return_json,
        elapsed=elapsed,
    )


def _send_finished(result):
    try:
        task_finished.send(type(result.task.get_backend()), task_result=result)
    except Exception:
        logger.exception("a task_finished receiver failed")
