"""`python -m benchmarks e2e [--quick] [--soak=SECONDS] [--rate=N] [--with-health]
[--layouts=sqlite,scaleout]`: the whole deployment under load.

Starts the reference deployment (`manage.py serve`: Gunicorn + foreman) on loopback with a fresh data
directory per mix, sends envelopes made by the real sentry-sdk (brotli, ~4 KB raw; ~50 KB with local
variables) at concurrency 8 and 32 for three mixes (one issue, 1,000 distinct issues, large events),
and waits until every acknowledged event is in the issues database. In the same run, the same
Gunicorn serves a trivial WSGI app (read body, answer 200): the HTTP ceiling of this machine, the
baseline every figure is put next to.

With --with-health, every level runs --rounds times two ways, alternating on one deployment: the
error events alone, and the same events with the release-health items the SDK sends besides (a
`session` item per envelope, as sentry-sdk makes it with a session that saw the error and ended;
a cron `check_in` item in every --check-in-every-th, by default one in 500: a hundred jobs run
every minute beside ~1,500 errors/s; --check-in-every=10 is a heavy cron load). The mixed run ends when its events, sessions
and check-ins are all counted; the table puts its error rate end to end next to the error-only one.
An unmeasured run first fills the project to its retention cap (RETENTION_FILL events), so that
every measured run evicts as many events as it stores: otherwise the first run of the first round
alone would store without evicting, and the comparison would lean its way.

With --layouts=sqlite,scaleout the same mixes run, one layout after the other, also on the
scale-out path, switched by environment only: PostgreSQL (a fresh database per mix on the server
named by BUGSINK_BENCH_POSTGRES or BUGSINK_TEST_POSTGRES, dropped afterwards), RQ on a
redis-server of the benchmark's own (`serve` supervises the RQ worker) and the database spool.
Each row of the tables names its layout.

Prints markdown tables (ready for BENCHMARKS.md) and, with --json=PATH, writes every figure there.
Bounded: a fixed number of events per run, a deadline per wait; loopback only.
"""

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from harness import procstats
from harness.deployment import Deployment, StoredEvents
from harness.loadgen import LoadGenerator, RunResult
from harness.payloads import EnvelopeFactory, capture_templates
from harness.postgres_server import fresh_database
from harness.processes import ROOT, free_port, stop, wait_for_port
from harness.redis_server import RedisServer

MIXES = {
    "one-issue": "small",  # ~4 KB raw, every event the same issue
    "1000-issues": "distinct",  # ~4 KB raw, 1,000 exception types cycled
    "large": "large",  # ~50 KB raw, deep stack with local variables
}
TARGETS = {
    "e2e_rate": 1000.0,  # events/s end to end, 4 KB events
    "p99_c32_ms": 100.0,
    "idle_pss_mib": 150.0,
    "disk_per_event": 4096,
}
DIGEST_TIMEOUT = 600.0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks e2e")
    parser.add_argument("--quick", action="store_true", help="a short run (fewer events)")
    parser.add_argument("--events", type=int, help="events per run of a 4 KB mix")
    parser.add_argument("--mixes", default=",".join(MIXES), help="comma-separated mixes")
    parser.add_argument("--concurrency", default="8,32", help="comma-separated levels")
    parser.add_argument(
        "--layouts",
        default="sqlite",
        help="comma-separated: sqlite (one machine), scaleout (PostgreSQL from "
        "BUGSINK_BENCH_POSTGRES or BUGSINK_TEST_POSTGRES, RQ on a Redis of its own)",
    )
    parser.add_argument("--soak", type=float, default=0, help="seconds of paced load (memory)")
    parser.add_argument("--rate", type=float, default=300, help="events/s during --soak")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--json", help="write all figures to this file")
    parser.add_argument(
        "--with-health",
        action="store_true",
        help="alternate error-only runs with runs that add a session item to every envelope",
    )
    parser.add_argument(
        "--check-in-every",
        type=int,
        default=500,
        help="with --with-health: a check_in item in every N-th envelope (0: none; default 500)",
    )
    parser.add_argument("--rounds", type=int, help="runs per level and variant (3 with health)")
    return parser.parse_args(argv)


def machine_facts() -> dict:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    import django

    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "kernel": platform.release(),
        "loadavg_at_start": os.getloadavg(),
    }


def load_text() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


# --- one measured run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthMix:
    """What a mixed run adds to each envelope: a session item, and every n-th a check-in."""

    check_in_every: int = 500

    def check_in(self, index: int) -> bool:
        return self.check_in_every > 0 and index % self.check_in_every == 0


def measured_run(
    deployment, store, factory, kind, concurrency, count, health: HealthMix | None = None
) -> dict:
    gen = LoadGenerator(
        deployment.port, deployment.dsn.envelope_path, factory.headers(), concurrency
    )
    if health is None:
        requests = [gen.prepare(factory.make(kind, i)) for i in range(count)]
    else:
        requests = [
            gen.prepare(factory.make(kind, i, session=True, check_in=health.check_in(i)))
            for i in range(count)
        ]
    raw_bytes = len(factory.raw(kind, 0)[1])
    sessions_before, check_ins_before = store.sessions(), store.check_ins()
    stored_before = store.digested()
    rows_before = store.count()
    disk_before = deployment.disk_bytes() + store.database_bytes()
    load_before = os.getloadavg()[0]
    timeline: list[tuple[float, int]] = []
    monitor = procstats.TreeMonitor(deployment.pid).start()
    result = gen.run(lambda i: requests[i] if i < len(requests) else None)
    accepted = len(result.accepted)
    reached, done_at = store.wait_for(
        stored_before + accepted, DIGEST_TIMEOUT, on_poll=lambda t, n: timeline.append((t, n))
    )
    health_figures = {}
    if health is not None:
        accepted_ids = {o.event_id for o in result.accepted}
        sent_check_ins = sum(
            1
            for i, (event_id, _) in enumerate(requests)
            if event_id in accepted_ids and health.check_in(i)
        )
        sessions_reached, sessions_at = wait_for_count(
            store.sessions, sessions_before + accepted, DIGEST_TIMEOUT
        )
        check_ins_reached, check_ins_at = wait_for_count(
            store.check_ins, check_ins_before + sent_check_ins, DIGEST_TIMEOUT
        )
        done_at = max(done_at, sessions_at, check_ins_at)
        reached = reached and sessions_reached and check_ins_reached
        health_figures = {
            "sessions_sent": accepted,
            "sessions_counted": store.sessions() - sessions_before,
            "check_ins_sent": sent_check_ins,
            "check_ins_stored": store.check_ins() - check_ins_before,
        }
    monitor.stop()
    stored = store.digested() - stored_before
    evicted = stored - (store.count() - rows_before)  # retention at work (10,000 per project)
    disk_after = deployment.disk_bytes() + store.database_bytes()
    digest_wall = done_at - result.started_at
    return {
        "kind": kind,
        "variant": "errors + health" if health is not None else "errors",
        **health_figures,
        "raw_bytes": raw_bytes,
        "concurrency": concurrency,
        "sent": count,
        "statuses": dict(result.statuses),
        "accepted": accepted,
        "stored": stored,
        "all_stored": reached,
        "evicted_by_retention": evicted,
        "accepted_per_s": result.accepted_rate(),
        "latency_ms": {p: v * 1000 for p, v in result.latency_percentiles().items()},
        "send_wall_s": result.wall,
        "e2e_wall_s": digest_wall,
        "e2e_per_s": stored / digest_wall if digest_wall > 0 else 0.0,
        "drain_after_send_s": done_at - result.finished_at,
        "max_backlog": max_backlog(result, timeline, stored_before),
        "disk_bytes_per_event": (disk_after - disk_before) / stored if stored else None,
        "peak_rss_mib": monitor.peak_rss_kib / 1024,
        "peak_pss_mib": monitor.peak_pss_kib / 1024,
        "cpu": cpu_by_role(monitor),
        "client_cpu_s": result.client_cpu_seconds,
        "load1_before": load_before,
        "load1_after": os.getloadavg()[0],
    }


def wait_for_count(count, target, timeout, stall=60.0) -> tuple[bool, float]:
    """Poll count() until it reaches target; give up at timeout or after `stall` seconds without
    progress (an item refused somewhere is not worth the whole timeout)."""
    deadline = time.monotonic() + timeout
    last, last_change = -1, time.monotonic()
    while True:
        n, now = count(), time.monotonic()
        if n >= target:
            return True, now
        if n != last:
            last, last_change = n, now
        if now >= deadline or now - last_change > stall:
            return False, now
        time.sleep(0.05)


def max_backlog(result: RunResult, timeline, stored_before) -> int:
    """Largest gap between events acknowledged and events stored at any poll."""
    acks = sorted(o.sent_at + o.latency for o in result.accepted)
    worst, i = 0, 0
    for t, n in timeline:
        while i < len(acks) and acks[i] <= t:
            i += 1
        worst = max(worst, i - (n - stored_before))
    return worst


def cpu_by_role(monitor) -> dict[str, dict]:
    roles: dict[str, dict] = defaultdict(lambda: {"processes": 0, "cpu_s": 0.0, "cores": 0.0})
    for _, role, used, share in monitor.cpu_by_process():
        roles[role]["processes"] += 1
        roles[role]["cpu_s"] += used
        roles[role]["cores"] += share
    return dict(roles)


def memory_now(pid) -> dict:
    rss, pss, samples = procstats.idle_memory(pid)
    return {
        "rss_mib": rss / 1024,
        "pss_mib": pss / 1024,
        "processes": [(s.role, round(s.pss_kib / 1024, 1)) for s in samples],
    }


def settle(seconds=3.0):
    time.sleep(seconds)


# --- the baseline -------------------------------------------------------------------------------


def gunicorn_workers(pid) -> int:
    return sum(1 for s in procstats.sample_tree(pid) if s.role == "gunicorn worker") or 2


def run_baseline(factory, workers, levels, count) -> dict:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUGSINK_")}
    env["WEB_CONCURRENCY"] = str(workers)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",  # the deployment's own Gunicorn settings, the app swapped for the trivial one
            str(ROOT / "benchmarks" / "baseline_gunicorn_conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    results = {}
    try:
        wait_for_port(port, proc, timeout=30)
        for c in levels:
            gen = LoadGenerator(port, "/api/1/envelope/", factory.headers(), c)
            requests = [gen.prepare(factory.make("small", i)) for i in range(count)]
            r = gen.run(lambda i, reqs=requests: reqs[i] if i < len(reqs) else None)
            if not r.accepted:
                raise RuntimeError(f"the baseline server answered nothing: {dict(r.statuses)}")
            results[c] = {
                "accepted_per_s": r.accepted_rate(),
                "latency_ms": {p: v * 1000 for p, v in r.latency_percentiles().items()},
                "statuses": dict(r.statuses),
                "client_cpu_s": r.client_cpu_seconds,
                "wall_s": r.wall,
            }
    finally:
        # Gunicorn waits out keep-alive connections; the figures are taken, so no long wait.
        stop(proc, timeout=15)
    return results


# --- the soak -----------------------------------------------------------------------------------


def _disk_bytes(data_dir: Path, store) -> tuple[int, int]:
    """(the database's bytes: its SQLite files with their WAL, or PostgreSQL's size; everything
    in the data directory: the database on SQLite, the spool, attachments)."""
    files = [p for p in Path(data_dir).rglob("*") if p.is_file()]
    total = 0
    database = store.database_bytes()
    for path in files:
        try:
            size = path.stat().st_size
        except FileNotFoundError:  # a spool segment dropped meanwhile
            continue
        total += size
        if not store.database_url and ".sqlite3" in path.name:
            database += size
    return database, total


def soak(deployment, store, factory, seconds, rate) -> dict:
    gen = LoadGenerator(deployment.port, deployment.dsn.envelope_path, factory.headers(), 8)
    samples = []
    monitor = procstats.TreeMonitor(deployment.pid, interval=1.0).start()
    stored_before = store.digested()
    import threading

    stop = threading.Event()

    def sample_memory():
        t0 = time.monotonic()
        while True:
            rss, pss, _ = procstats.idle_memory(deployment.pid)
            database, data_dir = _disk_bytes(deployment.data_dir, store)
            samples.append(
                (
                    round(time.monotonic() - t0),
                    pss / 1024,
                    rss / 1024,
                    store.digested(),
                    database / 2**20,
                    data_dir / 2**20,
                )
            )
            if stop.wait(10):
                return

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    result = gen.run(
        lambda i: gen.prepare(factory.make("distinct", i)), duration=seconds, rate=rate
    )
    reached, _ = store.wait_for(stored_before + len(result.accepted), DIGEST_TIMEOUT)
    stop.set()
    sampler.join()
    monitor.stop()
    return {
        "seconds": seconds,
        "rate": rate,
        "statuses": dict(result.statuses),
        "accepted": len(result.accepted),
        "stored": store.digested() - stored_before,
        "stored_rows_at_end": store.count(),
        "all_stored": reached,
        "latency_ms": {p: v * 1000 for p, v in result.latency_percentiles().items()},
        # (seconds, PSS MiB, RSS MiB, digested, database MiB, data directory MiB)
        "memory_samples": samples,
        "peak_pss_mib": monitor.peak_pss_kib / 1024,
    }


# --- layouts ------------------------------------------------------------------------------------

LAYOUTS = ("sqlite", "scaleout")


def postgres_admin_url() -> str:
    url = os.environ.get("BUGSINK_BENCH_POSTGRES") or os.environ.get("BUGSINK_TEST_POSTGRES")
    if not url:
        raise SystemExit("--layouts=scaleout needs BUGSINK_BENCH_POSTGRES or BUGSINK_TEST_POSTGRES")
    return url


@contextlib.contextmanager
def layout_env(layout: str, workdir: Path):
    """The deployment's extra environment for one mix of a layout. sqlite: none (the data
    directory holds everything). scaleout: a fresh PostgreSQL database and a Redis of the
    benchmark's own, both gone afterwards, so each mix starts empty as on SQLite."""
    if layout == "sqlite":
        yield {}
        return
    redis = RedisServer(directory=Path(tempfile.mkdtemp(prefix="redis-", dir=workdir)))
    with fresh_database(postgres_admin_url(), "bugsink_bench_") as database_url:
        try:
            redis.start()
            yield {
                "DATABASE_URL": database_url,
                "BUGSINK_TASKS_BACKEND": "rq",  # `serve` supervises the RQ worker
                "REDIS_URL": redis.url,
                "BUGSINK_SPOOL": "database",
            }
        finally:
            redis.close()


# --- orchestration ------------------------------------------------------------------------------


# The issues app's default BUGSINK_ISSUES_RETENTION_MAX_EVENTS (per project), which the reference
# deployment keeps: --with-health fills the project to it before the runs it compares.
RETENTION_FILL = 10_000


def variants(rounds: int, health: HealthMix | None) -> list[HealthMix | None]:
    """The runs of one level: error-only and mixed alternating, the first of each round swapped
    from round to round, so a drift of the machine's load falls on both alike."""
    if health is None:
        return [None] * rounds
    order: list[HealthMix | None] = []
    for n in range(rounds):
        order += [None, health] if n % 2 == 0 else [health, None]
    return order


def run_mix(
    workdir, factory_for, mix, kind, levels, count, rounds=1, health=None, layout="sqlite", env=None
) -> dict:
    data_dir = workdir / f"data-{layout}-{mix}"
    # the deployment's own number of workers; start() returns at once: the start is measured
    deployment = Deployment(data_dir, env=env, web_concurrency=None).start(wait=False)
    store = StoredEvents.of(deployment)
    try:
        dsn = deployment.wait_for_dsn()
        factory = factory_for(dsn.public_key)
        cold_start = deployment.wait_for_first_200(factory.make("small").body, factory.headers())
        # warm every worker and the digest before measuring idle memory
        warm = LoadGenerator(deployment.port, dsn.envelope_path, factory.headers(), 4)
        warm_reqs = [warm.prepare(factory.make("small", i)) for i in range(50)]
        warm_result = warm.run(lambda i: warm_reqs[i] if i < len(warm_reqs) else None)
        store.wait_for(len(warm_result.accepted) + 1, 120)  # + the first-200 probe
        settle()
        idle_before = memory_now(deployment.pid)
        runs = []
        if health is not None:
            print(f"  {layout} {mix}: filling to the retention cap ({RETENTION_FILL} events, "
                  "not measured)", flush=True)  # fmt: skip
            measured_run(deployment, store, factory, kind, max(levels), RETENTION_FILL)
        for c in levels:
            for variant in variants(rounds, health):
                label = "errors + health" if variant is not None else "errors"
                print(f"  {layout} {mix} c={c} {label}: {count} events ({load_text()})", flush=True)
                runs.append(measured_run(deployment, store, factory, kind, c, count, variant))
                print(f"    -> {summary_line(runs[-1])}", flush=True)
        settle()
        idle_after = memory_now(deployment.pid)
        return {
            "layout": layout,
            "mix": mix,
            "cold_start_to_first_200_s": cold_start,
            "idle_before": idle_before,
            "idle_after": idle_after,
            "runs": runs,
            "workers": gunicorn_workers(deployment.pid),
            "total_disk_bytes": deployment.disk_bytes() + store.database_bytes(),
            "total_stored": store.count(),
            "total_digested": store.digested(),
        }, deployment
    except BaseException:
        deployment.stop()
        print(deployment.log()[-3000:], file=sys.stderr)
        raise
    finally:
        store.close()


def warm_restart(deployment, factory_for) -> float:
    """Seconds to the first 200 when `serve` starts again on its existing data directory."""
    deployment.restart(wait=False)
    factory = factory_for(deployment.dsn.public_key)
    try:
        return deployment.wait_for_first_200(factory.make("small").body, factory.headers())
    finally:
        deployment.stop()


def summary_line(run) -> str:
    lat = run["latency_ms"]
    return (
        f"accepted {run['accepted_per_s']:.0f}/s, e2e {run['e2e_per_s']:.0f}/s, "
        f"p50/p95/p99 {lat[50]:.1f}/{lat[95]:.1f}/{lat[99]:.1f} ms, "
        f"stored {run['stored']}/{run['accepted']}, statuses {run['statuses']}"
        + (
            f", sessions {run['sessions_counted']}/{run['sessions_sent']}, "
            f"check-ins {run['check_ins_stored']}/{run['check_ins_sent']}"
            if "sessions_sent" in run
            else ""
        )
    )


def main(argv):
    args = parse_args(argv)
    count = args.events or (1000 if args.quick else 10000)
    levels = [int(c) for c in args.concurrency.split(",")]
    mixes = [m for m in args.mixes.split(",") if m and m != "none"]
    health = HealthMix(args.check_in_every) if args.with_health else None
    rounds = args.rounds or (3 if health else 1)
    layouts = [name for name in args.layouts.split(",") if name]
    unknown = set(layouts) - set(LAYOUTS)
    if unknown or not layouts:
        raise SystemExit(f"--layouts: choose from {', '.join(LAYOUTS)}")
    if "scaleout" in layouts:
        postgres_admin_url()  # fail before the first layout runs, not after it
    if not mixes:  # a soak alone still needs a deployment (measured idle, without load runs)
        mixes, levels = ["1000-issues"], []
    report = {"machine": machine_facts(), "command": "python -m benchmarks e2e " + " ".join(argv)}
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        workdir = Path(tmp)
        templates = capture_templates(workdir / "templates")

        def factory_for(key):
            return EnvelopeFactory(templates, key)

        report["mixes"] = []  # every layout's, in the order they ran; each names its layout
        report["warm_start_to_first_200_s"] = {}
        for n_layout, layout in enumerate(layouts):
            for n_mix, mix in enumerate(mixes):
                kind = MIXES[mix]
                n = count if kind != "large" else max(count // 3, 100)
                with layout_env(layout, workdir) as env:
                    deployment = None
                    try:
                        result, deployment = run_mix(
                            workdir, factory_for, mix, kind, levels, n, rounds, health, layout, env
                        )
                        report["mixes"].append(result)
                        if n_mix == len(mixes) - 1:  # the layout's last deployment
                            if args.soak and n_layout == len(layouts) - 1:
                                print(f"  soak: {args.soak:.0f}s at {args.rate:.0f} events/s")
                                store = StoredEvents.of(deployment)
                                report["soak"] = soak(
                                    deployment,
                                    store,
                                    factory_for(deployment.dsn.public_key),
                                    args.soak,
                                    args.rate,
                                )
                                store.close()
                            report["warm_start_to_first_200_s"][layout] = warm_restart(
                                deployment, factory_for
                            )
                    finally:
                        # one deployment at a time on the two cores; stopped before its
                        # database and Redis go
                        if deployment is not None:
                            deployment.stop()
        report["workers"] = report["mixes"][0]["workers"]
        if not args.no_baseline:
            workers = report["mixes"][0]["workers"]
            report["baseline"] = run_baseline(factory_for("0" * 32), workers, levels, count)
    report["machine"]["loadavg_at_end"] = os.getloadavg()
    print(render(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return report


# --- rendering ----------------------------------------------------------------------------------


def render(report) -> str:
    from benchmarks.e2e_report import render_markdown

    return render_markdown(report, TARGETS)


if __name__ == "__main__":
    main(sys.argv[1:])
