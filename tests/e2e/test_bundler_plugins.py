"""The Sentry bundler plugins for Rollup, Vite and webpack, each run by a real build of a small
Node app against the reference deployment: the plugin creates the release and uploads the source
maps on its own (Rollup's through sentry-cli 2.x, Vite's and webpack's 11.x through their own
uploader); a real @sentry/node event from the minified bundle then shows the original file, line
and function. (The esbuild plugin's build runs in tests/browser/test_sourcemaps.py.)"""

import json
import os
import re
import subprocess
import urllib.parse
import urllib.request

import pytest

from harness.deployment import ADMIN_EMAIL, Deployment
from harness.processes import ROOT
from tests.e2e.test_sentry_cli import issue_page_with, run_app

pytestmark = pytest.mark.e2e

JS = ROOT / "tests" / "js"

APP_JS = """\
const Sentry = require("@sentry/node");

function parseQuantity(text) {
  const quantity = Number(text);
  if (!Number.isInteger(quantity)) {
    throw new TypeError("not a whole quantity: " + text + " via {bundler}");
  }
  return quantity;
}

function totalItems(lines) {
  return lines.map(parseQuantity).reduce((a, b) => a + b, 0);
}

Sentry.init({ dsn: process.env.DSN, release: process.env.RELEASE, defaultIntegrations: false });
try {
  console.log(totalItems(["2", "1.5"]));
} catch (e) {
  Sentry.captureException(e);
}
Sentry.flush(10000).then((ok) => process.exit(ok ? 0 : 3));
"""
THROW_LINE = 6  # `throw new TypeError(...)` in APP_JS, 1-based


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("plugins") / "data")
    deployment.start()
    try:
        yield deployment
    finally:
        deployment.stop(timeout=30)


@pytest.fixture(scope="module")
def token(site):
    return site.manage("bugsink_create_token", "--user", ADMIN_EMAIL).strip().splitlines()[-1]


def build(app, bundler, site, token, release):
    (app / "src").mkdir(parents=True)
    (app / "src" / "app.js").write_text(APP_JS.replace("{bundler}", bundler))
    result = subprocess.run(
        ["node", str(JS / "build_with_plugin.mjs"), bundler],
        cwd=app,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(app),
            "NODE_PATH": str(JS / "node_modules"),
            "TRACKER_URL": site.base_url,
            "TRACKER_TOKEN": token,
            "RELEASE": release,
            # No telemetry, no update check: the build talks to the tracker only.
            "SENTRY_CLI_NO_TELEMETRY": "1",
            "SENTRY_CLI_NO_UPDATE_CHECK": "1",
            "DO_NOT_TRACK": "1",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "built" in result.stdout, output
    # A plugin's failed upload never fails the build: its output says whether the upload worked.
    assert "error" not in output.lower(), output
    return app / "dist"


@pytest.mark.parametrize("bundler", ["rollup", "vite", "webpack"])
def test_plugin_uploads_and_the_event_shows_the_original_source(site, token, tmp_path, bundler):
    release = f"plugins-{bundler}@1.0.0"
    dist = build(tmp_path / "app", bundler, site, token, release)
    bundle = (dist / "app.js").read_text()
    assert "parseQuantity" not in bundle  # minified: only the source map knows the name

    quoted = urllib.parse.quote(release, safe="")
    request = urllib.request.Request(
        f"{site.base_url}/api/0/organizations/bugsink/releases/{quoted}/",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["version"] == release  # the plugin made it

    run_app(site, dist, release)
    page = issue_page_with(site, f"via {bundler}")
    assert "src/app.js" in page
    assert "parseQuantity" in page
    assert re.search(rf">:{THROW_LINE}:\d+<", page), "the throwing frame is not at app.js:6"
