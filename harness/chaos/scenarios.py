"""The faults of issue 7, each a function of a running `ChaosRun` under load.

Each scenario records what it did and how fast the deployment recovered in its Fault's details;
the ledger (what clients were told against what was stored) is kept by the run as a whole.
"""

import datetime as dt
import json
import time

from harness import faults
from harness.loadgen import Connection, Outcome, build_request
from harness.payloads import SDK_BROTLI_QUALITY

RECOVERY_TIMEOUT = 60.0
# A killed drain's claimed batch returns to the spool at the next claim (the claim names its
# process, which is gone), not after BUGSINK_INGEST_SPOOL_CLAIM_SECONDS: no longer wait for that.
CLAIM_RECOVERY_TIMEOUT = RECOVERY_TIMEOUT


def kill_web_worker(run):
    workers = faults.processes(run.pid, "gunicorn worker")
    victim = workers[0]
    with run.fault("kill -9 a Gunicorn worker", web_down=True) as f:
        faults.kill9(victim)
        f.details["replaced_in_s"] = faults.wait_for_processes(
            run.pid, "gunicorn worker", len(workers), exclude={victim}, timeout=RECOVERY_TIMEOUT
        )


def kill_foreman(run):
    with run.fault("kill -9 the foreman") as f:
        _kill_foreman_and_recover(run, f)


def kill_worker_and_foreman(run):
    workers = faults.processes(run.pid, "gunicorn worker")
    with run.fault("kill -9 a Gunicorn worker and the foreman together", web_down=True) as f:
        faults.kill9(workers[0])
        _kill_foreman_and_recover(run, f)
        f.details["web_replaced_in_s"] = faults.wait_for_processes(
            run.pid, "gunicorn worker", len(workers), exclude={workers[0]}, timeout=5
        )


def _kill_foreman_and_recover(run, f):
    (victim,) = faults.processes(run.pid, "foreman")
    faults.kill9(victim)
    restarted = faults.wait_for_processes(
        run.pid, "foreman", 1, exclude={victim}, timeout=RECOVERY_TIMEOUT
    )
    f.details["foreman_restarted_in_s"] = restarted
    # the events acknowledged so far include those the dead foreman had claimed: watch how long
    # until every one of them is stored, while the next scenarios go on
    run.watch_until_stored(f, "digest_caught_up_in_s", run.acked_ids(), CLAIM_RECOVERY_TIMEOUT)


def long_read_transaction(run, seconds: float = 10.0):
    """A reader (a backup, a report, a stuck UI request) keeps a snapshot open for `seconds`."""
    db = run.store.path
    wal_before = faults.wal_bytes(db)
    stored_before = run.store.digested()
    wal_peak = wal_before
    with run.fault(f"read transaction held {seconds:.0f} s on the issues database") as f:
        with faults.read_transaction(db, run.store.table):
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                wal_peak = max(wal_peak, faults.wal_bytes(db))
                time.sleep(0.25)
            f.details["stored_while_held"] = run.store.digested() - stored_before
    f.details["wal_mib_before_peak"] = (round(wal_before / 2**20, 1), round(wal_peak / 2**20, 1))
    f.details["digest_caught_up_in_s"] = run.wait_until_stored(run.acked_ids(), RECOVERY_TIMEOUT)


def write_lock(run, seconds: float):
    """Someone holds the write lock (BEGIN IMMEDIATE) on the issues database for `seconds`."""
    db = run.store.path
    stored_before = run.store.digested()
    with run.fault(f"write lock held {seconds:.0f} s on the issues database") as f:
        with faults.write_lock(db):
            # SQLite's lock is not fair: taking it may wait while the digest keeps winning it
            f.details["lock_taken_after_s"] = time.monotonic() - f.started
            stored_before = run.store.digested()
            time.sleep(seconds)
            f.details["stored_while_held"] = run.store.digested() - stored_before
    f.details["digest_caught_up_in_s"] = run.wait_until_stored(run.acked_ids(), RECOVERY_TIMEOUT)


def fill_spool(run, max_seconds: float = 60.0, burst_concurrency: int = 8):
    """Pause the foreman (SIGSTOP) and push events as fast as possible until ingest refuses them."""
    from harness.loadgen import LoadGenerator

    (foreman,) = faults.processes(run.pid, "foreman")
    gen = LoadGenerator(
        run.deployment.port,
        run.deployment.dsn.envelope_path,
        run.factory.headers(),
        burst_concurrency,
    )
    refused_streak = 0

    def next_request(i):
        nonlocal refused_streak
        chunks = gen.live_outcomes()
        latest = [c[-1] for c in chunks if c]
        refused_streak = sum(1 for o in latest if o.status in (429, 503, 507))
        if len(latest) == burst_concurrency and refused_streak == burst_concurrency and i > 200:
            return None  # every connection was refused last time: the spool is full
        return gen.prepare(run.factory.make("distinct", i % 1000))

    with run.fault("spool filled to its limit (foreman paused)") as f:
        with faults.paused(foreman):
            result = gen.run(next_request, duration=max_seconds)
            f.details["burst_answers"] = dict(result.statuses)
            f.details["refused_with"] = sorted(
                {o.status for o in result.outcomes if 400 <= o.status < 600}
            )
            f.details["full_reached"] = refused_streak == burst_concurrency
        run.side_requests.extend(("spool burst", o) for o in result.outcomes)
        drained = run.wait_until_stored(run.acked_ids(), 5 * RECOVERY_TIMEOUT)
        f.details["drained_in_s"] = drained


def client_clock_skew(run):
    """Events from SDKs whose clocks are wrong: timestamps and sent_at far in the past or future."""
    cases = {
        "timestamp 1970": "1970-01-01T00:00:00Z",
        "timestamp 2001": "2001-09-09T01:46:40.000000Z",
        "timestamp +1 year": _iso(dt.timedelta(days=365)),
        "timestamp 2100": "2100-01-01T00:00:00Z",
        "timestamp epoch float 4102444800": 4102444800.0,
        "timestamp epoch -1": -1,
        "timestamp garbage": "not a time",
    }
    with run.fault("client clocks skewed (event timestamps, sent_at)") as f:
        for name, value in cases.items():
            for _ in range(3):
                outcome = _send_with_timestamp(run, value, sent_at_skew_days=-3650)
                run.side_requests.append((name, outcome))
                f.details.setdefault(name, []).append(outcome.status)


def server_clock_jumps(run, hold: float = 4.0):
    """Step every server process's wall clock forward 2 h, back 4 h, then to the true time."""
    if not (run.clock and run.clock.available):
        return None
    with run.fault("server clock stepped to +2 h, then to -2 h, then back to true time") as f:
        for offset in ("+2h", "-2h", "+0"):
            run.clock.set_offset(offset)
            time.sleep(hold)
            f.details[f"acked at {offset}"] = (
                run.wait_for_ack_after(time.monotonic(), 10) is not None
            )
        f.details["digest_caught_up_in_s"] = run.wait_until_stored(
            run.acked_ids(), RECOVERY_TIMEOUT
        )
    return f


def _iso(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _send_with_timestamp(run, timestamp, sent_at_skew_days: int) -> Outcome:
    import brotli

    event_id, raw = run.factory.raw("distinct", 7)
    header, item_header, payload = raw.split(b"\n", 2)
    payload = payload.rstrip(b"\n")
    envelope_header = json.loads(header)
    envelope_header["sent_at"] = _iso(dt.timedelta(days=sent_at_skew_days))
    event = json.loads(payload)
    event["timestamp"] = timestamp
    body = json.dumps(event).encode()
    item = json.loads(item_header)
    item["length"] = len(body)
    raw = b"\n".join([json.dumps(envelope_header).encode(), json.dumps(item).encode(), body])
    data = build_request(
        f"127.0.0.1:{run.deployment.port}",
        run.deployment.dsn.envelope_path,
        run.factory.headers(),
        brotli.compress(raw + b"\n", quality=SDK_BROTLI_QUALITY),
    )
    conn = Connection(run.deployment.port)
    t0 = time.monotonic()
    try:
        status, _, _ = conn.request(data)
        return Outcome(event_id, status, time.monotonic() - t0, t0)
    except OSError as exc:
        return Outcome(event_id, 0, time.monotonic() - t0, t0, type(exc).__name__)
    finally:
        conn.close()
