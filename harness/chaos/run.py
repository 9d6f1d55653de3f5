"""A deployment under sustained load, faults injected into it, and the books kept event by event.

`ChaosRun` starts the reference deployment (optionally under libfaketime, so its clock can be moved),
sends a steady stream of SDK-made events in the background, lets scenarios inject faults inside
`run.fault(...)` windows, and at the end compares what every client was told with what the issues
database holds: events acknowledged (2xx) but never stored are lost; 5xx answers or dropped
connections outside a window in which a web process was down are violations.
"""

import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.deployment import Deployment, StoredEvents
from harness.faults import ServerClock
from harness.loadgen import LoadGenerator, Outcome, RunResult
from harness.payloads import EnvelopeFactory, capture_templates
from harness.processes import ROOT

# Errors in flight when a web worker dies are excused until this long after it was replaced.
EXCUSE_GRACE = 1.0


@dataclass
class Fault:
    name: str
    started: float
    ended: float = 0.0
    web_down: bool = False  # a web process was down: failed requests inside are excused
    details: dict = field(default_factory=dict)
    answers: Counter = field(default_factory=Counter)

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Ledger:
    requests: int
    answers: Counter
    acknowledged: int
    stored: int  # of the acknowledged events
    lost: list[str]
    violations: list[Outcome]
    excused: int
    extra_stored: int  # stored although the client saw no 2xx (e.g. the answer was cut off)

    @property
    def ok(self) -> bool:
        return not self.lost and not self.violations


class ChaosRun:
    def __init__(
        self,
        workdir: Path,
        *,
        rate: float = 100.0,
        concurrency: int = 8,
        skew_clock: bool = False,
        extra_env: dict | None = None,
    ):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rate = rate
        self.concurrency = concurrency
        self.clock = ServerClock(self.workdir) if skew_clock else None
        env = {
            **(self.clock.env() if self.clock else {}),
            "DJANGO_SETTINGS_MODULE": "harness.chaos.settings",
            "PYTHONPATH": str(ROOT),
            **(extra_env or {}),
        }
        self.deployment = Deployment(self.workdir / "data", env=env, web_concurrency=None)
        self.faults: list[Fault] = []
        self.side_requests: list[tuple[str, Outcome]] = []  # sent by scenarios, not by the load
        self.gen: LoadGenerator | None = None
        self._load_thread: threading.Thread | None = None
        self._load_result: RunResult | None = None
        self._watchers: list[threading.Thread] = []

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "ChaosRun":
        templates = capture_templates(self.workdir / "templates")
        self.deployment.start(wait=False)  # first_200_s measures the start
        dsn = self.deployment.wait_for_dsn()
        self.factory = EnvelopeFactory(templates, dsn.public_key)
        self.first_200_s = self.deployment.wait_for_first_200(
            self.factory.make("small").body, self.factory.headers()
        )
        self.store = StoredEvents(self.deployment.data_dir)
        return self

    def start_load(self, max_seconds: float = 1800.0):
        gen = LoadGenerator(
            self.deployment.port,
            self.deployment.dsn.envelope_path,
            self.factory.headers(),
            self.concurrency,
        )
        self.gen = gen

        def run():
            self._load_result = gen.run(
                lambda i: gen.prepare(self.factory.make("distinct", i % 1000)),
                duration=max_seconds,
                rate=self.rate,
            )

        self._load_thread = threading.Thread(target=run, name="chaos-load", daemon=True)
        self._load_thread.start()
        self.wait_for_ack_after(time.monotonic() - 1, timeout=30)

    def stop_load(self) -> RunResult:
        self.gen.stop()
        self._load_thread.join(60)
        return self._load_result

    def close(self):
        if self.gen and self._load_thread and self._load_thread.is_alive():
            self.stop_load()
        self.deployment.stop()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.deployment.stop()
            raise

    def __exit__(self, *exc):
        self.close()

    # --- helpers for scenarios ---------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self.deployment.pid

    @contextmanager
    def fault(self, name: str, *, web_down: bool = False):
        f = Fault(name, time.monotonic(), web_down=web_down)
        print(f"  fault: {name}", flush=True)
        try:
            yield f
        finally:
            f.ended = time.monotonic()
            self.faults.append(f)

    def wait_for_ack_after(self, t: float, timeout: float = 30.0) -> float | None:
        """Seconds from t until the load got a 2xx answer to a request sent after t."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.gen.last_ack_at > t and self._acked_since(t):
                return self.gen.last_ack_at - t
            time.sleep(0.01)
        return None

    def _acked_since(self, t: float) -> bool:
        for chunk in self.gen.live_outcomes():
            for o in reversed(chunk[-50:]):
                if o.sent_at > t and 200 <= o.status < 300:
                    return True
        return False

    def acked_ids(self) -> set[str]:
        ids = {
            o.event_id
            for chunk in self.gen.live_outcomes()
            for o in list(chunk)
            if 200 <= o.status < 300
        }
        ids.update(o.event_id for _, o in self.side_requests if 200 <= o.status < 300)
        return ids

    def wait_until_stored(self, ids: set[str], timeout: float, interval=0.1) -> float | None:
        """Seconds until every id in ids is in the issues database; None on timeout."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if not (ids - self.store.ids()):
                return time.monotonic() - t0
            time.sleep(interval)
        return None

    def watch_until_stored(self, fault: Fault, key: str, ids: set[str], timeout: float):
        """In the background: fault.details[key] = seconds from the fault's start until every id
        is stored (None if not within timeout). The run's books wait for every watcher."""

        def watch():
            took = self.wait_until_stored(ids, timeout, interval=0.5)
            fault.details[key] = None if took is None else time.monotonic() - fault.started

        watcher = threading.Thread(target=watch, name=f"watch {key}", daemon=True)
        watcher.start()
        self._watchers.append(watcher)

    # --- the books ---------------------------------------------------------------------------

    def settle(self, timeout: float = 120.0) -> Ledger:
        """Stop the load, give the digest time to drain, and compare answers with storage."""
        result = self.stop_load()
        for watcher in self._watchers:
            watcher.join(timeout)
        outcomes = result.outcomes + [o for _, o in self.side_requests]
        acked = {o.event_id for o in outcomes if 200 <= o.status < 300}
        self.all_stored_after_s = self.wait_until_stored(acked, timeout)
        stored = self.store.ids()
        windows = [(f.started, f.ended + EXCUSE_GRACE) for f in self.faults if f.web_down]
        violations, excused = [], 0
        for o in outcomes:
            if o.status == 0 or o.status >= 500:
                # in flight at any moment of the window (a request sent just before a kill too)
                if any(o.sent_at <= b and o.sent_at + o.latency >= a for a, b in windows):
                    excused += 1
                else:
                    violations.append(o)
        for f in self.faults:
            f.answers = Counter(
                _status_class(o.status) for o in outcomes if f.started <= o.sent_at <= f.ended
            )
            # recovery as the load saw it: the first 2xx to a request sent after the fault began
            first_ok = min(
                (
                    o.sent_at + o.latency
                    for o in result.outcomes
                    if o.sent_at >= f.started and 200 <= o.status < 300
                ),
                default=None,
            )
            f.details["first_2xx_after_s"] = None if first_ok is None else first_ok - f.started
        unacked = {o.event_id for o in outcomes} - acked
        return Ledger(
            requests=len(outcomes),
            answers=Counter(_status_class(o.status) for o in outcomes),
            acknowledged=len(acked),
            stored=len(acked & stored),
            lost=sorted(acked - stored),
            violations=violations,
            excused=excused,
            extra_stored=len(unacked & stored),
        )


def _status_class(status: int) -> str:
    return "no answer" if status == 0 else f"{status // 100}xx"
