"""The UI in headless Chromium against a real Gunicorn server fed by the real sentry-sdk (the
server and the logged-in page are tests/browser/conftest.py's)."""

import pytest

from tests.browser.ui_server import send

pytestmark = pytest.mark.browser


def test_login_open_project_open_issue_resolve(page, server, artifacts_dir):
    send(server, "plain")
    page.reload()  # the page was loaded at login, before the event
    assert page.inner_text("td.num").strip() == "1"  # one open issue
    page.screenshot(path=artifacts_dir / "1-projects.png", full_page=True)
    page.click("text=Shop")
    page.wait_for_selector("text=cart checkout failed")
    page.screenshot(path=artifacts_dir / "2-issues.png", full_page=True)
    page.click("text=cart checkout failed")
    page.wait_for_selector("h1:has-text('ValueError')")
    assert page.locator(".bsk-frame.in-app").count() >= 1
    assert "checkout" in page.inner_text(".bsk-frames")
    page.screenshot(path=artifacts_dir / "3-issue.png", full_page=True)
    for tab in ("Event details", "Breadcrumbs", "Tags", "History", "Grouping"):
        page.click(f".bsk-tabs-main >> text={tab}")
        page.wait_for_selector(f".bsk-tabs-main a.active:has-text('{tab}')")
    page.screenshot(path=artifacts_dir / "4-grouping.png", full_page=True)
    page.click("button[value=resolve]")
    page.wait_for_selector(".bsk-status-resolved")
    assert "resolved" in page.inner_text(".bsk-status-resolved")
    page.screenshot(path=artifacts_dir / "5-resolved.png", full_page=True)
    # The open list no longer shows it; the resolved one does.
    page.goto(f"{server['base']}/projects/{server['project_id']}/")
    assert "cart checkout failed" not in page.inner_text(".bsk-issues")
    page.goto(f"{server['base']}/projects/{server['project_id']}/?status=resolved")
    assert "cart checkout failed" in page.inner_text(".bsk-issues")


def test_keyboard_and_dark_theme(page, server, artifacts_dir):
    send(server, "plain")
    page.goto(f"{server['base']}/projects/{server['project_id']}/?status=all")
    page.keyboard.press("j")
    assert page.locator("tr.bsk-cursor").count() == 1
    page.keyboard.press("o")
    page.wait_for_selector(".bsk-issue-head")
    page.goto(f"{server['base']}/preferences/")
    page.select_option("select[name=theme]", "dark")
    page.click(".bsk-main button[type=submit]")
    page.wait_for_selector(".bsk[data-theme=dark]")
    page.goto(f"{server['base']}/projects/{server['project_id']}/?status=all")
    bg = page.evaluate("getComputedStyle(document.querySelector('.bsk')).backgroundColor")
    assert bg == "rgb(22, 24, 27)"
    page.screenshot(path=artifacts_dir / "dark-issues.png", full_page=True)
    page.click(".bsk-issues a.bsk-title >> nth=0")
    page.wait_for_selector(".bsk-issue-head")
    page.screenshot(path=artifacts_dir / "dark-issue.png", full_page=True)


def test_hostile_payloads_render_as_text(page, server, artifacts_dir):
    send(server, "hostile")
    page.goto(f"{server['base']}/projects/{server['project_id']}/?status=all")
    page.screenshot(path=artifacts_dir / "hostile-list.png", full_page=True)
    links = page.locator(".bsk-issues a.bsk-title")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    titles = page.locator(".bsk-issues a.bsk-title").all_inner_texts()
    hostile = [h for h, t in zip(hrefs, titles, strict=True) if "<script>" in t]
    assert len(hostile) == 2, hrefs  # the message and the exception, titles shown as text
    (exception_href,) = [
        h for h, t in zip(hrefs, titles, strict=True) if t.startswith("RuntimeError")
    ]
    for n, href in enumerate(hostile):
        for tab in ("stacktrace", "details", "breadcrumbs", "tags", "events"):
            page.goto(f"{server['base']}{href}?tab={tab}&frames=all")
            body = page.inner_text(".bsk-main")
            assert "<script>" in body, (href, tab)  # shown as text
            page.screenshot(path=artifacts_dir / f"hostile-{n}-{tab}.png", full_page=True)
    details = page.goto(f"{server['base']}{exception_href}?tab=details")
    assert details.ok
    text = page.inner_text(".bsk-main")
    assert "X-Evil" in text and "onerror" in text
    page.goto(f"{server['base']}{exception_href}?tab=stacktrace")
    assert "evil_local" in page.inner_text(".bsk-frames")
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    assert page.locator(".bsk-main script").count() == 0
    assert page.locator(".bsk-main img").count() == 0
