"""Ingest throughput: accepted events/s and latency p50/p99 for a ~4 KB brotli event made by the
real sentry-sdk, at concurrency 8 and 32, side by side with a trivial Django view answering 200 (the
ceiling), on one Gunicorn with the reference configuration (example_project/gunicorn_conf.py:
gthread, one worker per CPU, 4 threads each) and the same settings and middleware for both paths.

The ingest path is measured alone: events are authenticated, rate-limit counted (an installation
limit set high enough never to trigger, so its SQLite counter is paid), decoded, parsed and written
to the spool (SegmentSpool, the default; --spool picks another); the drain task is enqueued on a Tasks backend that never runs it (DummyBackend),
so no digest work competes for the CPUs. Peak RSS is the whole Gunicorn tree's.

    python -m benchmarks ingest [--duration SECONDS] [--client python|wrk] [--spool CLASS]

The client is the Python generator by default (no install needed); --client wrk measures with wrk,
whose own CPU and scheduling barely show in the figures (see benchmarks/wrk_client.py).
"""

import argparse
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks import wrk_client
from harness.ingest_server import prepare
from harness.loadgen import LoadGenerator, build_request
from harness.payloads import EnvelopeFactory, capture_templates
from harness.processes import ROOT, free_port, start, stop, wait_for_port
from harness.procstats import TreeMonitor, mib

GUNICORN_CONF = ROOT / "example_project" / "gunicorn_conf.py"
KEY = "publickey123"
ROUNDS = 4


class Totals:
    """One path's figures summed over the interleaved slices of a run."""

    def __init__(self):
        self.accepted, self.wall, self.cpu, self.peak_rss = 0, 0.0, 0.0, 0
        self.latencies, self.statuses, self.wrk_runs = [], Counter(), []

    def add(self, result, monitor):
        self.accepted += len(result.accepted)
        self.wall += result.wall
        self.cpu += sum(row[2] for row in monitor.cpu_by_process())
        self.peak_rss = max(self.peak_rss, monitor.peak_rss_kib)
        self.latencies += [o.latency for o in result.outcomes if o.status]
        self.statuses.update(result.statuses)

    def add_wrk(self, result, monitor):
        self.accepted += result.accepted
        self.wall += result.wall
        self.cpu += sum(row[2] for row in monitor.cpu_by_process())
        self.peak_rss = max(self.peak_rss, monitor.peak_rss_kib)
        self.wrk_runs.append(result)
        self.statuses.update({"2xx": result.accepted, "other": result.non_2xx})
        if result.errors:
            self.statuses["socket errors"] += result.errors

    def row(self):
        lat = sorted(self.latencies) or [float("nan")]

        def pct(p):
            if self.wrk_runs:
                return wrk_client.percentile(self.wrk_runs, p)
            return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000

        return {
            "accepted_per_s": self.accepted / self.wall if self.wall else 0.0,
            "p50_ms": pct(50),
            "p99_ms": pct(99),
            "cpu_ms_per_request": self.cpu / max(sum(self.statuses.values()), 1) * 1000,
            "statuses": dict(self.statuses),
            "peak_rss": self.peak_rss,
        }


def run_slice(port, path, headers, requests, concurrency, duration, root_pid, totals):
    if isinstance(requests, wrk_client.Wrk):
        monitor = TreeMonitor(root_pid).start()
        result = requests.run(f"http://127.0.0.1:{port}{path}", concurrency, duration)
        monitor.stop()
        totals.add_wrk(result, monitor)
        return
    gen = LoadGenerator(port, path, headers, concurrency)
    monitor = TreeMonitor(root_pid).start()
    result = gen.run(lambda i: requests[i % len(requests)], duration=duration)
    monitor.stop()
    totals.add(result, monitor)


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks ingest")
    parser.add_argument(
        "--duration", type=float, default=12.0, help="seconds per path and concurrency"
    )
    parser.add_argument(
        "--spool-dir", default="", help="spool directory (default: in a temp dir on disk)"
    )
    parser.add_argument(
        "--spool",
        default="bugsink_ingest.spool.segments.SegmentSpool",
        help="spool class (dotted path); e.g. bugsink_ingest.spool.database.DatabaseSpool",
    )
    parser.add_argument(
        "--fsync",
        action="store_true",
        help="BUGSINK_INGEST_SPOOL_FSYNC on: every event on disk before its 200",
    )
    parser.add_argument(
        "--client",
        choices=("python", "wrk"),
        default="python",
        help="load generator: harness/loadgen.py, or wrk (apt install wrk; C, little CPU)",
    )
    args = parser.parse_args(argv)
    if args.client == "wrk" and not wrk_client.available():
        parser.error("--client wrk needs wrk on PATH (Debian: apt install wrk)")
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    factory = EnvelopeFactory(capture_templates(work / "templates"), KEY)
    events = [factory.make("small", i) for i in range(2000)]
    raw_size = events[0].raw_size
    env = prepare(
        work,
        INGEST_TEST_TASKS="dummy",
        INGEST_TEST_GLOBAL_LIMIT=10**9,
        INGEST_TEST_MAX_BACKLOG=10**7,
        INGEST_TEST_KEY_CACHE=5,
        INGEST_TEST_SPOOL_DIR=args.spool_dir,
        INGEST_TEST_SPOOL=args.spool,
        INGEST_TEST_SPOOL_FSYNC="1" if args.fsync else "",
    )
    port = free_port()
    proc = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(GUNICORN_CONF),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "django.core.wsgi:get_wsgi_application()",
        ],
        env=env,
        log_path=work / "gunicorn.log",
    )
    ingest_requests = ok_requests = None
    try:
        wait_for_port(port, proc, timeout=60)
        host = f"127.0.0.1:{port}"
        ingest_path = "/api/1/envelope/"
        ingest_requests = [
            (e.event_id, build_request(host, ingest_path, factory.headers(), e.body))
            for e in events
        ]
        ok_requests = [("-", build_request(host, "/ok/", {}, events[0].body))]
        if args.client == "wrk":
            ingest_requests = wrk_client.Wrk([e.body for e in events], factory.headers())
            ok_requests = wrk_client.Wrk([events[0].body], {})
        # Warm up both paths (imports, connections, first spool files).
        headers = factory.headers()
        run_slice(port, "/ok/", {}, ok_requests, 8, 1.0, proc.pid, Totals())
        run_slice(port, ingest_path, headers, ingest_requests, 8, 1.0, proc.pid, Totals())
        rows = []
        for concurrency in (8, 32):
            # The machine is shared: slices of the two paths alternate, so that a neighbour's
            # burst of load hits both alike.
            ceiling, ingest = Totals(), Totals()
            piece = args.duration / ROUNDS
            for _ in range(ROUNDS):
                run_slice(port, "/ok/", {}, ok_requests, concurrency, piece, proc.pid, ceiling)
                run_slice(
                    port,
                    ingest_path,
                    headers,
                    ingest_requests,
                    concurrency,
                    piece,
                    proc.pid,
                    ingest,
                )
            rows.append((concurrency, ceiling.row(), ingest.row()))
    finally:
        stop(proc)
        for client in (ingest_requests, ok_requests):
            if isinstance(client, wrk_client.Wrk):
                client.close()
        shutil.rmtree(work, ignore_errors=True)  # tens of thousands of spooled events
    body = events[0].body
    print(
        f"Gunicorn: {GUNICORN_CONF.relative_to(ROOT)} (gthread); spool: {args.spool}; "
        f"client: {args.client}; "
        f"event: {len(body)} bytes brotli" + (f", {raw_size} bytes decoded" if raw_size else "")
    )
    print(
        "| c | path | accepted/s | p50 ms | p99 ms | server CPU ms/req | peak RSS (tree) "
        "| statuses | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for concurrency, ceiling, ingest in rows:
        ratio = (
            ingest["accepted_per_s"] / ceiling["accepted_per_s"] if ceiling["accepted_per_s"] else 0
        )
        for name, r, extra in (("trivial view", ceiling, ""), ("ingest", ingest, f"{ratio:.0%}")):
            print(
                f"| {concurrency} | {name} | {r['accepted_per_s']:.0f} | {r['p50_ms']:.1f} | "
                f"{r['p99_ms']:.1f} | {r['cpu_ms_per_request']:.2f} | {mib(r['peak_rss'])} | "
                f"{r['statuses']} | {extra} |"
            )
    c32 = rows[-1][2]
    ratio32 = c32["accepted_per_s"] / rows[-1][1]["accepted_per_s"]
    print(
        f"targets at c=32: >=60% of ceiling: {ratio32:.0%}; >=1500/s: {c32['accepted_per_s']:.0f}; "
        f"p99 <= 50 ms: {c32['p99_ms']:.1f}"
    )
    return 0
