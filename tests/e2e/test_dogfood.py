"""Dogfooding: the deployment's own errors reach the DSN in SENTRY_DSN through the real sentry-sdk,
and never loop when that DSN is the deployment itself."""

import json
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import pytest

from harness.deployment import Deployment
from harness.processes import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


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


LOOP_SITE = """
from bugsink_site.settings import *  # noqa: F403

BUGSINK_INGEST_CONSUMER = "loop_site.digest_down"


def digest_down(events):
    raise RuntimeError("the digest fails for every event")
"""


def test_a_failing_digest_reporting_to_this_very_site_does_not_feed_on_itself(tmp_path):
    """SENTRY_DSN=self and a digest that fails for every event: the worker's error reports (real
    sentry-sdk, inside the drain) are dropped by ingest's loop guard, so the spool holds only the
    one event that was sent, however often the drain fails."""
    (tmp_path / "loop_site.py").write_text(LOOP_SITE)
    env = {"SENTRY_DSN": "self", "DJANGO_SETTINGS_MODULE": "loop_site", "PYTHONPATH": str(tmp_path)}
    site = Deployment(tmp_path / "data", env=env)
    site.start()
    try:
        output = site.manage("send_test_error")  # outside the chain: sent, to this site
        assert "Sent test error" in output

        # The drain fails, retries after 5 s, fails again, each time logging an error.
        def backlog():
            return site.get_json("/health/ready")[1]["checks"]["spool"]["backlog"]

        wait_for(
            lambda: site.log().count("the ingest consumer failed") >= 2 or backlog() > 1,
            timeout=60,
            what=f"the second failed drain; log:\n{site.log()[-3000:]}",
        )
        time.sleep(3)  # time for any error report the worker sent to arrive and be spooled
        assert backlog() == 1, site.log()[-3000:]
    finally:
        site.stop()
