"""Real SDKs against the real deployment; every event shows up in the right issue in the UI."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.util import find_spec

import pytest

from harness.deployment import Deployment
from harness.processes import ROOT
from tests.e2e.postgres import POSTGRES_URL, fresh_postgres_database, scale_out_env
from tests.e2e.ui import reader_for

pytestmark = pytest.mark.e2e

SENDERS = ROOT / "tests" / "e2e" / "senders"
JS_MODULES = ROOT / "tests" / "js" / "node_modules"


def require_ingest():
    if find_spec("bugsink_ingest.spool") is None or find_spec("bugsink_issues.digest") is None:
        pytest.skip("the ingest spool or the digest is not built yet")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One deployment for the module's SDK tests (starting one costs a few seconds).

    With BUGSINK_TEST_POSTGRES set (the PostgreSQL run), the same tests run on the scale-out path:
    PostgreSQL as the main database and django-tasks-db's db_worker instead of snappea.
    """
    require_ingest()
    with contextlib.ExitStack() as stack:
        env = {"ACCESS_LOG": "1"}
        if POSTGRES_URL:
            env |= scale_out_env(stack.enter_context(fresh_postgres_database()))
        deployment = Deployment(tmp_path_factory.mktemp("sdks") / "data", env=env)
        stack.callback(deployment.stop)
        deployment.start(wait_ready=True)
        yield deployment


@pytest.fixture
def ui(site):
    return reader_for(site)


def marker() -> str:
    return uuid.uuid4().hex[:12]


def run_python_sender(dsn, mode, mark) -> list[str]:
    result = subprocess.run(
        [sys.executable, str(SENDERS / "python_sdk.py"), dsn, mode, mark],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("compression", ["br", "gzip", "none"])
def test_python_sdk_exceptions(site, ui, compression):
    mark = marker()
    ids = run_python_sender(site.demo_dsn(), compression, mark)
    assert len(ids) == 2
    found = ui.wait_for_events({mark: set(ids)})
    assert f"OrderError_{mark}" in found[mark].title
    assert found[mark].event_count == 2


def test_python_sdk_django_view(site, ui):
    mark = marker()
    ids = run_python_sender(site.demo_dsn(), "django", mark)
    assert len(ids) == 1
    found = ui.wait_for_events({mark: set(ids)})
    assert "KeyError" in found[mark].title


def test_python_sdk_logging(site, ui):
    mark = marker()
    ids = run_python_sender(site.demo_dsn(), "logging", mark)
    assert len(ids) == 2
    # logger.error (a message) and logger.exception (an exception) are two different issues.
    issues = ui.wait_for_marked(mark, issue_count=2, event_ids=set(ids))
    assert sorted(i.event_count for i in issues) == [1, 1]


def test_node_sdk(site, ui):
    node = shutil.which("node")
    if not node or not JS_MODULES.exists():
        pytest.skip("node or tests/js/node_modules missing (.ci/run runs npm ci)")
    mark = marker()
    result = subprocess.run(
        [node, str(SENDERS / "node_sdk.cjs"), site.demo_dsn(), mark],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NODE_PATH": str(JS_MODULES)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    exception_id, message_id = json.loads(result.stdout.strip().splitlines()[-1])
    found = ui.wait_for_events(
        {f"e2e node {mark}": {exception_id}, f"e2e node message {mark}": {message_id}}
    )
    assert "TypeError" in found[f"e2e node {mark}"].title


@pytest.fixture(scope="module")
def browser_page_origin(tmp_path_factory):
    """The browser SDK bundled with esbuild, on a page served from another origin."""
    esbuild = JS_MODULES / ".bin" / "esbuild"
    if not esbuild.exists():
        pytest.skip("tests/js/node_modules/.bin/esbuild missing (.ci/run runs npm ci)")
    root = tmp_path_factory.mktemp("page")
    subprocess.run(
        [str(esbuild), str(SENDERS / "browser_entry.js"), "--bundle", f"--outfile={root}/app.js"],
        check=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "NODE_PATH": str(JS_MODULES)},
    )
    (root / "index.html").write_text('<!doctype html><script src="app.js"></script><p>shop</p>')
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.browser
def test_browser_sdk_in_chromium(site, ui, chromium, browser_page_origin):
    mark = marker()
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(browser_page_origin + "/index.html")
        result = page.evaluate(
            "([dsn, mark]) => window.sendError(dsn, mark)", [site.demo_dsn(), mark]
        )
    finally:
        context.close()
    assert result["flushed"] and len(result["sentIds"]) == 1
    found = ui.wait_for_events({f"e2e browser {mark}": set(result["sentIds"])})
    assert "TypeError" in found[f"e2e browser {mark}"].title


def test_dogfooding_to_its_own_demo_project(site, ui):
    output = site.manage("send_test_error", env={"SENTRY_DSN": "self"})
    event_id = output.split("Sent test error ", 1)[1].split()[0]
    found = ui.wait_for_events({"Bugsink test error": {event_id}})
    assert "RuntimeError" in found["Bugsink test error"].title
