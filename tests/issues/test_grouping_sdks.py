"""Grouping version 2 on events the real SDKs make: sentry-sdk in a subprocess running an
application file (which the test then edits), and @sentry/browser in headless Chromium with and
without its wrapper around event listeners. The events go through the real digest."""

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bugsink_issues.digest.grouping import grouping_for
from bugsink_issues.digest.normalize import normalize_event
from harness.processes import ROOT
from tests.factories import spooled

SENDER = Path(__file__).parent / "senders" / "python_capture.py"
JS = ROOT / "tests" / "js"

APP = """
def checkout(cart):
    if not cart.get("items"):
        raise ValueError("the cart is empty")
    if not cart.get("address"):
        raise ValueError("the cart has no address")
    return cart


def submit(cart):
    return checkout(cart)


def refund():
    raise KeyError("order")
"""
# The same application after an edit above the raise sites: every line number moves.
EDITED_APP = """
import logging

logger = logging.getLogger(__name__)


def log_checkout(cart):
    logger.info("checkout of %s", cart)
""" + APP.replace("    if not cart.get", "    log_checkout(cart)\n    if not cart.get", 1)


EMPTY_CART, NO_ADDRESS = "submit={}", 'submit={"items": [1]}'


def python_events(tmp_path, source, *calls):
    app_file = tmp_path / "shop_app.py"
    app_file.write_text(source)
    result = subprocess.run(
        [sys.executable, str(SENDER), str(app_file), *calls],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # the SDK marks frames under the working directory in-app
    )
    assert result.returncode == 0, result.stderr[-3000:]
    payloads = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(payloads) == len(calls)
    return [json.loads(p) for p in payloads]


def crash_line(payload):
    return payload["exception"]["values"][-1]["stacktrace"]["frames"][-1]["lineno"]


def v1_key(payload):
    data = normalize_event(
        json.loads(json.dumps(payload)), event_id="a" * 32, received_at=datetime.now(UTC)
    ).data
    return grouping_for(data, 1).key


@pytest.mark.django_db
def test_python_raise_sites_and_an_edit_above_them(tmp_path, project, digest):
    from bugsink_issues.models import Issue

    before = python_events(tmp_path, APP, EMPTY_CART, NO_ADDRESS, EMPTY_CART)
    after = python_events(tmp_path, EDITED_APP, EMPTY_CART, NO_ADDRESS)
    assert crash_line(after[0]) > crash_line(before[0])  # the edit did move the code
    assert v1_key(before[0]) == v1_key(before[1])  # version 1 cannot tell the sites apart

    digest([spooled(project, p) for p in before + after])
    counts = dict(Issue.objects.values_list("title", "event_count"))
    # Two raise sites: two issues; the edit split neither.
    assert counts == {"ValueError: the cart is empty": 3, "ValueError: the cart has no address": 2}


@pytest.mark.django_db
def test_python_v1_issue_keeps_receiving_events_after_the_upgrade(tmp_path, project, digest):
    from bugsink_issues.models import Grouping, Issue, ProjectSettings

    ProjectSettings.objects.for_project(project.pk)
    ProjectSettings.objects.filter(project=project).update(grouping_version=1)  # made before v2
    digest([spooled(project, p) for p in python_events(tmp_path, APP, EMPTY_CART)])
    (issue,) = Issue.objects.all()

    # The project is moved to version 2, and the application is edited meanwhile.
    ProjectSettings.objects.filter(project=project).update(grouping_version=2)
    digest(
        [
            spooled(project, p)
            for p in python_events(tmp_path, EDITED_APP, EMPTY_CART, NO_ADDRESS, "refund")
        ]
    )
    issue.refresh_from_db()
    assert issue.event_count == 3
    (new_issue,) = Issue.objects.exclude(pk=issue.pk)
    assert new_issue.title.startswith("KeyError")
    assert set(Grouping.objects.filter(issue=issue).values_list("version", flat=True)) == {1, 2}
    assert set(Grouping.objects.filter(issue=new_issue).values_list("version", flat=True)) == {2}


BROWSER_ENTRY = """
import * as Sentry from "@sentry/browser";

const sent = [];

function fail(n) {
  throw new TypeError("widget " + n + " failed");
}

function onPing() {
  fail(1);
}

function trigger(target) {
  target.dispatchEvent(new Event("ping"));
}

// wrapped: the SDK's browserApiErrors integration wraps the listener in its sentryWrapped, which
// reports the error; otherwise the error reaches window.onerror, where globalHandlers reports it.
window.runScenario = async (dsn, wrapped) => {
  const integrations = [Sentry.globalHandlersIntegration()];
  if (wrapped) integrations.push(Sentry.browserApiErrorsIntegration());
  Sentry.init({
    dsn,
    defaultIntegrations: false,
    integrations,
    transport: (options) =>
      Sentry.createTransport(options, async (request) => {
        const body = request.body;
        sent.push(typeof body === "string" ? body : new TextDecoder().decode(body));
        return { statusCode: 200, headers: {} };
      }),
  });
  const target = new EventTarget();
  target.addEventListener("ping", onPing);
  trigger(target);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await Sentry.flush(5000);
  return sent;
};
"""


def event_items(envelope):
    lines = envelope.split("\n")
    return [
        json.loads(lines[i + 1])
        for i, line in enumerate(lines[:-1])
        if line.startswith("{") and json.loads(line).get("type") == "event"
    ]


@pytest.fixture(scope="module")
def browser_events(tmp_path_factory):
    """{"wrapped": [event], "direct": [event]} from @sentry/browser in Chromium. Playwright is
    closed again before the tests touch the database (its event loop would refuse them)."""
    esbuild = JS / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        pytest.skip("tests/js/node_modules/.bin/esbuild missing (.ci/run runs npm ci)")
    from playwright.sync_api import sync_playwright

    from tests.support.chromium import launch_chromium

    out = tmp_path_factory.mktemp("grouping-bundle")
    (out / "entry.js").write_text(BROWSER_ENTRY)
    subprocess.run(
        [str(esbuild), str(out / "entry.js"), "--bundle", "--format=iife"]
        + [f"--outfile={out / 'bundle.js'}", "--log-level=warning"],
        cwd=JS,
        check=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NODE_PATH": str(JS / "node_modules")},
    )
    (out / "index.html").write_text(
        "<!doctype html><meta charset=utf-8><script src=bundle.js></script>"
    )
    handler = partial(SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *a: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    events = {}
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                for mode in ("wrapped", "direct"):
                    page = browser.new_page()
                    page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/index.html")
                    envelopes = page.evaluate(
                        "([dsn, wrapped]) => window.runScenario(dsn, wrapped)",
                        [
                            "http://0123456789abcdef0123456789abcdef@127.0.0.1:9/1",
                            mode == "wrapped",
                        ],
                    )
                    events[mode] = [e for envelope in envelopes for e in event_items(envelope)]
                    page.close()
            finally:
                browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    return events


def frame_functions(payload):
    return [f.get("function") for f in payload["exception"]["values"][-1]["stacktrace"]["frames"]]


@pytest.mark.browser
@pytest.mark.django_db
def test_browser_sdk_wrapper_frames_do_not_change_the_key(browser_events, project, digest):
    from bugsink_issues.models import Grouping, Issue

    (wrapped,), (direct,) = browser_events["wrapped"], browser_events["direct"]
    # The SDK's wrapper is one more in-app frame (the SDK is bundled into the page's own file),
    # and the one difference between the two stacks.
    assert any(f.endswith("sentryWrapped") for f in frame_functions(wrapped))
    assert [f for f in frame_functions(wrapped) if not f.endswith("sentryWrapped")] == (
        frame_functions(direct)
    )
    assert "browserapierrors" in wrapped["exception"]["values"][-1]["mechanism"]["type"]
    assert v1_key(wrapped) != v1_key(direct)  # what version 2 fixes

    digest([spooled(project, wrapped), spooled(project, direct)])
    (issue,) = Issue.objects.all()
    assert issue.event_count == 2 and issue.title == "TypeError: widget 1 failed"
    (grouping,) = Grouping.objects.all()
    assert grouping.version == 2
    assert not any("sentryWrapped" in json.dumps(part) for part in grouping.parts["parts"])
