"""snappea against django-tasks-db's DatabaseBackend (SQLite, its db_worker), same no-op task.

`python -m benchmarks snappea [--tasks N] [--tasks-db N] [--samples N]`

Each backend runs in a driver subprocess of its own (Django is configured once per process) on
fresh SQLite files in a temporary directory, both with WAL and synchronous=NORMAL:
  enqueue rate   N no-op tasks enqueued one by one from one process, no worker running;
  drain rate     then the worker starts; tasks done per second between its first and last
                 visible progress (worker start-up excluded);
  latency        with the worker idle, one task at a time: wall time from just before enqueue()
                 to the first line of the task function; p50 and p99.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Written into the driver's data directory (the worker imports it by name), after harness.settings.
SETTINGS = """
import os
from pathlib import Path

from harness.settings import *
from harness.settings import SQLITE_OPTIONS, SQLITE_WAL, TASKS_APPS, sqlite_database

DATA_DIR = Path(__file__).resolve().parent
BACKEND = os.environ["BENCH_BACKEND"]
_OPTIONS = {**SQLITE_OPTIONS, **SQLITE_WAL}
DATABASES = {
    "default": sqlite_database(DATA_DIR / "main.sqlite3", _OPTIONS),
    "snappea": sqlite_database(DATA_DIR / "snappea.sqlite3", _OPTIONS),
}
if BACKEND == "snappea":
    INSTALLED_APPS = ["django.contrib.contenttypes", *TASKS_APPS, "snappea"]
    DATABASE_ROUTERS = ["snappea.routers.SnappeaRouter"]
    TASKS = {"default": {"BACKEND": "snappea.backend.SnappeaBackend"}}
else:
    INSTALLED_APPS = ["django.contrib.contenttypes", *TASKS_APPS, "django_tasks_db"]
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
"""

TASKS = """
import os
import time
from importlib.util import find_spec

if find_spec("django.tasks"):
    from django.tasks import task
else:
    from django_tasks import task

_LATENCY_LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "latency.log")


@task
def noop():
    pass


@task
def stamp(enqueued_at):
    started = time.time()
    with open(_LATENCY_LOG, "a") as f:
        f.write(f"{started - enqueued_at}\\n")
"""


def _remaining(backend) -> int:
    from django.db import connections

    if backend == "snappea":
        sql, alias = "SELECT COUNT(*) FROM snappea_task", "snappea"
    else:
        sql, alias = (
            "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE status = 'READY'",
            "default",
        )
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def drive(backend: str, data_dir: Path, n_tasks: int, samples: int, worker_args=()) -> dict:
    """Runs inside the driver subprocess, Django configured for `backend`."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if backend == "snappea":
        call_command("migrate", database="snappea", verbosity=0)
    from bench_tasks import noop, stamp

    started = time.perf_counter()
    for _ in range(n_tasks):
        noop.enqueue()
    enqueue_rate = n_tasks / (time.perf_counter() - started)

    if backend == "snappea":
        command = ["runsnappea"]
    else:
        command = ["db_worker", "--no-startup-delay", "--no-reload", *worker_args]
    env = {**os.environ}
    log = open(data_dir / f"{backend}-worker.log", "ab")
    worker = subprocess.Popen(
        [sys.executable, "-m", "django", *command], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 600
        first = None
        while time.monotonic() < deadline:
            left = _remaining(backend)
            now = time.perf_counter()
            if first is None and left < n_tasks:
                first = (now, left)
            if left == 0:
                break
            time.sleep(0.005)
        else:
            raise RuntimeError(f"{backend}: the queue did not drain within 600s")
        drain_rate = first[1] / (now - first[0]) if now > first[0] else float("inf")

        latency_log = data_dir / "latency.log"
        latency_log.touch()
        latencies = []
        for i in range(samples):
            time.sleep(0.02)  # let the worker go idle
            stamp.enqueue(time.time())
            wait_until = time.monotonic() + 10
            while time.monotonic() < wait_until:
                lines = latency_log.read_text().splitlines()
                if len(lines) > i:
                    break
                time.sleep(0.0005)
            else:
                raise RuntimeError(f"{backend}: a latency sample did not run within 10s")
        latencies = [float(x) * 1000 for x in latency_log.read_text().splitlines()]
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "tasks": n_tasks,
        "enqueue_per_s": enqueue_rate,
        "drain_per_s": drain_rate,
        "latency_samples": len(latencies),
        "latency_p50_ms": statistics.median(latencies),
        "latency_p99_ms": quantiles[98],
    }


def _run_driver(backend, n_tasks, samples, worker_args=()) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-{backend}-") as tmp:
        data_dir = Path(tmp)
        (data_dir / "bench_settings.py").write_text(SETTINGS)
        (data_dir / "bench_tasks.py").write_text(TASKS)
        env = {
            **os.environ,
            "BENCH_BACKEND": backend,
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PYTHONPATH": os.pathsep.join([str(data_dir), str(ROOT)]),
        }
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.snappea",
                backend,
                str(data_dir),
                str(n_tasks),
                str(samples),
                *worker_args,
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        if proc.returncode != 0:
            worker_log = data_dir / f"{backend}-worker.log"
            sys.exit(
                f"{backend} driver failed:\n{proc.stderr}\n"
                + (worker_log.read_text() if worker_log.exists() else "")
            )
        return json.loads(proc.stdout.strip().splitlines()[-1])


def _option(argv, name, default):
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith(name + "="):
            return int(arg.split("=", 1)[1])
    return default


def main(argv):
    n_snappea = _option(argv, "--tasks", 20000)
    n_db = _option(argv, "--tasks-db", 2000)
    samples = _option(argv, "--samples", 200)
    samples_db = _option(argv, "--samples-db", 20)
    snappea = _run_driver("snappea", n_snappea, samples)
    db = _run_driver("tasks-db", n_db, samples_db)
    # The same worker polling every 10 ms: its best latency, bought with a near-busy loop.
    fast = _run_driver("tasks-db", n_db, samples_db * 3, ["--interval", "0.01"])
    rows = [
        ("enqueue, 1 process (tasks/s)", "enqueue_per_s", True, ">= 5,000", lambda v: v >= 5000),
        ("drain, no-op (tasks/s)", "drain_per_s", True, ">= 5,000 and >= 10x", None),
        ("enqueue-to-start p50 (ms)", "latency_p50_ms", False, "<= 2 ms", lambda v: v <= 2),
        ("enqueue-to-start p99 (ms)", "latency_p99_ms", False, "", None),
    ]
    print()
    print(
        f"{'':30} {'snappea':>10} {'tasks-db':>10} {'tdb 10ms':>10}"
        f" {'vs tasks-db':>12} {'vs 10ms':>8}   target (snappea)"
    )
    for label, key, higher_better, target, ok in rows:
        a, b, c = snappea[key], db[key], fast[key]
        ratio_b = a / b if higher_better else b / a
        ratio_c = a / c if higher_better else c / a
        if key == "drain_per_s":
            met = a >= 5000 and ratio_b >= 10
        else:
            met = ok(a) if ok else None
        verdict = "" if met is None else (" (met)" if met else " (MISSED)")
        print(
            f"{label:30} {a:10,.1f} {b:10,.1f} {c:10,.1f} {ratio_b:11.1f}x {ratio_c:7.1f}x"
            f"   {target}{verdict}"
        )
    print(
        f"\nsnappea: SnappeaBackend, one runsnappea, default settings ({n_snappea} tasks, {samples} samples).\n"
        f"tasks-db: django-tasks-db DatabaseBackend on SQLite (WAL, synchronous=NORMAL), one db_worker,\n"
        f"  default --interval 1 ({n_db} tasks, {samples_db} samples); tdb 10ms: the same with"
        f" --interval 0.01 ({samples_db * 3} samples).\n"
        "'vs' columns: how many times better snappea is (higher rate, or lower latency)."
    )


if __name__ == "__main__":
    # The driver: python -m benchmarks.snappea BACKEND DATA_DIR N_TASKS SAMPLES
    backend, data_dir, n_tasks, samples, *worker_args = sys.argv[1:]
    print(json.dumps(drive(backend, Path(data_dir), int(n_tasks), int(samples), worker_args)))
