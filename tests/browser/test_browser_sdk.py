"""@sentry/browser in headless Chromium: from another origin (real CORS checks by the browser) and
through a same-origin tunnel. The SDK is bundled with esbuild at test time."""

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.processes import ROOT
from tests.ingest.recorder import received
from tests.ingest.server import start_server, stop_server
from tests.js_builds import bundle_for_the_browser

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
JS = ROOT / "tests" / "js"

ENTRY = """
import * as Sentry from "@sentry/browser";
window.sendWithSentry = async (dsn, tunnel, marker) => {
  Sentry.init({ dsn, tunnel: tunnel || undefined, defaultIntegrations: false });
  Sentry.captureException(new Error(marker));
  return await Sentry.flush(10000);
};
"""

PAGE = "<!doctype html><meta charset=utf-8><title>app</title><script src=bundle.js></script>"


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    bundle_for_the_browser(out, ENTRY, PAGE)
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory.mktemp("browser-ingest"))
    yield s
    stop_server(s)


@pytest.fixture(scope="module")
def app_origin(bundle_dir):
    """The host app's own origin: another port, so every call to the tracker is cross-origin."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(bundle_dir))
    handler.log_message = lambda *a: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _events_with(server, marker):
    return [r for r in received(server.dir) if marker.encode() in r["payload"]]


def test_browser_sdk_cross_origin(chromium, server, app_origin):
    assert app_origin != server.base
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.goto(f"{app_origin}/index.html")
        marker = "browser-cors-marker"
        assert page.evaluate(
            "([d, m]) => window.sendWithSentry(d, null, m)", [server.dsn(), marker]
        )
        (got,) = _events_with(server, marker)
        assert json.loads(got["payload"])["exception"]["values"][-1]["value"] == marker
        # The browser lets page code read the answer and the exposed headers only with CORS;
        # a custom header makes it preflight first.
        answer = page.evaluate(
            """async ([base]) => {
                const body = '{}\\n{"type":"event"}\\n{"message":"fetch"}';
                const r = await fetch(base + "/api/1/envelope/", {method: "POST", body,
                    headers: {"X-Sentry-Auth": "Sentry sentry_key=publickey123, sentry_version=7"}});
                return {status: r.status, json: await r.json()};
            }""",
            [server.base],
        )
        assert answer["status"] == 200 and len(answer["json"]["id"]) == 32
        limited = page.evaluate(
            """async ([base]) => {
                const url = base + "/api/1/envelope/?sentry_key=" + "4".repeat(32);
                const body = '{}\\n{"type":"event"}\\n{"message":"limit"}';
                for (let i = 0; i < 20; i++) {
                    const r = await fetch(url, {method: "POST", body});
                    if (r.status === 429) return {retry: r.headers.get("retry-after"),
                        limits: r.headers.get("x-sentry-rate-limits")};
                }
                return null;
            }""",
            [server.base],
        )
        assert limited and limited["retry"].isdigit()
        assert limited["limits"] == f"{limited['retry']}:error:key"
    finally:
        context.close()


def test_browser_sdk_through_the_tunnel(chromium, server, bundle_dir):
    # The page is served from the tracker's own origin (as a host site embedding it would be):
    # the SDK posts to /tunnel on its own origin, auth coming from the envelope's dsn header.
    context = chromium.new_context()
    page = context.new_page()
    page.route(
        f"{server.base}/app/**",
        lambda route: route.fulfill(path=str(bundle_dir / route.request.url.rsplit("/", 1)[-1])),
    )
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(f"{server.base}/app/index.html")
        marker = "browser-tunnel-marker"
        assert page.evaluate(
            "([d, t, m]) => window.sendWithSentry(d, t, m)", [server.dsn(), "/tunnel", marker]
        )
        (got,) = _events_with(server, marker)
        assert got["project_id"] == 1
        assert f"{server.base}/tunnel" in requests
        assert not any("/envelope/" in url for url in requests)
    finally:
        context.close()
