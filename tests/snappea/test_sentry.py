"""A failing task reaches Sentry once when the foreman's process initialised sentry_sdk."""

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness.processes import stop
from tests.snappea import tasks
from tests.snappea.conftest import wait_for


class _Collector(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def _exception_events(received):
    events = []
    for envelope in received:
        for line in envelope.split(b"\n"):
            if line.startswith(b"{") and b'"exception"' in line:
                events.append(json.loads(line))
    return events


def test_a_failing_task_is_captured_once(queue_dir):
    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        dsn = f"http://{'a' * 32}@127.0.0.1:{server.server_address[1]}/1"
        foreman = queue_dir.start_foreman(SNAPPEA_TEST_SENTRY_DSN=dsn)
        tasks.fail.enqueue("sentry")
        tasks.record.enqueue("after")
        wait_for(lambda: _exception_events(_Collector.received), what="an event at the fake Sentry")
        wait_for(lambda: "after" in queue_dir.ran(), what="the next task")
        assert stop(foreman) == 0  # sentry_sdk flushes at exit: every event it meant to send is in
        (event,) = _exception_events(_Collector.received)
        (exception,) = event["exception"]["values"]
        assert exception["type"] == "ValueError"
        assert exception["value"] == "task sentry failed on purpose"
    finally:
        server.shutdown()
        server.server_close()
