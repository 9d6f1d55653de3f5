"""The default spool's write path alone: events/s appended by 1, 8 and 32 threads of one process,
with BUGSINK_INGEST_SPOOL_FSYNC off and on, in alternating rounds of the same run.

`python -m benchmarks spool [--rounds N] [--events N]`

Each round writes `--events` events per thread count into a fresh SegmentSpool in a temporary
directory on disk (a small event, as the spool tests write), fsync off then on. With fsync on, a
process's threads share their syncs (group commit), so the cost per event falls as threads rise.
Runs in a subprocess of its own (Django configured with harness.settings and the ingest app).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREADS = (1, 8, 32)


def _write_all(spool, events):
    for event in events:
        spool.write(event)


def _configure():
    import django
    from django.conf import settings

    from harness.settings import TASKS_APPS, shared, sqlite_database

    settings.configure(
        **shared(),
        INSTALLED_APPS=["django.contrib.contenttypes", *TASKS_APPS, "bugsink_ingest"],
        DATABASES={"default": sqlite_database(":memory:")},
    )
    django.setup()


def make_event(n=0):
    from datetime import UTC, datetime

    from bugsink_ingest.spool import SpooledEvent, new_spool_id

    return SpooledEvent(
        spool_id=new_spool_id(),
        project_id=1,
        event_id=f"{n:032x}",
        received_at=datetime.now(UTC),
        payload=b'{"message": "m\\n\\r"}',
        kind="event",
    )


def _measure(rounds: int, count: int) -> dict:
    from django.test import override_settings

    from bugsink_ingest.spool.segments import SegmentSpool

    events = [make_event(i) for i in range(count)]
    rates: dict[str, list[float]] = {}
    for _ in range(rounds):
        for threads in THREADS:
            for fsync in (False, True):
                work = tempfile.mkdtemp(prefix="bench-spool-")
                try:
                    with override_settings(BUGSINK_INGEST_SPOOL_FSYNC=fsync):
                        spool = SegmentSpool(work)
                        shares = [events[i::threads] for i in range(threads)]
                        workers = [
                            threading.Thread(target=_write_all, args=(spool, share))
                            for share in shares
                        ]
                        started = time.perf_counter()
                        for w in workers:
                            w.start()
                        for w in workers:
                            w.join()
                        elapsed = time.perf_counter() - started
                        spool.writer.close()
                finally:
                    shutil.rmtree(work, ignore_errors=True)
                key = f"{threads} {'on' if fsync else 'off'}"
                rates.setdefault(key, []).append(count / elapsed)
    return rates


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks spool")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=2000, help="events per thread count")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _configure()
        print(json.dumps(_measure(args.rounds, args.events)))
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.spool", "--child", *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rates = json.loads(out.strip().splitlines()[-1])
    print(
        f"SegmentSpool.write, {args.events} events per cell, {args.rounds} rounds (median, range)"
    )
    print("| threads | fsync off events/s | fsync on events/s | on / off |")
    print("|---|---|---|---|")
    for threads in THREADS:
        off, on = rates[f"{threads} off"], rates[f"{threads} on"]

        def cell(values):
            return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"

        ratio = statistics.median(on) / statistics.median(off)
        print(f"| {threads} | {cell(off)} | {cell(on)} | {ratio:.0%} |")


if __name__ == "__main__":
    main(sys.argv[1:])
