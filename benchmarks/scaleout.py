"""Digest workers side by side on PostgreSQL: one drain process against two, in one run.

`python -m benchmarks scaleout [--postgres=URL] [--events=N] [--issues=N] [--projects=N]
 [--rounds=N] [--batch=N]`

PostgreSQL is the server at --postgres, else BUGSINK_BENCH_POSTGRES, else BUGSINK_TEST_POSTGRES (a
role with CREATEDB); the benchmark creates a database of its own and drops it at the end. Each
round spools --events (10,000) events into the DatabaseSpool: the event items of real sentry-sdk
envelopes (harness.payloads), over --issues (1,000) exception classes, spread over --projects (4)
fresh projects (so every round creates its issues, as the first); then 1 or 2 worker processes
drain it at once. Rounds alternate 1, 2, 2, 1, ... (--rounds pairs), so drift of the machine and
growth of the database fall on both alike.

The workers are direct drains (bugsink_ingest.drain.Drain with the registered consumer, as
`manage.py bugsink_drain_spool` runs one), not db_worker: a queue's polling and its own rows would
be measured with them, and how many drains run would depend on when tasks were picked up. What
is measured is the digest and the spool's claims under concurrency; the fan-out that starts the
drains (BUGSINK_INGEST_PARALLEL_DRAINS) is tested in tests/ingest/test_parallel_drains.py.

  ev/s          events / wall time, from the moment the ready workers are released until the
                last one found the spool empty;
  worker CPU    user+system CPU of the worker processes, microseconds per event;
  PG CPU        CPU of the PostgreSQL backends serving the workers (from /proc), per event
                (the WAL writer, checkpointer and autovacuum are not in it);
  cores         worker and PG CPU over wall time: how many cores the round got (on a machine
                other users load, the scheduler's share, not the digest, may cap it);
  machine busy  all CPUs' busy share over the round (/proc/stat: other users' load counts too).

Each worker digests batches of different projects; batches that share a project queue for its
settings lock in their write phase (bugsink_issues.digest.consumer), so --projects=1 shows the
serialised case.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def _arg(argv, name, default):
    """`--name=V` (what `python -m benchmarks` passes through) or `--name V`."""
    for i, arg in enumerate(argv):
        if arg.startswith(name + "="):
            return (
                type(default)(arg.split("=", 1)[1]) if default is not None else arg[len(name) + 1 :]
            )
        if arg == name and i + 1 < len(argv):
            return type(default)(argv[i + 1]) if default is not None else argv[i + 1]
    return default


def main(argv):
    url = (
        _arg(argv, "--postgres", None)
        or os.environ.get("BUGSINK_BENCH_POSTGRES")
        or os.environ.get("BUGSINK_TEST_POSTGRES")
    )
    if not url:
        sys.exit("scaleout: name a PostgreSQL server (--postgres=URL or BUGSINK_BENCH_POSTGRES)")
    from harness.postgres_server import fresh_database

    with (
        fresh_database(url, "bench_scaleout_") as database,
        tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp,
    ):
        subprocess.run(
            [sys.executable, "-m", "benchmarks.scaleout", "--driver", tmp, database, *argv],
            check=True,
            cwd=ROOT,
            timeout=3600,
        )


def _configure(database, data_dir, batch):
    import django
    from django.conf import settings

    from harness.settings import TASKS_APPS, shared

    parts = urlsplit(database)
    settings.configure(
        **{
            **shared(),
            "INSTALLED_APPS": [
                "django.contrib.contenttypes",
                "django.contrib.auth",
                *TASKS_APPS,
                "bugsink_ingest",
                "bugsink_issues",
            ],
            "DATABASES": {
                "default": {
                    "ENGINE": "django.db.backends.postgresql",
                    "NAME": parts.path.lstrip("/"),
                    "USER": parts.username or "",
                    "PASSWORD": parts.password or "",
                    "HOST": parts.hostname or "",
                    "PORT": parts.port or "",
                }
            },
            "BUGSINK_INGEST_SPOOL": "bugsink_ingest.spool.database.DatabaseSpool",
            "BUGSINK_INGEST_SPOOL_BATCH_SIZE": batch,
            "BUGSINK_INGEST_SWEEP_SECONDS": None,
            "BUGSINK_ISSUES_RETENTION_MAX_EVENTS": 10_000_000,
            "BUGSINK_ISSUES_ARTIFACT_DIR": str(Path(data_dir) / "artifacts"),
        }
    )
    django.setup()


def _machine_ticks():
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def _process_cpu(pid):
    """User+system CPU seconds of a process (a PostgreSQL backend: /proc/<pid>/stat is public)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return float("nan")  # another machine's server: not measured


def _statement_kind(sql):
    """ "INSERT bugsink_issues_event", "SELECT ... FOR UPDATE bugsink_issues_projectsettings"."""
    words = sql.split()
    verb = words[0].upper() if words else "?"
    table = next(
        (w.strip('"(') for w in words[1:] if w.strip('"(').startswith(("bugsink_", "django_"))),
        "",
    )
    if verb == "SELECT" and "FOR UPDATE" in sql:
        verb = "SELECT FOR UPDATE"
    return f"{verb} {table}".strip()


def _timing(totals):
    """An execute wrapper adding each statement's wall time (round trip and server) by kind."""

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = totals.setdefault(_statement_kind(sql), [0.0, 0])
            entry[0] += time.perf_counter() - started
            entry[1] += len(params) if many and params is not None else 1

    return wrapper


def _worker(database, data_dir, batch):
    _configure(database, data_dir, batch)
    from django.db import connection

    from bugsink_ingest.drain import Drain
    from bugsink_ingest.handoff import get_consumer
    from bugsink_ingest.spool.database import DatabaseSpool

    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    consumer = get_consumer()
    assert consumer is not None
    sql: dict[str, list[float]] = {}
    print("ready", flush=True)
    sys.stdin.readline()  # released with the others
    cpu, pg = resource.getrusage(resource.RUSAGE_SELF), _process_cpu(backend)
    run = Drain(DatabaseSpool(), consumer)
    with connection.execute_wrapper(_timing(sql)):
        emptied = run.run(time.monotonic() + 3600)
    after = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "handed_off": run.handed_off,
                "emptied": emptied,
                "cpu": after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime,
                "pg_cpu": _process_cpu(backend) - pg,
                "sql": sql,
            }
        ),
        flush=True,
    )


def _spool_round(factory, round_, events, issues, projects):
    """Fresh projects, and `events` spooled over them (as DatabaseSpool.write stores them)."""
    from benchmarks.digest import _event_json
    from bugsink_ingest.models import Project, SpoolEntry
    from bugsink_ingest.spool import SpooledEvent, records

    project_ids = [Project.objects.create(name=f"round {round_} #{p}").pk for p in range(projects)]
    now = datetime.now(UTC)
    rows = []
    for i in range(events):
        event_id, envelope = factory.raw("distinct", i % issues)
        event = SpooledEvent(
            uuid.uuid4().hex, project_ids[i % projects], event_id, now, _event_json(envelope)
        )
        rows.append(SpoolEntry(spool_id=event.spool_id, blob=records.dump(event)))
    SpoolEntry.objects.bulk_create(rows, batch_size=1000)
    return project_ids


def _round(database, data_dir, batch, workers):
    """Release `workers` ready drain processes at once; the round's figures."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.scaleout",
                "--worker",
                data_dir,
                database,
                str(batch),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(workers)
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    busy0, total0 = _machine_ticks()
    started = time.perf_counter()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [json.loads(proc.stdout.readline()) for proc in procs]
    wall = time.perf_counter() - started
    busy1, total1 = _machine_ticks()
    for proc in procs:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    return {
        "wall": wall,
        "handed_off": sum(r["handed_off"] for r in results),
        "per_worker": [r["handed_off"] for r in results],
        "cpu": sum(r["cpu"] for r in results),
        "pg_cpu": sum(r["pg_cpu"] for r in results),
        "busy": (busy1 - busy0) / max(1, total1 - total0),
        "sql": _merge([r["sql"] for r in results]),
    }


def _merge(tables):
    merged: dict[str, list[float]] = {}
    for table in tables:
        for kind, (seconds, count) in table.items():
            entry = merged.setdefault(kind, [0.0, 0])
            entry[0] += seconds
            entry[1] += count
    return merged


def _driver(data_dir, database, argv):
    events = _arg(argv, "--events", 10_000)
    issues = _arg(argv, "--issues", 1000)
    projects = _arg(argv, "--projects", 4)
    rounds = _arg(argv, "--rounds", 2)
    batch = _arg(argv, "--batch", 100)
    from harness.payloads import EnvelopeFactory, capture_templates

    factory = EnvelopeFactory(capture_templates(Path(data_dir) / "templates"), "0" * 32)
    _configure(database, data_dir, batch)
    from django.core.management import call_command
    from django.db import connection

    from bugsink_ingest.models import SpoolEntry
    from bugsink_issues.models import Event, Issue

    call_command("migrate", verbosity=0)
    print(
        f"PostgreSQL {connection.cursor().connection.info.server_version}; {events} events "
        f"over {issues} issues in {projects} project(s) per round, batches of {batch}; "
        f"{os.cpu_count()} CPUs; load {_load()} at start"
    )
    # A warm-up round (not counted): caches, the first issues and releases of the database.
    _spool_round(factory, "warm-up", min(events, 1000), issues, projects)
    _round(database, data_dir, batch, 1)
    order = [w for pair in range(rounds) for w in ((1, 2) if pair % 2 == 0 else (2, 1))]
    figures: dict[int, list[dict]] = {1: [], 2: []}
    print(
        f"{'round':>5} {'workers':>7} {'ev/s':>7} {'split':>11} {'worker CPU':>10} "
        f"{'PG CPU':>8} {'cores':>5} {'busy':>5}  (CPU in µs per event)"
    )
    for number, workers in enumerate(order, 1):
        project_ids = _spool_round(factory, number, events, issues, projects)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        result = _round(database, data_dir, batch, workers)
        stored = Event.objects.filter(project_id__in=project_ids).count()
        made = Issue.objects.filter(project_id__in=project_ids).count()
        assert result["handed_off"] == events and stored == events, (result, stored)
        expected = len({(i % projects, i % issues) for i in range(events)})
        assert made == expected and not SpoolEntry.objects.exists(), (made, expected)
        figures[workers].append(result)
        print(
            f"{number:>5} {workers:>7} {events / result['wall']:>7.0f} "
            f"{'/'.join(map(str, result['per_worker'])):>11} "
            f"{result['cpu'] / events * 1e6:>10.0f} {result['pg_cpu'] / events * 1e6:>8.0f} "
            f"{(result['cpu'] + result['pg_cpu']) / result['wall']:>5.2f} {result['busy']:>5.0%}",
            flush=True,
        )
    rate = {w: statistics.median(events / r["wall"] for r in figures[w]) for w in (1, 2)}
    print("SQL wall time (round trip and server, waits included), µs per event, all rounds:")
    sql = {w: _merge([r["sql"] for r in figures[w]]) for w in (1, 2)}
    total = {w: events * len(figures[w]) for w in (1, 2)}
    # By the 2-worker time: lock waits show there (the project settings row's FOR UPDATE).
    kinds = sorted(sql[2], key=lambda k: -sql[2][k][0])[:14]
    print(f"{'statement':<58} {'1 worker':>9} {'2 workers':>9} {'per event':>9}")
    for kind in kinds:
        one, two = sql[1].get(kind, [0.0, 0]), sql[2][kind]
        print(
            f"{kind[:58]:<58} {one[0] / total[1] * 1e6:>9.0f} {two[0] / total[2] * 1e6:>9.0f} "
            f"{one[1] / total[1]:>9.1f}"
        )
    for w in (1, 2):
        all_sql = sum(v[0] for v in sql[w].values()) / total[w] * 1e6
        print(f"all SQL, {w} worker(s): {all_sql:.0f} µs per event (summed over workers)")
    print(
        f"median ev/s: 1 worker {rate[1]:.0f}, 2 workers {rate[2]:.0f}; "
        f"2 workers / 1 worker = {rate[2] / rate[1]:.2f}x; load {_load()} at end"
    )


def _load():
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


if __name__ == "__main__":
    if sys.argv[1] == "--driver":
        _driver(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "--worker":
        _worker(sys.argv[3], sys.argv[2], int(sys.argv[4]))
