"""Idle memory of the reference deployment, per process: `python -m benchmarks memory`.

Starts `manage.py serve` (the deployment's own number of Gunicorn workers, one per CPU) on a fresh
data directory and reads PSS and RSS of every process in its tree from /proc (harness.procstats):
once idle after the start, and again after it did a little of everything (a logged-in page of the
UI, one call to the API with a token, one event ingested and digested), which is what a deployment
looks like for most of its life. PSS splits shared pages fairly between the processes that map
them, so the per-process figures add up to what the deployment costs.

Options: --rounds N (start N deployments one after another and report each; default 1), --uses N
(page, call and send N times instead of once), --compare (each round twice, alternating: the
default, Gunicorn and the foreman forked from one loaded site, and BUGSINK_SERVE_FORK=0, every
process started afresh), --json PATH.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from harness import procstats
from harness.deployment import ADMIN_EMAIL, Deployment, StoredEvents

TARGET_MIB = 120.0
SETTLE_S = 3.0
ROLE_ORDER = ["supervisor", "gunicorn master", "gunicorn worker", "foreman"]


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks memory")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--uses", type=int, default=1, help="how many times to page, call and send (default 1)"
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="each round forked (the default) and with BUGSINK_SERVE_FORK=0, side by side",
    )
    parser.add_argument("--json", help="write the figures to this file too")
    return parser.parse_args(argv)


def anon_pss_kib(pid: int) -> int:
    """The anonymous part of PSS (the process's heap, stacks, copied pages). The rest, pages of
    files (libpython, extension modules), is shared with every process on the machine that maps
    them: it changes with what else runs, so comparisons between runs read this part."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss_Anon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def snapshot(pid: int) -> list[dict]:
    rows = [
        {
            "pid": s.pid,
            "role": s.role,
            "pss_mib": s.pss_kib / 1024,
            "anon_mib": anon_pss_kib(s.pid) / 1024,
            "rss_mib": s.rss_kib / 1024,
        }
        for s in procstats.sample_tree(pid)
    ]
    rank = {r: i for i, r in enumerate(ROLE_ORDER)}
    return sorted(rows, key=lambda r: (rank.get(r["role"], len(rank)), r["pid"]))


def envelope(public_key: str) -> tuple[bytes, dict]:
    """One small error event, as an SDK would send it (uncompressed)."""
    event_id = uuid.uuid4().hex
    event = {
        "event_id": event_id,
        "platform": "python",
        "level": "error",
        "timestamp": time.time(),
        "exception": {
            "values": [
                {
                    "type": "MemoryBenchError",
                    "value": "one event to digest",
                    "stacktrace": {
                        "frames": [
                            {"filename": "app.py", "function": "handler", "lineno": 12},
                            {"filename": "app.py", "function": "work", "lineno": 40},
                        ]
                    },
                }
            ]
        },
    }
    body = b"\n".join(
        [
            json.dumps({"event_id": event_id}).encode(),
            json.dumps({"type": "event"}).encode(),
            json.dumps(event).encode(),
        ]
    )
    headers = {
        "Content-Type": "application/x-sentry-envelope",
        "X-Sentry-Auth": f"Sentry sentry_key={public_key}, sentry_version=7",
        "User-Agent": "sentry.python/2",
    }
    return body, headers


def exercise(deployment: Deployment, store: StoredEvents, uses: int = 1) -> dict:
    """`uses` times: a page of the UI, an API call, an event sent; then wait for the events to
    be digested. The statuses seen (the last of each)."""
    ui = deployment.browser().login()
    token = deployment.manage("bugsink_create_token", "--user", ADMIN_EMAIL).strip().splitlines()
    dsn = deployment.dsn
    before = store.digested() if store.ready() else 0
    for _ in range(uses):
        ui_status, _, _ = ui.get("/")
        request = urllib.request.Request(
            deployment.base_url + "/api/0/organizations/",
            headers={"Authorization": f"Bearer {token[-1]}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            api_status = response.status
        body, headers = envelope(dsn.public_key)
        request = urllib.request.Request(
            deployment.base_url + dsn.envelope_path, data=body, headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            ingest_status = response.status
    digested, _ = store.wait_for(before + uses, 120)
    return {"ui": ui_status, "api": api_status, "ingest": ingest_status, "digested": digested}


MODES = {"forked": {}, "afresh": {"BUGSINK_SERVE_FORK": "0"}}


def one_round(workdir: Path, n: int, uses: int, mode: str = "forked") -> dict:
    deployment = Deployment(workdir / f"data-{n}-{mode}", env=MODES[mode], web_concurrency=None)
    load_before = os.getloadavg()[0]
    deployment.start()
    try:
        time.sleep(SETTLE_S)
        idle = snapshot(deployment.pid)
        statuses = exercise(deployment, StoredEvents(deployment.data_dir), uses)
        time.sleep(SETTLE_S)
        after = snapshot(deployment.pid)
    except BaseException:
        print(deployment.log()[-3000:], file=sys.stderr)
        raise
    finally:
        deployment.stop()
    return {
        "round": n + 1,
        "mode": mode,
        "idle": idle,
        "after_use": after,
        "statuses": statuses,
        "load1": (load_before, os.getloadavg()[0]),
    }


def total(rows, key="pss_mib") -> float:
    return sum(r[key] for r in rows)


def render(rounds: list[dict]) -> str:
    out = [
        "| round | process | PSS MiB idle | PSS MiB after use | of which anonymous, idle / after "
        "| RSS MiB idle / after |",
        "|---|---|---|---|---|---|",
    ]
    for r in rounds:
        n = f"{r['round']} {r['mode']}"
        after_by_pid = {row["pid"]: row for row in r["after_use"]}
        for row in r["idle"]:
            nan = float("nan")
            later = after_by_pid.get(row["pid"], {"pss_mib": nan, "anon_mib": nan, "rss_mib": nan})
            out.append(
                f"| {n} | {row['role']} | {row['pss_mib']:.1f} | {later['pss_mib']:.1f} "
                f"| {row['anon_mib']:.1f} / {later['anon_mib']:.1f} "
                f"| {row['rss_mib']:.1f} / {later['rss_mib']:.1f} |"
            )
        out.append(
            f"| {n} | **total** | **{total(r['idle']):.1f}** | **{total(r['after_use']):.1f}** "
            f"| {total(r['idle'], 'anon_mib'):.1f} / {total(r['after_use'], 'anon_mib'):.1f} | |"
        )
    loads = ", ".join(f"{a:.2f}/{b:.2f}" for r in rounds for a, b in [r["load1"]])
    for mode in dict.fromkeys(r["mode"] for r in rounds):
        of_mode = [r for r in rounds if r["mode"] == mode]
        idle = max(total(r["idle"]) for r in of_mode)
        after = max(total(r["after_use"]) for r in of_mode)
        verdict = "met" if idle <= TARGET_MIB else "NOT met"
        out.append(
            f"\n{mode}: target idle PSS <= {TARGET_MIB:.0f} MiB: worst idle {idle:.1f} MiB, "
            f"{verdict} (worst after use {after:.1f} MiB)."
        )
    out.append(
        f"Load1 before/after each round: {loads}. Uses: "
        + ", ".join(f"{k} {v}" for k, v in rounds[0]["statuses"].items())
    )
    return "\n".join(out)


def main(argv):
    args = parse_args(argv)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        modes = list(MODES) if args.compare else ["forked"]
        for n in range(args.rounds):
            for mode in modes if n % 2 == 0 else modes[::-1]:  # neither always first
                print(f"  round {n + 1} {mode}: load1 {os.getloadavg()[0]:.2f}", flush=True)
                rounds.append(one_round(Path(tmp), n, args.uses, mode))
    print(render(rounds))
    if args.json:
        Path(args.json).write_text(json.dumps(rounds, indent=2))
    return rounds
