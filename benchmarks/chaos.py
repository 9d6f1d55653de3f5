"""`python -m benchmarks.chaos [--quick] [--rate=N] [--fuzz-examples=N]`: faults and hostile input.

Starts the reference deployment, keeps a steady stream of SDK-made events flowing, and while it
flows: kill -9 a Gunicorn worker, the foreman, then both; holds a long read transaction and the
write lock on the issues database; pauses the foreman until the spool is full; sends events from
skewed client clocks; steps the servers' own clock (libfaketime); fuzzes the endpoints (hypothesis).
Then it counts what the clients were told against what was stored. Exit status 1 if any
acknowledged event was lost, any 5xx or dropped connection came while no web process was down, or
any fuzzed request got an unclean answer.
"""

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from harness import procstats
from harness.chaos import scenarios
from harness.chaos.fuzz import FuzzTarget, fixed_hostile_requests, run_fuzz, send
from harness.chaos.run import ChaosRun


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos")
    parser.add_argument("--quick", action="store_true", help="shorter holds, fewer fuzz examples")
    parser.add_argument("--rate", type=float, default=100.0, help="background events/s")
    parser.add_argument("--fuzz-examples", type=int, default=None)
    parser.add_argument("--no-clock", action="store_true", help="do not run under libfaketime")
    return parser.parse_args(argv)


def fuzz(run, examples: int) -> dict:
    target = FuzzTarget(
        run.deployment.port,
        run.deployment.dsn.project_id,
        run.deployment.dsn.public_key,
        run.factory.raw("small", 0)[1],
    )
    idle_rss, idle_pss, _ = procstats.idle_memory(run.pid)
    monitor = procstats.TreeMonitor(run.pid, interval=0.1).start()
    answers = run_fuzz(target, examples)
    for name, data in fixed_hostile_requests(target):
        head, _, body = data.partition(b"\r\n\r\n")
        answers.append((f"fixed: {name}", send(target, head + b"\r\n\r\n", body)))
    monitor.stop()
    after_rss, after_pss, _ = procstats.idle_memory(run.pid)
    return {
        "requests": len(answers),
        "answers": Counter(_cls(a.status) for _, a in answers),
        "unclean": [(d, a.status, a.error) for d, a in answers if not a.clean],
        "fixed": [(d, a.status) for d, a in answers if d.startswith("fixed: ")],
        "pss_mib": (idle_pss / 1024, monitor.peak_pss_kib / 1024, after_pss / 1024),
        "rss_mib": (idle_rss / 1024, monitor.peak_rss_kib / 1024, after_rss / 1024),
        "peak_process": max(monitor.peak_rss_by_process.values(), key=lambda v: v[1]),
    }


def _cls(status):
    return "no answer" if status == 0 else f"{status // 100}xx"


def run_all(workdir: Path, args) -> tuple[ChaosRun, object, dict]:
    quick = args.quick
    run = ChaosRun(workdir, rate=args.rate, skew_clock=not args.no_clock)
    with run:
        run.start_load()
        scenarios.kill_web_worker(run)
        scenarios.kill_foreman(run)
        scenarios.kill_worker_and_foreman(run)
        scenarios.long_read_transaction(run, seconds=5 if quick else 15)
        # the deployment's SQLite busy timeout is 20 s: the full run holds the lock past it
        scenarios.write_lock(run, seconds=5 if quick else 25)
        scenarios.fill_spool(run, max_seconds=30 if quick else 90)
        scenarios.client_clock_skew(run)
        scenarios.server_clock_jumps(run, hold=2 if quick else 5)
        fuzz_report = fuzz(run, args.fuzz_examples or (150 if quick else 1000))
        scenarios.kill_web_worker(run)  # still recovers after all that
        ledger = run.settle(timeout=scenarios.CLAIM_RECOVERY_TIMEOUT)
    return run, ledger, fuzz_report


def render(run, ledger, fuzz_report) -> str:
    out = [
        f"Load: {run.rate:.0f} events/s over {run.concurrency} connections "
        f"(1,000-issue mix, SDK-made, brotli); server clock under libfaketime: "
        f"{'yes' if run.clock and run.clock.available else 'no'}; "
        "load average now {:.2f} {:.2f} {:.2f}.\n".format(*os.getloadavg()),
        "| fault | seconds | answers during it | recovery and details |",
        "|---|---|---|---|",
    ]
    for f in run.faults:
        answers = " ".join(f"{k}:{v}" for k, v in sorted(f.answers.items()))
        details = "; ".join(f"{k} {_short(v)}" for k, v in f.details.items())
        out.append(f"| {f.name} | {f.seconds:.1f} | {answers or '-'} | {details} |")
    out += [
        "",
        "| requests tried | faults injected | events acknowledged | acknowledged and stored "
        "| lost | 5xx or no answer while no web process was down | failed while a web process "
        "was down | stored without a 2xx |",
        "|---|---|---|---|---|---|---|---|",
        f"| {ledger.requests} | {len(run.faults)} | {ledger.acknowledged} | {ledger.stored} "
        f"| {len(ledger.lost)} | {len(ledger.violations)} | {ledger.excused} "
        f"| {ledger.extra_stored} |",
        "",
        f"Answers to the load: {dict(ledger.answers)}. After the load stopped, every acknowledged "
        f"event was stored within {_short(run.all_stored_after_s)} s.",
    ]
    if ledger.violations:
        out.append(
            "Violations (first 10): "
            + ", ".join(
                f"{o.status or o.error} at +{o.sent_at - run.deployment.started_at:.1f}s"
                for o in ledger.violations[:10]
            )
        )
    if ledger.lost:
        out.append(f"Lost event ids (first 10): {ledger.lost[:10]}")
    fz = fuzz_report
    out += [
        "",
        "| fuzzed requests | 2xx | 4xx | 5xx | no answer | PSS MiB idle / peak / after "
        "| RSS MiB idle / peak / after |",
        "|---|---|---|---|---|---|---|",
        f"| {fz['requests']} | {fz['answers'].get('2xx', 0)} | {fz['answers'].get('4xx', 0)} "
        f"| {fz['answers'].get('5xx', 0)} | {fz['answers'].get('no answer', 0)} "
        f"| {' / '.join(f'{v:.0f}' for v in fz['pss_mib'])} "
        f"| {' / '.join(f'{v:.0f}' for v in fz['rss_mib'])} |",
        "",
        "Largest single process during the fuzz: {} at {:.0f} MiB RSS.".format(
            fz["peak_process"][0], fz["peak_process"][1] / 1024
        ),
        "",
        "Fixed hostile cases: "
        + "; ".join(f"{d[7:]} -> {s or 'no answer'}" for d, s in fz["fixed"]),
    ]
    if fz["unclean"]:
        out.append(
            "Unclean answers (first 10): "
            + "; ".join(f"{d} -> {s or e}" for d, s, e in fz["unclean"][:10])
        )
    return "\n".join(out)


def _short(value):
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def main(argv):
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-chaos-") as tmp:
        try:
            run, ledger, fuzz_report = run_all(Path(tmp), args)
        finally:
            log = Path(tmp) / "data-serve.log"
            if log.exists():
                kept = Path(tempfile.gettempdir()) / "bench-chaos-serve.log"
                kept.write_bytes(log.read_bytes())
                print(f"(server log kept in {kept})")
    print(render(run, ledger, fuzz_report))
    ok = ledger.ok and not fuzz_report["unclean"]
    print("\nverdict:", "no acknowledged event lost, every answer clean" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
