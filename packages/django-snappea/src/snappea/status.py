"""What the foreman is doing, for health checks and `manage.py snappea_status`."""

import os
import socket
from datetime import datetime
from typing import Literal, NotRequired, TypedDict

from django.db import DatabaseError, connections

from snappea.conf import snappea_settings
from snappea.models import ForemanHeartbeat, Task, TaskState
from snappea.queue import as_utc, db_datetime, parse_db_datetime, utc_now

State = Literal["never_started", "idle", "running", "stuck", "dead"]
HEALTHY_STATES: frozenset[State] = frozenset({"idle", "running"})


class ForemanStatus(TypedDict):
    state: State
    heartbeat_age_seconds: float | None
    backlog: int | None  # due tasks waiting
    deferred: int | None  # tasks waiting for a run_after (or a retry's backoff) to come
    oldest_waiting_seconds: float | None  # how long the oldest due task has waited
    failed: int | None  # FAILED rows kept
    running: int
    longest_running_seconds: float | None
    throughput_per_second: float
    done_since_start: int
    failed_since_start: int
    pid: int | None
    hostname: str | None
    started_at: datetime | None
    error: NotRequired[str]  # the queue database could not be read


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def foreman_status() -> ForemanStatus:
    """The foreman's state and the queue's figures.

    state: "never_started" (no foreman ever ran on this queue, or the queue cannot be read: then
    "error" says why), "dead" (stopped, or no heartbeat for SNAPPEA_DEAD_AFTER seconds), "stuck"
    (heartbeat alive but a task has run longer than SNAPPEA_STUCK_AFTER, or its main loop stopped
    beating while its process lives), "running" (tasks in hand or due), "idle" (nothing to do).

    Ages compare this process's wall clock with times another process wrote, so a clock step skews
    them until the foreman's next heartbeat: a heartbeat from the future counts by its distance
    (abs), so one written before a step back cannot look fresh for as long as the step.
    """
    conf = snappea_settings()
    now = utc_now()
    status: ForemanStatus = {
        "state": "never_started",
        "heartbeat_age_seconds": None,
        "backlog": None,
        "deferred": None,
        "oldest_waiting_seconds": None,
        "failed": None,
        "running": 0,
        "longest_running_seconds": None,
        "throughput_per_second": 0.0,
        "done_since_start": 0,
        "failed_since_start": 0,
        "pid": None,
        "hostname": None,
        "started_at": None,
    }
    try:
        row = ForemanHeartbeat.objects.using(conf.database).filter(id=1).first()
        with connections[conf.database].cursor() as cursor:
            # Tasks due at once (run_after NULL), the oldest first by id; then deferred ones now due.
            cursor.execute(
                "SELECT COUNT(*) FROM snappea_task WHERE state = 'READY' AND run_after IS NULL"
            )
            (undeferred,) = cursor.fetchone()
            cursor.execute(
                "SELECT enqueued_at FROM snappea_task WHERE state = 'READY' AND run_after IS NULL"
                " ORDER BY id LIMIT 1"
            )
            oldest_enqueued = cursor.fetchone()
            cursor.execute(
                "SELECT COUNT(*), MIN(run_after) FROM snappea_task WHERE state = 'READY'"
                " AND run_after <= %s",
                (db_datetime(now),),
            )
            due_deferred, oldest_due = cursor.fetchone()
            cursor.execute(
                "SELECT COUNT(*) FROM snappea_task WHERE state = 'READY' AND run_after > %s",
                (db_datetime(now),),
            )
            (deferred,) = cursor.fetchone()
        failed = Task.objects.using(conf.database).filter(state=TaskState.FAILED).count()
    except DatabaseError as exc:
        status["error"] = f"queue database unreadable: {exc}"
        return status
    backlog: int = undeferred + due_deferred
    waits = []
    if oldest_enqueued:
        # Negative when enqueued while the clock read later than now: 0, the least it has waited.
        waits.append(max(0.0, (now - parse_db_datetime(oldest_enqueued[0])).total_seconds()))
    if oldest_due:
        waits.append((now - parse_db_datetime(oldest_due)).total_seconds())
    status.update(
        {
            "backlog": backlog,
            "deferred": deferred,
            "oldest_waiting_seconds": max(waits) if waits else None,
            "failed": failed,
        }
    )
    if row is None:
        return status
    heartbeat_at = as_utc(row.heartbeat_at)
    age = abs((now - heartbeat_at).total_seconds())
    # The foreman writes both times from one clock reading: their difference survives any step.
    longest = (
        (heartbeat_at - as_utc(row.oldest_running_started_at)).total_seconds() + age
        if row.oldest_running_started_at
        else None
    )
    status.update(
        {
            "heartbeat_age_seconds": age,
            "running": row.running,
            "longest_running_seconds": longest,
            "throughput_per_second": row.throughput,
            "done_since_start": row.done,
            "failed_since_start": row.failed,
            "pid": row.pid,
            "hostname": row.hostname,
            "started_at": as_utc(row.started_at),
        }
    )
    same_host = row.hostname == socket.gethostname()
    if row.stopped_at is not None or (same_host and not _process_alive(row.pid)):
        status["state"] = "dead"
    elif age > conf.dead_after:
        # Silent for long: gone, unless we can see its process still there (then it hangs).
        status["state"] = "stuck" if same_host else "dead"
    elif longest is not None and longest > conf.stuck_after:
        status["state"] = "stuck"
    elif row.running or backlog:
        status["state"] = "running"
    else:
        status["state"] = "idle"
    return status
