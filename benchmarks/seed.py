"""The seeding command: a large installation built fast, without the HTTP path.

`python -m benchmarks seed [--events N] [--issues N] [--projects N] [--database-url URL]`

benchmarks.ui_data writes the rows (executemany in large transactions, the full-text index filled
as the digest fills it). Without --database-url the data goes into a SQLite file cached under the
temp dir (reused when it exists; its path is printed); with a postgres:// URL, into that database,
which must exist and be empty (it is migrated first). Prints the build time.

Defaults: 1,000,000 events, 50 events per issue, 20 projects.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS_PER_ISSUE = 50
PROJECTS = 20


def parser():
    p = argparse.ArgumentParser(prog="python -m benchmarks seed")
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--issues", type=int, default=None, help="default: events / 50")
    p.add_argument("--projects", type=int, default=PROJECTS)
    p.add_argument("--database-url", default="", help="postgres://...; default: a cached SQLite")
    return p


def shape(args):
    issues = args.issues or max(args.events // EVENTS_PER_ISSUE, 1)
    return issues, args.events, args.projects


def sqlite_target(issues, events, projects):
    """(the cached file, whether it must still be built)."""
    from benchmarks import ui_data

    path = ui_data.cache_path(issues, events, projects)
    return path, not path.exists()


def run_driver(module: str, *args: str, timeout: float = 3 * 3600) -> str:
    """`python -m module args` from the repository's root: its standard output (the drivers run
    apart, each with the Django settings of its database)."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        check=True,
        cwd=ROOT,
        timeout=timeout,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout


def seed(issues, events, projects, database_url=""):
    """Build in a subprocess of its own (Django is configured once per process). Returns
    (the target: a file path or the URL, the build time in seconds or None when cached)."""
    if not database_url:
        path, must_build = sqlite_target(issues, events, projects)
        if not must_build:
            return str(path), None
    out = run_driver(
        "benchmarks.seed",
        "--driver",
        f"--issues={issues}",
        f"--events={events}",
        f"--projects={projects}",
        f"--database-url={database_url}",
    )
    sys.stdout.write(out)
    line = next(x for x in out.splitlines() if x.startswith("SEEDED "))
    _, seconds, target = line.split(" ", 2)
    return target, float(seconds)


def _driver(issues, events, projects, database_url):
    from benchmarks import ui, ui_data

    if database_url:
        target = database_url
    else:
        final, _ = sqlite_target(issues, events, projects)
        target = str(final.with_suffix(".building"))
        for suffix in ("", "-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)
    ui._configure(target)
    from django.core.management import call_command
    from django.db import connections

    t0 = time.perf_counter()
    print(
        f"building {issues:,} issues / {events:,} events / {projects} projects...",
        flush=True,
    )
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - t0
    ui_data.build(issues, events, projects)
    if not database_url:
        with connections["default"].cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connections.close_all()
    seconds = time.perf_counter() - t0
    if not database_url:
        shutil.move(target, final)
        target = str(final)
        size = f", {os.path.getsize(final) / 2**20:,.0f} MB"
    else:
        size = ""
    print(f"built in {seconds:.0f} s (migrate {migrated:.0f} s){size}: {target}", flush=True)
    print(f"SEEDED {seconds:.1f} {target}", flush=True)


def main(argv):
    args = parser().parse_args(argv)
    target, seconds = seed(*shape(args), args.database_url)
    if seconds is None:
        print(f"cached: {target}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--driver"]:
        args = parser().parse_args(sys.argv[2:])
        _driver(*shape(args), args.database_url)
    else:
        main(sys.argv[1:])
