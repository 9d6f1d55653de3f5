"""The scale-out layout for real: three web hosts (`serve --no-worker` on three ports, one
DatabaseSpool they share), two RQ worker processes (`manage.py runworker`), one PostgreSQL and one
Redis, each a server of the test's own so that the test can restart it.

SDK-made events (real sentry-sdk envelopes, fresh ids) go round-robin to the three hosts while
faults are injected one after the other: kill -9 of a web host (restarted, as systemd would), kill
-9 of an RQ worker (its runworker restarts it), a Redis restart (empty: no persistence), a PostgreSQL restart. Then
the books: every acknowledged event stored exactly once, every issue's event_count equal to its
stored events, no 5xx or unanswered request outside a fault's window, and everything ready again
with no operator (the untouched processes were never restarted)."""

import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

import pytest

from harness.deployment import MANAGE_PY, Deployment
from harness.loadgen import LoadGenerator, Outcome
from harness.payloads import EnvelopeFactory, capture_templates
from harness.postgres_server import PostgresServer, unavailable_reason
from harness.processes import start, stop, wait_for
from harness.redis_server import RedisServer
from tests.e2e.postgres import POSTGRES_URL
from tests.support.redis import require_redis_server

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

HOSTS = 3
WORKERS = 2
RATE = 30.0  # events/s over all hosts: the three hosts, the workers and both servers share 2 cores
ISSUES = 20  # the events fall into this many issues, so that drains meet on the same issues
# A fault's window is excused (5xx, no answer) until this long after it ended: requests in flight
# and the hosts' first reconnects.
GRACE = 3.0
SETTLE_SECONDS = 150.0  # the worst recovery: a Redis that lost a queued drain (see README)


@dataclass
class Window:
    name: str
    hosts: set[int]  # whose failures are excused: the killed host's, or all of them
    started: float
    ended: float = 0.0
    details: dict = field(default_factory=dict)


class Cluster:
    """The servers, the hosts and the workers; each can be killed and started again."""

    def __init__(self, workdir: Path, pg: PostgresServer, redis):
        self.workdir = workdir
        self.pg = pg
        self.redis = redis
        self.env = {
            "DATABASE_URL": pg.url,
            "BUGSINK_TASKS_BACKEND": "rq",
            "REDIS_URL": redis.url,
            "BUGSINK_SPOOL": "database",
            "SECRET_KEY": "scale-out-test-" + "x" * 40,  # one for all hosts, as in production
            # Short recovery timings, so that the test sees each recovery within its minutes.
            "BUGSINK_SPOOL_SWEEP_SECONDS": "3",
            "BUGSINK_SPOOL_CLAIM_SECONDS": "10",
        }
        self.hosts = [
            Deployment(
                workdir / f"web{n}" / "data",
                env=self.env,
                web_concurrency=1,
                serve_args=("--no-worker",),
            )
            for n in range(HOSTS)
        ]
        self.workers: list = [None] * WORKERS

    def worker_env(self, n: int) -> dict:
        host = self.hosts[0]
        data = self.workdir / f"worker{n}" / "data"
        data.mkdir(parents=True, exist_ok=True)
        return {**host.env, "BUGSINK_DATA_DIR": str(data)}

    def start_worker(self, n: int):
        """A worker host's unit: `runworker --processes 1`, which restarts its RQ worker."""
        self.workers[n] = start(
            [sys.executable, str(MANAGE_PY), "runworker", "--processes", "1"],
            env=self.worker_env(n),
            cwd=self.workdir,
            log_path=self.workdir / f"worker{n}.log",
        )

    def rq_worker_pid(self, n: int) -> int | None:
        """The RQ worker process under worker n's runworker."""
        pid = self.workers[n].pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:
            return None
        return int(children[0]) if children else None

    def kill_rq_worker(self, n: int) -> int:
        """kill -9 of the RQ worker with its work horse and scheduler (its own process group)."""
        pid = self.rq_worker_pid(n)
        assert pid, f"worker {n} runs no RQ worker"
        os.killpg(pid, signal.SIGKILL)
        return pid

    def start(self):
        for n in range(WORKERS):
            self.start_worker(n)
        self.hosts[0].start(timeout=120)  # migrates, creates the admin and the demo project
        for host in self.hosts[1:]:
            host.start(wait=False)
        for host in self.hosts[1:]:
            host.wait_ready(timeout=120)
        return self

    def close(self):
        """Everything stopped at once (SIGTERM, SIGKILL after 30 s), before the servers go."""
        stops = [threading.Thread(target=host.stop, kwargs={"timeout": 30}) for host in self.hosts]
        stops += [
            threading.Thread(target=stop, args=(proc,), kwargs={"timeout": 30})
            for proc in self.workers
            if proc is not None
        ]
        for thread in stops:
            thread.start()
        for thread in stops:
            thread.join()

    def state(self) -> str:
        """What waits where: the spool's rows and markers, RQ's queue (for a failure's message)."""
        try:
            spool = self.pg.query(
                "SELECT count(*), count(quarantined_at), max(claimed_until) FROM "
                "bugsink_ingest_spoolentry"
            )
            wakeup = self.pg.query("SELECT created_at FROM bugsink_ingest_spoolwakeup")
            sweep = self.pg.query("SELECT token, renewed_at FROM bugsink_ingest_spoolsweep")
        except Exception as exc:
            spool = wakeup = sweep = repr(exc)
        ready = [h.get_json("/health/ready")[1].get("checks", {}).get("worker") for h in self.hosts]
        return (
            f"spool {spool}, wakeup {wakeup}, sweep {sweep}, now {time.time()}; worker {ready[0]}"
        )

    def logs(self, limit=6000) -> str:
        parts = [self.state()]
        for path in sorted(self.workdir.glob("*.log")) + [h.log_path for h in self.hosts]:
            try:
                lines = path.read_text(errors="replace").splitlines()
            except FileNotFoundError:
                continue
            errors = [line for line in lines if "ERROR" in line or "Error" in line][-15:]
            parts.append(f"--- {path.name}\n" + "\n".join(errors))
        return "\n".join(parts)[-limit:]

    # --- the books, straight from PostgreSQL ------------------------------------------------------

    def stored_ids(self) -> dict[str, int]:
        rows = self.pg.query(
            "SELECT replace(lower(event_id), '-', ''), count(*) FROM bugsink_issues_event "
            "GROUP BY 1"
        )
        return dict(rows)

    def count_mismatches(self) -> list[tuple]:
        """Issues whose event_count is not the number of their stored events."""
        return self.pg.query(
            "SELECT i.id, i.event_count, count(e.id) FROM bugsink_issues_issue i "
            "LEFT JOIN bugsink_issues_event e ON e.issue_id = i.id "
            "GROUP BY i.id, i.event_count HAVING i.event_count <> count(e.id)"
        )


class RoundRobinLoad:
    """One paced load generator per host, each a third of the rate: the events go round-robin."""

    def __init__(self, cluster: Cluster, factory: EnvelopeFactory):
        self.gens = []
        self.results: list = [None] * len(cluster.hosts)
        for host in cluster.hosts:
            self.gens.append(
                LoadGenerator(host.port, host.dsn.envelope_path, factory.headers(), concurrency=2)
            )
        self.factory = factory
        self.threads = []

    def start(self):
        for n, gen in enumerate(self.gens):

            def run(n=n, gen=gen):
                self.results[n] = gen.run(
                    lambda i: gen.prepare(self.factory.make("distinct", i % ISSUES)),
                    duration=600,
                    rate=RATE / len(self.gens),
                )

            thread = threading.Thread(target=run, name=f"load-{n}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def acked(self) -> int:
        return sum(gen.acked for gen in self.gens)

    def stop(self) -> list[list[Outcome]]:
        for gen in self.gens:
            gen.stop()
        for thread in self.threads:
            thread.join(60)
        return [result.outcomes for result in self.results]


@pytest.fixture
def cluster(tmp_path):
    if not POSTGRES_URL:
        pytest.skip("runs in the tests_postgres session (BUGSINK_TEST_POSTGRES is not set)")
    for module, package in (("django_tasks_rq", "django-tasks-rq"), ("psycopg", "psycopg")):
        if find_spec(module) is None:
            pytest.skip(f"{package} is not installed (tests/requirements.txt has it)")
    require_redis_server()
    reason = unavailable_reason()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no PostgreSQL server of the test's own: {reason}")
        pytest.skip(f"no PostgreSQL server of the test's own: {reason}")
    with PostgresServer() as pg, RedisServer() as redis:
        made = Cluster(tmp_path, pg, redis)
        try:
            yield made.start()
        finally:
            made.close()


def test_three_web_hosts_two_workers_survive_kills_and_server_restarts(cluster, tmp_path):
    factory = EnvelopeFactory(
        capture_templates(tmp_path / "templates"), cluster.hosts[0].dsn.public_key
    )
    load = RoundRobinLoad(cluster, factory)
    windows: list[Window] = []

    @contextmanager
    def fault(name, hosts):
        window = Window(name, set(hosts), time.monotonic())
        print(f"  fault: {name}", flush=True)
        try:
            yield window
        finally:
            window.ended = time.monotonic()
            windows.append(window)

    def acked_more(than: int, timeout=60.0):
        """The load got through again: more acknowledgements than `than`."""
        wait_for(lambda: load.acked() > than + 5, timeout, what="acknowledged events again")

    everyone = range(HOSTS)
    load.start()
    acked_more(0)
    time.sleep(3)

    # 1. kill -9 a web host (Gunicorn and its supervisor at once); it comes back on its port.
    victim = cluster.hosts[1]
    with fault("kill -9 of web host 1", hosts=[1]) as w:
        victim.stop(sig=signal.SIGKILL)
        time.sleep(1)
        victim.start(timeout=90)
        w.details["host_back_s"] = time.monotonic() - w.started
    acked_more(load.acked())

    # 2. kill -9 an RQ worker (with its job's work horse and its scheduler): runworker starts it
    # again. Its drain's claims go back after the claim lease; the other worker goes on.
    with fault("kill -9 of worker 0", hosts=[]) as w:
        killed = cluster.kill_rq_worker(0)
        wait_for(lambda: cluster.rq_worker_pid(0) not in (None, killed), 30, what="a new worker")
        w.details["worker_back_s"] = time.monotonic() - w.started
    acked_more(load.acked())

    # 3. Redis restarts empty: queued and deferred tasks are gone. Ingest keeps acknowledging
    # (the spool is in PostgreSQL); the sweep and the next drains pick the events up.
    with fault("Redis restart", hosts=[]):
        cluster.redis.stop()
        time.sleep(1)
        cluster.redis.start()
    acked_more(load.acked())

    # 4. PostgreSQL restarts (fast shutdown: every connection is cut). Ingest cannot spool
    # meanwhile: its failures are excused, it must answer again afterwards.
    with fault("PostgreSQL restart", hosts=everyone):
        cluster.pg.stop()
        time.sleep(1)
        cluster.pg.start()
    acked_more(load.acked())
    time.sleep(5)

    per_host = load.stop()
    outcomes = [(n, o) for n, chunk in enumerate(per_host) for o in chunk]
    acked = {o.event_id for _, o in outcomes if 200 <= o.status < 300}
    excused = [(w.started, w.ended + GRACE, w.hosts) for w in windows]
    violations = [
        (n, o)
        for n, o in outcomes
        if (o.status == 0 or o.status >= 500)
        and not any(
            n in hosts and o.sent_at <= b and o.sent_at + o.latency >= a for a, b, hosts in excused
        )
    ]
    settle_started = time.monotonic()
    stored: dict[str, int] = {}

    def all_stored():
        stored.update(cluster.stored_ids())
        return not (acked - set(stored))

    settled = True
    try:
        wait_for(all_stored, SETTLE_SECONDS, what="every acknowledged event stored", interval=1)
    except AssertionError:
        settled = False
    settle_s = time.monotonic() - settle_started
    lost = sorted(acked - set(stored))
    summary = (
        f"{len(outcomes)} requests, {len(acked)} acknowledged, {len(stored)} stored, "
        f"settled in {settle_s:.1f}s; faults: "
        + "; ".join(f"{w.name} {w.ended - w.started:.1f}s {w.details}" for w in windows)
    )
    print(summary, flush=True)

    assert len(acked) >= 200, f"the load hardly got through: {summary}\n{cluster.logs()}"
    assert settled and not lost, (
        f"{len(lost)} acknowledged events never stored, e.g. {lost[:5]}: {summary}\n"
        f"{cluster.logs()}"
    )
    # Exactly once: the rows are unique per event id (a constraint), so a second digest of an
    # event would show in the counters, checked below; and nothing is stored that was not sent.
    sent = {o.event_id for _, o in outcomes}
    assert not set(stored) - sent, f"stored events nobody sent: {sorted(set(stored) - sent)[:5]}"
    assert not violations, (
        f"{len(violations)} 5xx/unanswered outside the fault windows, e.g. "
        + ", ".join(f"host {n}: {o.status or o.error}" for n, o in violations[:10])
        + f"\n{summary}\n{cluster.logs()}"
    )
    assert cluster.count_mismatches() == [], "an issue's event_count differs from its events"
    (total,) = cluster.pg.query("SELECT coalesce(sum(event_count), 0) FROM bugsink_issues_issue")
    assert total[0] == len(stored)

    # Recovered without an operator: every host ready (the readiness check sees live RQ workers
    # and a scheduler), the hosts and the worker nobody killed never restarted.
    for host in cluster.hosts:
        host.wait_ready(timeout=60)
    # Both workers beat (the killed one's successor too); a dead one's stale heartbeat is not live.
    worker = wait_for(
        lambda: (
            (w := cluster.hosts[0].get_json("/health/ready")[1]["checks"]["worker"])["live_workers"]
            == WORKERS
            and w
        ),
        30,
        what="both workers live",
    )
    assert worker["scheduler"], worker
    assert worker["backlog"] == 0 and worker["overdue_deferred"] == 0, worker
    assert all(h.proc is not None and h.proc.poll() is None for h in cluster.hosts)
    assert all(proc.poll() is None for proc in cluster.workers), cluster.logs()
    assert all(cluster.rq_worker_pid(n) for n in range(WORKERS))
