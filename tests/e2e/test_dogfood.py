"""Dogfooding: the deployment's own errors reach the DSN in SENTRY_DSN through the real sentry-sdk."""

import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import pytest

from harness.deployment import Deployment

pytestmark = pytest.mark.e2e


class Receiver(BaseHTTPRequestHandler):
    """A stand-in for another Sentry-compatible server: records the envelopes, answers 200."""

    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "br":
            body = brotli.decompress(body)
        elif encoding == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        self.received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"id": "0"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://0123456789abcdef0123456789abcdef@127.0.0.1:{server.server_address[1]}/7"
    server.shutdown()
    server.server_close()


def test_send_test_error_reaches_the_configured_dsn(tmp_path, receiver):
    site = Deployment(tmp_path / "data", env={"SENTRY_DSN": receiver})
    output = site.manage("send_test_error")
    assert "Sent test error" in output
    (body,) = Receiver.received
    header, item, payload = body.split(b"\n")[:3]
    event = json.loads(payload)
    assert event["exception"]["values"][-1]["value"] == "Bugsink test error: SENTRY_DSN works"
    assert json.loads(item)["type"] == "event"


def test_sentry_dsn_self_waits_for_the_demo_project(tmp_path):
    site = Deployment(tmp_path / "data", env={"SENTRY_DSN": "self"})
    result = site.manage("send_test_error", check=False)
    assert result.returncode != 0
    assert "run `manage.py serve` once first" in result.stderr
