"""The real SDKs against the real Gunicorn: sentry-sdk (brotli, gzip, none) and @sentry/node."""

import json
import subprocess
import sys

import pytest

from harness.processes import ROOT, wait_for
from tests.ingest.recorder import received

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

PYTHON_SCRIPT = """
import sys, sentry_sdk
dsn, compression, marker = sys.argv[1], sys.argv[2], sys.argv[3]
experiments = {
    "br": {"transport_compression_algo": "br"},
    "gzip": {"transport_compression_algo": "gzip"},
    "none": {"transport_compression_level": 0},
}[compression]
sentry_sdk.init(dsn=dsn, _experiments=experiments)
transport = sentry_sdk.get_client().transport
# What goes on the wire: Content-Encoding br, gzip, or none.
print("algo", transport._compression_algo if transport._compression_level else None)
try:
    raise ValueError(marker)
except ValueError:
    event_id = sentry_sdk.capture_exception()
sentry_sdk.capture_message(marker + " message")
sentry_sdk.flush(10)
print(event_id)
"""


def _events_with(server, marker):
    return [r for r in received(server.dir) if marker.encode() in r["payload"]]


@pytest.mark.parametrize("compression", ["br", "gzip", "none"])
def test_sentry_python(ingest_server, compression, tmp_path):
    marker = f"py-{compression}-marker"
    script = tmp_path / "send.py"
    script.write_text(PYTHON_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script), ingest_server.dsn(), compression, marker],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "algo " + {"br": "br", "gzip": "gzip", "none": "None"}[compression]
    event_id = lines[-1]
    got = _events_with(ingest_server, marker)
    assert len(got) == 2
    assert event_id in {r["event_id"] for r in got}
    exc = next(r for r in got if r["event_id"] == event_id)
    assert json.loads(exc["payload"])["exception"]["values"][-1]["value"] == marker


NODE_SCRIPT = """
const Sentry = require("@sentry/node");
Sentry.init({ dsn: process.argv[2], defaultIntegrations: false });
const marker = process.argv[3];
const big = "x".repeat(40 * 1024);  // over 32 KiB: the SDK gzips this one
Sentry.captureException(new Error(marker));
Sentry.captureMessage(marker + " big " + big);
Sentry.flush(30000).then((ok) => { console.log(ok ? "flushed" : "timeout"); });
"""


def test_sentry_node_chunked(ingest_server, tmp_path):
    marker = "node-chunked-marker"
    script = tmp_path / "send.js"
    script.write_text(NODE_SCRIPT)
    result = subprocess.run(
        ["node", str(script), ingest_server.dsn(), marker],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT / "tests" / "js",
        env={"NODE_PATH": str(ROOT / "tests" / "js" / "node_modules"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0 and "flushed" in result.stdout, result.stdout + result.stderr

    # Both sent; the consumer may record the second a moment after the SDK's flush returns.
    def both():
        found = _events_with(ingest_server, marker)
        return found if len(found) >= 2 else None

    got = wait_for(both, timeout=10, what="both node events")
    assert len(got) == 2
    values = [json.loads(r["payload"]).get("exception", {}).get("values", [{}])[-1] for r in got]
    assert marker in [v.get("value") for v in values]
    big = next(r for r in got if b" big " in r["payload"])
    assert len(big["payload"]) > 40 * 1024
