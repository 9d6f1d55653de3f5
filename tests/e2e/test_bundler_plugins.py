"""The Sentry bundler plugins for Rollup, Vite and webpack, each run by a real build of a small
Node app against the reference deployment: the plugin creates the release and uploads the source
maps on its own (Rollup's through sentry-cli 2.x, Vite's and webpack's 11.x through their own
uploader); a real @sentry/node event from the minified bundle then shows the original file, line
and function. (The esbuild plugin's build runs in tests/browser/test_sourcemaps.py.)"""

import json
import re
import urllib.parse
import urllib.request

import pytest

from harness.processes import ROOT
from tests.e2e import test_sentry_cli as cli_tests
from tests.js_builds import run_plugin_build

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

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


# The deployment and the admin's token, as the sentry-cli tests make them (one per module).
site = cli_tests.site
token = cli_tests.token


def build(app, bundler, site, token, release):
    (app / "src").mkdir(parents=True)
    (app / "src" / "app.js").write_text(APP_JS.replace("{bundler}", bundler))
    run_plugin_build(
        ["node", str(JS / "build_with_plugin.mjs"), bundler], app, site, token, release
    )
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

    cli_tests.run_app(site, dist, release)
    page = cli_tests.issue_page_with(site, f"via {bundler}")
    assert "src/app.js" in page
    assert "parseQuantity" in page
    assert re.search(rf">:{THROW_LINE}:\d+<", page), "the throwing frame is not at app.js:6"
