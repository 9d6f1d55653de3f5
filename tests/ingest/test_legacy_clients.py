"""Old SDKs and browsers against the real Gunicorn: Python's raven and raven-node post to /store/
(base64 of zlib data) and raven-js from headless Chromium (query-string auth), all naming
themselves only in sentry_client, which reaches the consumer; Chromium's own CSP reports to
/security/ with the release and environment in the report URL, and the same report inside an
envelope as a raw_security item."""

import json
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from harness.processes import ROOT, wait_for
from tests.ingest.recorder import received
from tests.ingest.wire import post

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]
JS = ROOT / "tests" / "js"


def _with_marker(server, marker):
    return [r for r in received(server.dir) if marker.encode() in r["payload"]]


RAVEN_PYTHON = """
import sys
from raven import Client
from raven.transport.http import HTTPTransport
client = Client(sys.argv[1], transport=HTTPTransport, install_sys_hook=False, raise_send_errors=True)
client.captureMessage(sys.argv[2])
"""


def test_python_raven_names_itself_in_sentry_client(ingest_server, tmp_path):
    raven = pytest.importorskip("raven")
    marker = f"raven-python-{uuid.uuid4().hex}"
    script = tmp_path / "send.py"
    script.write_text(RAVEN_PYTHON)
    result = subprocess.run(
        [sys.executable, str(script), ingest_server.dsn(), marker],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (got,) = wait_for(lambda: _with_marker(ingest_server, marker), timeout=10, what="the event")
    assert got["sentry_client"] == f"raven-python/{raven.VERSION}"


RAVEN_NODE = """
const Raven = require("raven");
Raven.config(process.argv[2], { captureUnhandledRejections: false }).install();
Raven.captureMessage(process.argv[3], (err) => {
  console.log(err ? "failed " + err : "sent");
  process.exit(err ? 1 : 0);
});
"""


def test_raven_node_names_itself_in_sentry_client(ingest_server, tmp_path):
    marker = f"raven-node-{uuid.uuid4().hex}"
    script = tmp_path / "send.js"
    script.write_text(RAVEN_NODE)
    result = subprocess.run(
        ["node", str(script), ingest_server.dsn(), marker],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=JS,
        env={"NODE_PATH": str(JS / "node_modules"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0 and "sent" in result.stdout, result.stdout + result.stderr
    (got,) = wait_for(lambda: _with_marker(ingest_server, marker), timeout=10, what="the event")
    version = json.loads((JS / "node_modules" / "raven" / "package.json").read_text())["version"]
    assert got["sentry_client"] == f"raven-node/{version}"


class _Pages(BaseHTTPRequestHandler):
    """The host app of the browser tests: a raven-js page, and a page whose CSP forbids its own
    inline script and reports to the tracker."""

    raven_js = (JS / "node_modules" / "raven-js" / "dist" / "raven.min.js").read_bytes()
    report_uri = ""

    def do_GET(self):
        if self.path == "/raven.min.js":
            body, kind, csp = self.raven_js, "application/javascript", None
        elif self.path == "/csp":
            body, kind = (
                b"<!doctype html><title>csp</title><script>window.ran = 1</script>",
                "text/html",
            )
            csp = f"script-src 'self'; report-uri {self.report_uri}"
        else:
            body, kind, csp = (
                b"<!doctype html><script src=/raven.min.js></script>",
                "text/html",
                None,
            )
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if csp:
            self.send_header("Content-Security-Policy", csp)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def app_origin(ingest_server):
    pages = type("Pages", (_Pages,), {})
    pages.report_uri = (
        f"{ingest_server.base}/api/1/security/?sentry_key=publickey123"
        f"&sentry_release={quote('web@1.2.3')}&sentry_environment=staging"
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), pages)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.browser
def test_raven_js_in_chromium_names_itself_in_sentry_client(chromium, ingest_server, app_origin):
    marker = f"raven-js-{uuid.uuid4().hex}"
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(app_origin + "/")
        page.wait_for_function("window.Raven !== undefined")
        with page.expect_response(lambda r: "/store/" in r.url) as response:
            page.evaluate(
                "([dsn, marker]) => { Raven.config(dsn).install(); Raven.captureMessage(marker); }",
                [ingest_server.dsn(), marker],
            )
        assert response.value.status == 200
    finally:
        context.close()
    (got,) = wait_for(lambda: _with_marker(ingest_server, marker), timeout=10, what="the event")
    assert got["sentry_client"] == "raven-js/3.27.2"


@pytest.mark.browser
def test_chromium_csp_report_and_the_same_report_as_raw_security(
    chromium, ingest_server, app_origin
):
    context = chromium.new_context()
    try:
        page = context.new_page()
        with page.expect_request(lambda r: "/security/" in r.url) as reported:
            page.goto(app_origin + "/csp")
        request = reported.value
        body = request.post_data_buffer
        assert request.headers["content-type"] == "application/csp-report"
        deadline = time.monotonic() + 10
        while request.response() is None and time.monotonic() < deadline:
            page.wait_for_timeout(50)
    finally:
        context.close()

    def csp_events(release=None):
        # Events only: the server is shared, and other kinds (an attachment sent alone) have
        # payloads that are not an event's JSON.
        rows = [
            json.loads(r["payload"]) for r in received(ingest_server.dir) if r["kind"] == "event"
        ]
        return [
            e
            for e in rows
            if e.get("logger") == "csp"
            and e["extra"]["csp_report"].get("document-uri") == app_origin + "/csp"
            and e.get("release") == release
        ]

    (event,) = wait_for(lambda: csp_events("web@1.2.3"), timeout=10, what="the CSP event")
    assert event["environment"] == "staging"
    assert event["tags"]["csp.directive"].startswith("script-src")

    # The same browser-made body, as an envelope item (the SDKs' way to forward reports).
    event_id = uuid.uuid4().hex
    envelope = b"\n".join(
        [
            json.dumps({"event_id": event_id}).encode(),
            json.dumps({"type": "raw_security", "length": len(body)}).encode(),
            body,
        ]
    )
    path = "/api/1/envelope/?sentry_key=publickey123&sentry_release=web%402.0.0"
    answer = post(ingest_server.port, path, envelope)
    assert answer.status == 200 and answer.json() == {"id": event_id}
    (wrapped,) = wait_for(
        lambda: csp_events("web@2.0.0"), timeout=10, what="the raw_security event"
    )
    assert wrapped["event_id"] == event_id
    assert wrapped["extra"]["csp_report"] == event["extra"]["csp_report"]
