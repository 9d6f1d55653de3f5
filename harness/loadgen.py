"""A lean HTTP/1.1 load generator: one thread per connection, raw sockets, keep-alive when offered.

Each request is built once as bytes before the clock starts; a thread only sends and parses the
status line and headers, so the generator costs tens of microseconds per request and leaves the two
cores to the server. Gunicorn's sync workers close the connection after every response: the client
then reconnects, as an SDK would.

Every answer is recorded (event id, status or error, latency), so a run can be checked event by
event against what the server stored.
"""

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.payloads import PreparedEvent

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


@dataclass(slots=True)
class Outcome:
    event_id: str
    status: int  # HTTP status, or 0 when no answer came (refused, reset, timeout)
    latency: float  # seconds from the first byte sent to the whole answer read
    sent_at: float  # time.monotonic() when sending began
    error: str = ""


def build_request(host: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


class Connection:
    """A keep-alive connection that reconnects when the server closed it."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.buffer = b""

    def request(self, data: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send one whole request; return (status, headers lowercased, body)."""
        reused = self.sock is not None
        try:
            return self._request_once(data)
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, _ClosedEarly):
            self.close()
            if not reused:
                raise
            # a kept-alive connection the server had already closed: one fresh try is safe,
            # because nothing of this request can have been read by the server
            return self._request_once(data)

    def _request_once(self, data):
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=CONNECT_TIMEOUT)
            self.sock.settimeout(READ_TIMEOUT)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            # the server may have answered early (a 413 for a body too large) and closed: its
            # answer can still be waiting in our receive buffer
            try:
                status, headers, body = self._read_response()
            except (OSError, _ClosedEarly, ValueError, IndexError):
                raise BrokenPipeError("the server closed the connection while we were sending")
            self.close()
            return status, headers, body
        status, headers, body = self._read_response()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _ClosedEarly()
        self.buffer += chunk

    def _read_response(self):
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            size = int(headers["content-length"])
            while len(self.buffer) < size:
                self._fill()
            body, self.buffer = self.buffer[:size], self.buffer[size:]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self._read_to_close()
            headers["connection"] = "close"
        return status, headers, body

    def _read_chunked(self):
        body = b""
        while True:
            while b"\r\n" not in self.buffer:
                self._fill()
            size_line, self.buffer = self.buffer.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(self.buffer) < size + 2:
                self._fill()
            body += self.buffer[:size]
            self.buffer = self.buffer[size + 2 :]
            if size == 0:
                return body

    def _read_to_close(self):
        while True:
            try:
                self._fill()
            except _ClosedEarly:
                body, self.buffer = self.buffer, b""
                return body


class _ClosedEarly(Exception):
    """The server closed the connection before a whole answer arrived."""


@dataclass
class RunResult:
    outcomes: list[Outcome]
    started_at: float
    finished_at: float
    client_cpu_seconds: float
    statuses: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self.statuses = Counter(o.status for o in self.outcomes)

    @property
    def wall(self) -> float:
        return self.finished_at - self.started_at

    @property
    def accepted(self) -> list[Outcome]:
        return [o for o in self.outcomes if 200 <= o.status < 300]

    def accepted_rate(self) -> float:
        return len(self.accepted) / self.wall if self.wall > 0 else 0.0

    def latency_percentiles(self, ps=(50, 95, 99)) -> dict[int, float]:
        lat = sorted(o.latency for o in self.outcomes if o.status)
        if not lat:
            return {p: float("nan") for p in ps}
        return {p: lat[min(len(lat) - 1, int(round(p / 100 * len(lat))) - 1)] for p in ps}


class LoadGenerator:
    """Sends prepared events over `concurrency` connections until done, stopped or out of time."""

    def __init__(self, port: int, path: str, headers: dict[str, str], concurrency: int):
        self.port = port
        self.path = path
        self.headers = headers
        self.concurrency = concurrency
        self.host = f"127.0.0.1:{port}"
        self.stop_event = threading.Event()
        self._per_thread: list[list[Outcome]] = []
        # live figures for a fault injector watching the run (the full record comes at the end)
        self.acked = 0
        self.last_ack_at = 0.0
        self._count_lock = threading.Lock()

    def prepare(self, event: PreparedEvent) -> tuple[str, bytes]:
        return event.event_id, build_request(self.host, self.path, self.headers, event.body)

    def run(
        self,
        next_request: Callable[[int], tuple[str, bytes] | None],
        *,
        count: int | None = None,
        duration: float | None = None,
        rate: float | None = None,
    ) -> RunResult:
        """Closed loop (each connection sends as soon as it has its answer), or paced at `rate`
        requests/s overall. next_request(i) gives the i-th request, or None when there are no more.
        """
        counter = iter(range(count if count is not None else 1 << 62))
        lock = threading.Lock()
        per_thread: list[list[Outcome]] = [[] for _ in range(self.concurrency)]
        self._per_thread = per_thread
        cpu_before = time.process_time()
        started = time.monotonic()
        deadline = started + duration if duration else None

        def worker(slot: int):
            conn = Connection(self.port)
            out = per_thread[slot]
            try:
                while not self.stop_event.is_set():
                    with lock:
                        i = next(counter, None)
                    if i is None:
                        return
                    if rate:
                        due = started + i / rate
                        wait = due - time.monotonic()
                        if wait > 0 and self.stop_event.wait(wait):
                            return
                    if deadline and time.monotonic() >= deadline:
                        return
                    request = next_request(i)
                    if request is None:
                        return
                    event_id, data = request
                    t0 = time.monotonic()
                    try:
                        status, _, _ = conn.request(data)
                        t1 = time.monotonic()
                        out.append(Outcome(event_id, status, t1 - t0, t0))
                        if 200 <= status < 300:
                            with self._count_lock:
                                self.acked += 1
                                self.last_ack_at = t1
                    except (OSError, _ClosedEarly, ValueError, IndexError) as exc:
                        conn.close()
                        out.append(
                            Outcome(event_id, 0, time.monotonic() - t0, t0, type(exc).__name__)
                        )
            finally:
                conn.close()

        threads = [
            threading.Thread(target=worker, args=(n,), name=f"loadgen-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        finished = time.monotonic()
        outcomes = [o for chunk in per_thread for o in chunk]
        outcomes.sort(key=lambda o: o.sent_at)
        return RunResult(outcomes, started, finished, time.process_time() - cpu_before)

    def stop(self):
        self.stop_event.set()

    def live_outcomes(self) -> list[list[Outcome]]:
        """The outcomes so far, one list per connection (appended to while the run goes on)."""
        return list(getattr(self, "_per_thread", []))
