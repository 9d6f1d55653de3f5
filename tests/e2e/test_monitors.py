"""Cron monitors end to end: sentry-sdk's `monitor` decorator and `capture_checkin`, @sentry/node's
`captureCheckIn` and `withMonitor`, and the real `sentry-cli monitors run`, against the reference deployment (Gunicorn, the foreman, the spool);
their monitors, statuses and check-ins read back from the Monitors page as its admin sees it."""

import html
import os
import re
import shutil
import subprocess
import sys

import pytest
from django.urls import reverse

from harness.deployment import Deployment
from harness.processes import ROOT, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

SDK_SCRIPT = r"""
import sys, sentry_sdk
from sentry_sdk.crons import capture_checkin, monitor

sentry_sdk.init(dsn=sys.argv[1], environment="e2e", release="cron@1")
hourly = {"schedule": {"type": "crontab", "value": "0 * * * *"}, "checkin_margin": 7,
          "max_runtime": 20, "timezone": "Europe/Amsterdam"}

@monitor(monitor_slug="py-decorated", monitor_config=hourly)
def job():
    return 42

@monitor(monitor_slug="py-failing", monitor_config={"schedule": {"type": "interval", "value": 3, "unit": "hour"}})
def broken():
    raise RuntimeError("the cron job broke")

job()
try:
    broken()
except RuntimeError:
    pass
run = capture_checkin(monitor_slug="py-manual", status="in_progress",
                      monitor_config={"schedule": {"type": "crontab", "value": "*/10 * * * *"}})
capture_checkin(monitor_slug="py-manual", check_in_id=run, status="ok", duration=1.5)
sentry_sdk.flush(10)
"""

NODE_SCRIPT = r"""
const Sentry = require("@sentry/node");
Sentry.init({ dsn: process.argv[2], release: "cron@node", environment: "e2e-node",
              defaultIntegrations: false });
(async () => {
  const run = Sentry.captureCheckIn(
    { monitorSlug: "node-manual", status: "in_progress" },
    { schedule: { type: "crontab", value: "*/5 * * * *" }, checkinMargin: 3, maxRuntime: 10,
      timezone: "Europe/Berlin" });
  Sentry.captureCheckIn({ checkInId: run, monitorSlug: "node-manual", status: "ok", duration: 2.5 });
  await Sentry.withMonitor("node-wrapped", async () => 42,
    { schedule: { type: "interval", value: 2, unit: "hour" } });
  try {
    Sentry.withMonitor("node-failing", () => { throw new Error("the node cron job broke"); },
      { schedule: { type: "crontab", value: "0 4 * * *" } });
  } catch (e) {}
  const ok = await Sentry.flush(30000);
  console.log(ok ? "flushed" : "timeout");
})();
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("monitors") / "data")
    deployment.start(wait_ready=True)
    try:
        yield deployment
    finally:
        deployment.stop(timeout=30)


def monitors_page(site):
    client = site.browser().login()
    path = reverse("bugsink_issues:project_monitors", args=[site.demo_project_id()])

    def read():
        status, _, text = client.get(path)
        assert status == 200, text[:500]
        return html.unescape(text)

    return read


def rows_when(read, done):
    """The page's rows once done(rows) holds, else None (for wait_for)."""
    found = rows(read())
    return found if done(found) else None


def rows(text):
    """slug -> the text of its table row."""
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", text, re.S):
        slug = re.search(r'<td class="mono">(.*?)</td>', row, re.S)
        if slug:
            found[slug.group(1)] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    return found


def test_sentry_sdk_monitor_decorator_and_capture_checkin(site):
    result = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, site.demo_dsn()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    read = monitors_page(site)
    wanted = {"py-decorated", "py-failing", "py-manual"}
    found = wait_for(
        lambda: rows_when(read, lambda r: wanted <= set(r) and "Failing" in r["py-failing"]),
        timeout=60,
        what="the SDK's monitors on the Monitors page",
    )
    decorated = found["py-decorated"]
    assert "OK" in decorated and "0 * * * * (Europe/Amsterdam)" in decorated
    assert "margin 7 min, max runtime 20 min" in decorated and "e2e" in decorated
    assert "every 3 hours" in found["py-failing"] and "Error" in found["py-failing"]
    assert "*/10 * * * * (UTC)" in found["py-manual"] and "1.5 s" in found["py-manual"]


@pytest.mark.skipif(shutil.which("sentry-cli") is None, reason="sentry-cli is not installed")
def test_sentry_cli_monitors_run(site):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(site.data_dir),
        "SENTRY_DSN": site.demo_dsn(),
        "SENTRY_CLI_NO_TELEMETRY": "1",
        "SENTRY_CLI_NO_UPDATE_CHECK": "1",
    }
    for slug, command in (("cli-ok", "true"), ("cli-fails", "false")):
        result = subprocess.run(
            ["sentry-cli", "monitors", "run", "-s", "30 2 * * *", slug, "--", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == (0 if command == "true" else 1), result.stderr
    read = monitors_page(site)
    found = wait_for(
        lambda: rows_when(read, lambda r: {"cli-ok", "cli-fails"} <= set(r)),
        timeout=60,
        what="sentry-cli's monitors on the Monitors page",
    )
    assert "OK" in found["cli-ok"] and "30 2 * * * (UTC)" in found["cli-ok"]
    assert "Failing" in found["cli-fails"] and "Error" in found["cli-fails"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_sentry_node_capture_check_in_and_with_monitor(site, tmp_path):
    script = tmp_path / "cron.js"
    script.write_text(NODE_SCRIPT)
    result = subprocess.run(
        ["node", str(script), site.demo_dsn()],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT / "tests" / "js",
        env={"NODE_PATH": str(ROOT / "tests" / "js" / "node_modules"), "PATH": os.environ["PATH"]},
    )
    assert result.returncode == 0 and "flushed" in result.stdout, result.stdout + result.stderr
    read = monitors_page(site)
    wanted = {"node-manual", "node-wrapped", "node-failing"}
    found = wait_for(
        lambda: rows_when(
            read,
            lambda r: (
                wanted <= set(r)
                and "Error" in r["node-failing"]
                and "2.5 s" in r["node-manual"]
                and r["node-wrapped"].count("OK") == 2
            ),  # the monitor's status and its run's
        ),
        timeout=60,
        what="@sentry/node's monitors on the Monitors page",
    )
    manual = found["node-manual"]
    # the in_progress and its ok are one run: one check-in, closed, with the SDK's duration
    assert "*/5 * * * * (Europe/Berlin)" in manual and "margin 3 min, max runtime 10 min" in manual
    assert manual.count("OK") == 2 and "In progress" not in manual  # status, and the run
    assert "2.5 s" in manual and "e2e-node" in manual
    assert "every 2 hours" in found["node-wrapped"]
    failing = found["node-failing"]
    assert "Failing" in failing and "0 4 * * * (UTC)" in failing
