"""Tasks that the test foreman runs; each leaves a trace in $SNAPPEA_TEST_DIR/runs.log."""

import os
import time
from pathlib import Path

from harness.compat import TASKS_MODULE

if TASKS_MODULE == "django.tasks":
    from django.tasks import task
else:
    from django_tasks import task


def _log(line: str) -> None:
    # One small O_APPEND write per line: lines from concurrent worker threads never interleave.
    fd = os.open(
        Path(os.environ["SNAPPEA_TEST_DIR"]) / "runs.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND
    )
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


@task
def record(label):
    _log(f"ran {label} {time.time()}")


@task
async def record_async(label):
    _log(f"ran {label}")


@task
def slow(label, seconds):
    _log(f"start {label}")
    time.sleep(seconds)
    _log(f"end {label}")


@task
def fail(label):
    _log(f"ran {label}")
    raise ValueError(f"task {label} failed on purpose")


@task
def add(a, b):
    return a + b


@task(takes_context=True)
def flaky(context, label):
    _log(f"attempt {label} {context.attempt}")
    if context.attempt < 2:
        raise RuntimeError("first attempt fails on purpose")
    return context.attempt


@task
def use_main_database(label):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    _log(f"ran {label}")


@task(takes_context=True)
def record_claim(context, label):
    """Logs when its row was claimed: tasks claimed in one transaction share that time."""
    from snappea.models import Task

    claimed_at = Task.objects.get(id=int(context.task_result.id)).claimed_at
    _log(f"claimed {label} {claimed_at.isoformat()}")
