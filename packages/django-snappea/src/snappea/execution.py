"""Running one claimed task inside a worker thread, and reporting what happened."""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import connections

from snappea.compat import TaskContext, TaskError, normalize_json, task_finished, task_started
from snappea.queue import ClaimedTask, Outcome, parse_db_datetime, utc_now
from snappea.results import (
    TaskKey,
    load_task,
    mark_finished,
    parse_args_kwargs,
    running_result,
)

if TYPE_CHECKING:
    from snappea.results import LoadedResult

logger = logging.getLogger("snappea.foreman")


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


def exception_path(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


def run_claimed_task(
    claimed: ClaimedTask,
    *,
    worker_id: str,
    keep_result: bool,
    max_retries: int,
    backoff: float,
) -> Outcome:
    """Run the task; keep_result: its backend keeps results (so the return value is kept)."""
    started_at = utc_now()
    started = time.monotonic()
    result: LoadedResult | None = None
    try:
        task = load_task(
            TaskKey(claimed.task_path, claimed.backend_name, claimed.queue_name, claimed.priority)
        )
        result = running_result(
            task,
            claimed.id,
            parse_args_kwargs(claimed.args_kwargs),
            enqueued_at=parse_db_datetime(claimed.enqueued_at),
            started_at=started_at,
            attempts=claimed.attempts,
            worker_id=worker_id,
        )
        task_started.send(type(task.get_backend()), task_result=result)
        if task.takes_context:
            value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
        else:
            value = task.call(*result.args, **result.kwargs)
        return_json = json.dumps(normalize_json(value)) if keep_result else "null"
    except (Exception, SystemExit) as exc:
        finished_at = utc_now()
        elapsed = time.monotonic() - started
        path = exception_path(exc)
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
        if result is not None:
            mark_finished(result, finished_at, TaskError(exception_class_path=path, traceback=tb))
            _send_finished(result)
        return Outcome(
            task=claimed,
            succeeded=False,
            started_at=started_at,
            finished_at=finished_at,
            worker_id=worker_id,
            keep_result=keep_result,
            exception_class_path=path,
            traceback=tb,
            elapsed=elapsed,
            retry_at=(
                finished_at + timedelta(seconds=backoff * 2 ** (claimed.attempts - 1))
                if will_retry
                else None
            ),
        )
    finally:
        # Like the end of a request: a worker thread must not hold connections (WAL checkpoints).
        for connection in connections.all(initialized_only=True):
            connection.close()
    finished_at = utc_now()
    elapsed = time.monotonic() - started
    mark_finished(result, finished_at)
    _send_finished(result)
    return Outcome(
        task=claimed,
        succeeded=True,
        started_at=started_at,
        finished_at=finished_at,
        worker_id=worker_id,
        keep_result=keep_result,
        return_json=return_json,
        elapsed=elapsed,
    )


def _send_finished(result: LoadedResult) -> None:
    try:
        task_finished.send(type(result.task.get_backend()), task_result=result)
    except Exception:
        logger.exception("a task_finished receiver failed")
