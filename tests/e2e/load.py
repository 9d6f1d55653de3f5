"""A steady stream of events over keep-alive HTTP, recording exactly which ones were acknowledged.

The bytes are an SDK-shaped envelope (what sentry-sdk sends, uncompressed) with a fresh event id
each; raw HTTP rather than the SDK because the fault tests must know, per event, whether the
server answered 200: the SDK does not tell its caller.
"""

import http.client
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit


def envelope_for(event_id: str, marker: str) -> bytes:
    now = datetime.now(UTC).isoformat()
    event = {
        "event_id": event_id,
        "timestamp": now,
        "platform": "python",
        "level": "error",
        "exception": {
            "values": [
                {
                    "type": "RuntimeError",
                    "value": f"e2e load {marker}",
                    "stacktrace": {
                        "frames": [
                            {"module": "shop.orders", "function": "place", "in_app": True},
                            {"module": "shop.payments", "function": "charge", "in_app": True},
                        ]
                    },
                }
            ]
        },
        "sdk": {"name": "sentry.python", "version": "2.75.0"},
    }
    payload = json.dumps(event).encode()
    header = json.dumps({"event_id": event_id, "sent_at": now}).encode()
    item = json.dumps({"type": "event", "length": len(payload)}).encode()
    return header + b"\n" + item + b"\n" + payload + b"\n"


class EventStream:
    """Sends events one after another from a thread until stopped or `total` were sent."""

    def __init__(self, dsn: str, marker: str, total: int, pause: float = 0.0):
        parts = urlsplit(dsn)
        self.host, self.port = parts.hostname, parts.port
        self.path = f"{parts.path.rsplit('/', 1)[0]}/api/{parts.path.rsplit('/', 1)[1]}/envelope/"
        self.auth = f"Sentry sentry_version=7, sentry_key={parts.username}, sentry_client=e2e/1.0"
        self.marker = marker
        self.total = total
        self.pause = pause
        self.acked: list[str] = []
        self.refused: list[tuple[str, str]] = []  # (event id, why): not acknowledged
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self, timeout=30.0):
        self._stop.set()
        self._thread.join(timeout)

    def join(self, timeout=120.0):
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the event stream did not finish in time"

    def wait_acked(self, count: int, timeout=60.0):
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            assert time.monotonic() < deadline, f"only {len(self.acked)} of {count} acknowledged"
            assert self._thread.is_alive() or len(self.acked) >= count, "the stream ended early"
            time.sleep(0.01)

    def _run(self):
        conn = None
        for _ in range(self.total):
            if self._stop.is_set():
                break
            event_id = uuid.uuid4().hex
            body = envelope_for(event_id, self.marker)
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                conn.request(
                    "POST",
                    self.path,
                    body=body,
                    headers={
                        "Content-Type": "application/x-sentry-envelope",
                        "X-Sentry-Auth": self.auth,
                    },
                )
                response = conn.getresponse()
                answer = response.read()
                if response.status == 200 and json.loads(answer).get("id") == event_id:
                    self.acked.append(event_id)
                else:
                    self.refused.append((event_id, f"{response.status} {answer[:200]!r}"))
                    if response.status == 429:
                        time.sleep(float(response.getheader("Retry-After") or 1))
            except (OSError, http.client.HTTPException, ValueError) as exc:
                # Not acknowledged (server stopping, connection reset): the SDK would retry later.
                self.refused.append((event_id, repr(exc)))
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
            if self.pause:
                time.sleep(self.pause)
        if conn is not None:
            conn.close()
