"""A TypeScript app built by esbuild with the Sentry esbuild plugin, which on its own creates the
release, uploads the source maps (through sentry-cli 2.x) and records a deploy against the
reference deployment; the built bundle then runs in headless Chromium with @sentry/browser, throws,
and the issue page shows the original TypeScript file, line and function name."""

import json
import re
import threading
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.deployment import ADMIN_EMAIL, ADMIN_PASSWORD, Deployment
from harness.processes import ROOT, wait_for
from tests.js_builds import run_plugin_build

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
JS = ROOT / "tests" / "js"
RELEASE = "shop@2.4.0"

APP_TS = """\
import * as Sentry from "@sentry/browser";

interface LineItem {
  sku: string;
  quantity: number;
}

function validateQuantity(item: LineItem): void {
  if (item.quantity <= 0) {
    throw new RangeError("quantity must be positive for " + item.sku);
  }
}

export function placeOrder(items: LineItem[]): number {
  items.forEach(validateQuantity);
  return items.length;
}

(window as any).start = (dsn: string) => {
  Sentry.init({ dsn, defaultIntegrations: false });
  try {
    placeOrder([{ sku: "A-1", quantity: 2 }, { sku: "B-2", quantity: 0 }]);
  } catch (e) {
    Sentry.captureException(e);
  }
  return Sentry.flush(10000);
};
"""
THROW_LINE = 10

BUILD_JS = """\
const { sentryEsbuildPlugin } = require("@sentry/esbuild-plugin");
require("esbuild").build({
  entryPoints: ["src/app.ts"], bundle: true, minify: true, sourcemap: true,
  outdir: "dist", format: "iife", logLevel: "warning", nodePaths: [process.env.NODE_PATH],
  plugins: [sentryEsbuildPlugin({
    url: process.env.TRACKER_URL, authToken: process.env.TRACKER_TOKEN,
    org: "bugsink", project: "demo", telemetry: false,
    release: { name: process.env.RELEASE, deploy: { env: "staging" } },
  })],
}).then(() => console.log("built"), (e) => { console.error(e); process.exit(1); });
"""
PAGE = "<!doctype html><meta charset=utf-8><title>shop</title><script src=app.js></script>"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("sourcemaps-site") / "data")
    deployment.start()
    try:
        yield deployment
    finally:
        deployment.stop(timeout=30)


@pytest.fixture(scope="module")
def token(site):
    return site.manage("bugsink_create_token", "--user", ADMIN_EMAIL).strip().splitlines()[-1]


@pytest.fixture(scope="module")
def built(site, token, tmp_path_factory):
    app = tmp_path_factory.mktemp("shop")
    (app / "src").mkdir()
    (app / "src" / "app.ts").write_text(APP_TS)
    (app / "build.cjs").write_text(BUILD_JS)
    run_plugin_build(["node", "build.cjs"], app, site, token, RELEASE)
    (app / "dist" / "index.html").write_text(PAGE)
    return app / "dist"


@pytest.fixture(scope="module")
def app_origin(built):
    handler = partial(SimpleHTTPRequestHandler, directory=str(built))
    handler.log_message = lambda *a: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def api_get(site, token, path):
    request = urllib.request.Request(
        site.base_url + path, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_plugin_made_the_release_the_upload_and_the_deploy(site, token, built):
    quoted = urllib.request.quote(RELEASE, safe="")
    release = api_get(site, token, f"/api/0/organizations/bugsink/releases/{quoted}/")
    assert release["dateReleased"] is not None  # finalized
    assert release["lastDeploy"]["environment"] == "staging"
    assert (
        "debugId" in (built / "app.js.map").read_text()
        or "debug_id" in (built / "app.js.map").read_text()
    )


def test_browser_error_shows_the_original_typescript(
    chromium, site, built, app_origin, artifacts_dir
):
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.goto(f"{app_origin}/index.html")
        assert page.evaluate("(dsn) => window.start(dsn)", site.demo_dsn()) is True
    finally:
        context.close()

    ui = site.browser()
    ui.login()
    found = {}

    def issue_appeared():
        _, _, body = ui.get(f"/projects/{site.demo_project_id()}/?q=RangeError")
        links = re.findall(r'href="(/issues/\d+/)"', body)
        if links:
            found["path"] = links[0]
        return bool(links)

    wait_for(issue_appeared, timeout=60, what="the RangeError issue")
    status, _, issue_page = ui.get(found["path"])
    assert status == 200
    assert "src/app.ts" in issue_page
    assert "validateQuantity" in issue_page
    # The frame's file, then its line (whatever markup the page puts between them).
    assert re.search(rf"src/app\.ts</span>.{{0,80}}:{THROW_LINE}\b", issue_page, re.S), issue_page
    # The switch shows the frames as the browser reported them: the bundle's URL.
    _, _, minified = ui.get(found["path"] + "?frames=minified")
    assert f"{app_origin}/app.js" in minified

    # What a person sees: the page in Chromium, kept as a screenshot for the record.
    context = chromium.new_context()
    page = context.new_page()
    try:
        page.goto(f"{site.base_url}/accounts/login/")
        page.fill("input[name=login]", ADMIN_EMAIL)
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("form.bsk-form button[type=submit]")
        page.goto(site.base_url + found["path"])
        assert "validateQuantity" in page.content()
        page.screenshot(path=str(artifacts_dir / "issue-with-source-map.png"), full_page=True)
    finally:
        context.close()
