"""Feedback, attachments and monitors in headless Chromium against a real Gunicorn server (ingest
and UI; tasks run in the request): @sentry/browser's `captureFeedback` from a page of another
origin shown on the issue's Feedback tab and the project's Feedback page; sentry-sdk's
attachments listed, previewed and downloaded; a check-in from `capture_checkin` on the Monitors
page; hostile feedback text, filenames and monitor slugs shown as text; another team's user gets
404 on each of these pages and on the download."""

import json
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.processes import ROOT
from tests.browser.ui_server import SETUP, log_in, new_page, ui_site
from tests.js_builds import bundle_for_the_browser

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
JS = ROOT / "tests" / "js"

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
HOSTILE_SLUG = "<img src=x onerror=window.__pwned=1>"
PNG = (  # a 1x1 PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a7d3b20000000049454e44ae426082"
)

# mallory: an admin of a team of her own, with a project of its own; she sees nothing of Shop.
SETUP_WITH_MALLORY = (
    SETUP.replace("print(project.pk)", "")
    + """
mallory = User.objects.create_user("mallory", password="correct horse")
other = Team.objects.create(name="Other")
TeamMembership.objects.create(team=other, user=mallory, role="admin")
ProjectTeam.objects.create(project=Project.objects.create(name="Elsewhere"), team=other)
print(project.pk)
"""
)

ENTRY = """
import * as Sentry from "@sentry/browser";
window.feedbackWithSentry = async (dsn, message, name) => {
  Sentry.init({ dsn, defaultIntegrations: false });
  const eventId = Sentry.captureException(new Error("checkout broke in the browser"));
  await Sentry.flush(10000);
  Sentry.captureFeedback({ message, name, email: "shopper@example.com",
                           associatedEventId: eventId, url: "http://shop.example/cart" });
  return { eventId, flushed: await Sentry.flush(10000) };
};
window.reportDialog = async (dsn, name) => {
  Sentry.init({ dsn, defaultIntegrations: false });
  const eventId = Sentry.captureException(new Error("the report dialog's error"));
  await Sentry.flush(10000);
  Sentry.showReportDialog({ eventId, user: { name, email: "ann@example.com" }, title: name });
  return eventId;
};
"""
PAGE = "<!doctype html><meta charset=utf-8><title>shop</title><script src=bundle.js></script>"

SDK_SCRIPT = r"""
import json, sys, sentry_sdk
from sentry_sdk.crons import capture_checkin

sentry_sdk.init(dsn=sys.argv[1])
hostile, png = sys.argv[2], bytes.fromhex(sys.argv[3])
with sentry_sdk.new_scope() as scope:
    scope.add_attachment(bytes=hostile.encode() * 3, filename=hostile + ".txt", content_type="text/html")
    scope.add_attachment(bytes=png, filename="screen.png", content_type="image/png")
    scope.add_attachment(bytes=b"<svg xmlns='http://www.w3.org/2000/svg' onload='window.__pwned=1'/>",
                         filename="logo.svg", content_type="image/svg+xml")
    try:
        raise LookupError("attachments in the browser")
    except LookupError:
        event_id = sentry_sdk.capture_exception()
capture_checkin(monitor_slug=sys.argv[4], status="ok",
                monitor_config={"schedule": {"type": "crontab", "value": "0 3 * * *"}})
sentry_sdk.flush(10)
print(json.dumps(event_id))
"""


@pytest.fixture(scope="module")
def site():
    with ui_site("tests.browser.server_settings", SETUP_WITH_MALLORY) as s:
        yield s


@pytest.fixture(scope="module")
def app_origin(tmp_path_factory):
    """The shop's own pages, on another origin than the tracker, with @sentry/browser bundled."""
    out = tmp_path_factory.mktemp("feedback-bundle")
    bundle_for_the_browser(out, ENTRY, PAGE)
    handler = partial(SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *a: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def sent(site, chromium, app_origin):
    """What the SDKs sent once per module: the browser's event id (with its feedback) and the
    Python event id (with its attachments and a check-in)."""
    context, page = new_page(chromium)
    try:
        page.goto(f"{app_origin}/index.html")
        browser = page.evaluate(
            "([d, m, n]) => window.feedbackWithSentry(d, m, n)",
            [site["dsn"], "the cart ate my order " + HOSTILE, HOSTILE],
        )
        assert browser["flushed"] is True
    finally:
        context.close()
    out = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, site["dsn"], HOSTILE, PNG, HOSTILE_SLUG],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    )
    python_event = json.loads(out.stdout.strip().splitlines()[-1])
    return {"browser": browser["eventId"].replace("-", ""), "python": python_event}


@pytest.fixture
def alice(chromium, site):
    context, page = new_page(chromium)
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    log_in(page, site)
    yield page
    context.close()


TITLES = {"browser": "checkout broke in the browser", "python": "attachments in the browser"}


def _event_url(page, site, sent, which):
    """The path of the event the SDK sent (the permalink by id redirects to it); its issue is
    found on the project's list by its title."""
    event_id = sent[which]
    page.goto(f"{site['base']}/projects/{site['project_id']}/?status=all")
    page.click(f".bsk-issues a.bsk-title:has-text('{TITLES[which]}')")
    page.wait_for_selector(".bsk-issue-head")
    issue_path = page.url.split(site["base"], 1)[1].split("?")[0]
    page.goto(f"{site['base']}{issue_path}events/id/{event_id}/")
    return page.url.split(site["base"], 1)[1].split("?")[0]


def _assert_inert(page):
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    assert page.locator(".bsk-main script").count() == 0


def test_browser_feedback_on_the_feedback_tab_and_page(alice, site, sent, artifacts_dir):
    event_path = _event_url(alice, site, sent, "browser")
    issue_path = event_path.split("events/")[0]
    alice.goto(f"{site['base']}{issue_path}?tab=feedback")
    item = alice.locator(".bsk-feedback-item")
    assert item.count() == 1
    text = item.inner_text()
    assert "the cart ate my order <script>window.__pwned=1</script>" in text  # as text
    assert "shopper@example.com" in text and "http://shop.example/cart" in text
    assert alice.locator(".bsk-main img").count() == 0
    _assert_inert(alice)
    alice.screenshot(path=artifacts_dir / "feedback-tab.png", full_page=True)
    alice.goto(f"{site['base']}/projects/{site['project_id']}/feedback/")
    listed = alice.locator(".bsk-feedback-item", has_text="the cart ate my order")
    assert listed.count() == 1 and HOSTILE in listed.inner_text()
    listed.locator("a:has-text('checkout broke in the browser')").click()
    alice.wait_for_selector(".bsk-tabs-main a.active:has-text('Feedback')")
    assert alice.locator(".bsk-main img").count() == 0
    _assert_inert(alice)
    alice.screenshot(path=artifacts_dir / "feedback-page.png", full_page=True)


def test_the_crash_report_dialog_stores_feedback(
    alice, chromium, site, app_origin, sent, artifacts_dir
):
    """showReportDialog loads /api/embed/error-page/ from the tracker into the shop's page; the
    user fills it in; the report is the event's feedback, hostile text shown as text."""
    context, page = new_page(chromium)
    try:
        page.goto(f"{app_origin}/index.html")
        page.evaluate("([d, n]) => window.reportDialog(d, n)", [site["dsn"], HOSTILE])
        dialog = page.wait_for_selector(".bugsink-report-dialog form")
        assert page.input_value(".bugsink-report-dialog input[name=name]") == HOSTILE
        assert HOSTILE in dialog.inner_text()  # the title, as text
        page.fill(".bugsink-report-dialog textarea[name=comments]", "dialog says " + HOSTILE)
        page.screenshot(path=artifacts_dir / "report-dialog.png", full_page=True)
        page.click(".bugsink-report-dialog button[type=submit]")
        page.wait_for_selector(".bugsink-report-thanks")
        assert page.evaluate("window.__pwned") is None and page.dialogs == []
    finally:
        context.close()
    alice.goto(f"{site['base']}/projects/{site['project_id']}/?status=all")
    alice.click('.bsk-issues a.bsk-title:has-text("the report dialog\'s error")')
    alice.wait_for_selector(".bsk-issue-head")
    alice.goto(alice.url.split("?")[0] + "?tab=feedback")
    item = alice.locator(".bsk-feedback-item")
    assert item.count() == 1
    text = item.inner_text()
    assert "dialog says " + HOSTILE in text and "ann@example.com" in text
    _assert_inert(alice)
    assert alice.locator(".bsk-main img").count() == 0


def test_attachments_listed_previewed_and_downloaded(alice, site, sent, artifacts_dir):
    event_path = _event_url(alice, site, sent, "python")
    alice.goto(f"{site['base']}{event_path}?tab=attachments")
    table = alice.locator(".bsk-attachments")
    assert HOSTILE + ".txt" in table.inner_text()  # the filename as text
    assert alice.locator(".bsk-main img").count() == 0
    _assert_inert(alice)
    alice.screenshot(path=artifacts_dir / "attachments-tab.png", full_page=True)

    alice.click(f".bsk-attachments a:has-text('{HOSTILE}.txt')")
    alice.wait_for_selector(".bsk-attachment-text")
    assert alice.inner_text(".bsk-attachment-text") == HOSTILE * 3
    _assert_inert(alice)
    with alice.expect_download() as info:
        alice.click(".bsk-main a.bsk-btn[data-download]")
    download = info.value
    # What follows the name's last slash, markup and quotes replaced.
    assert download.suggested_filename == "script__img src=x onerror=_window.__pwned=1__.txt"
    assert Path(download.path()).read_bytes() == HOSTILE.encode() * 3
    _assert_inert(alice)

    alice.goto(f"{site['base']}{event_path}?tab=attachments")
    alice.click(".bsk-attachments a:has-text('screen.png')")
    image = alice.wait_for_selector(".bsk-attachment-image img")
    assert alice.evaluate("(img) => img.complete && img.naturalWidth", image) == 1
    alice.screenshot(path=artifacts_dir / "attachment-png.png", full_page=True)

    alice.goto(f"{site['base']}{event_path}?tab=attachments")
    alice.click(".bsk-attachments a:has-text('logo.svg')")
    alice.wait_for_selector(".bsk-attachment-text")
    assert alice.locator(".bsk-main svg, .bsk-main img").count() == 0  # the SVG as text only
    _assert_inert(alice)


def test_the_monitors_page_shows_a_hostile_slug_as_text(alice, site, sent, artifacts_dir):
    alice.goto(f"{site['base']}/projects/{site['project_id']}/monitors/")
    row = alice.locator(".bsk-monitors tbody tr", has_text="onerror")
    assert row.count() == 1
    assert row.locator("td.mono").first.inner_text() == HOSTILE_SLUG
    assert "0 3 * * * (UTC)" in row.inner_text() and "OK" in row.inner_text()
    assert alice.locator(".bsk-main img").count() == 0
    _assert_inert(alice)
    alice.screenshot(path=artifacts_dir / "monitors-hostile.png", full_page=True)


def test_another_team_gets_404_on_the_pages_and_the_download(alice, chromium, site, sent):
    event_path = _event_url(alice, site, sent, "python")
    alice.goto(f"{site['base']}{event_path}?tab=attachments")
    download = alice.locator(".bsk-attachments a[data-download]").first.get_attribute("href")
    png = alice.locator(".bsk-attachments td.mono a:has-text('screen.png')").get_attribute("href")
    issue_path = event_path.split("events/")[0]
    paths = [
        download,
        png,
        png + "image/",
        f"{event_path}?tab=attachments",
        f"{issue_path}?tab=feedback",
        f"/projects/{site['project_id']}/feedback/",
        f"/projects/{site['project_id']}/monitors/",
    ]
    for path in paths:  # alice, of the Shop team, gets each of them
        assert alice.request.get(site["base"] + path).status == 200, path
    context, page = new_page(chromium)
    try:
        log_in(page, site, "mallory")
        for path in paths:
            response = page.request.get(site["base"] + path)
            assert response.status == 404, path
            assert HOSTILE not in response.text() and "screen.png" not in response.text()
    finally:
        context.close()
