"""Every UI page at 400 px wide scrolls down only, never sideways; the UI's own 404 and 403 pages
keep its navigation, while the host's 404 answers outside its URLs."""

import pytest

from tests.browser.ui_server import log_in, new_page, send

pytestmark = pytest.mark.browser

TABS = ("stacktrace", "details", "breadcrumbs", "tags", "events", "history", "grouping")


def _width(page):
    return page.evaluate("document.scrollingElement.scrollWidth")


def _issue_links(page, server):
    page.goto(f"{server['base']}/projects/{server['project_id']}/?status=all")
    links = page.locator(".bsk-issues a.bsk-title")
    return [links.nth(i).get_attribute("href") for i in range(links.count())]


def test_no_page_scrolls_sideways_at_400_px(chromium, server, artifacts_dir):
    for mode in ("plain", "hostile", "chains", "releases"):  # long values, tables, traces
        send(server, mode)
    context, page = new_page(chromium, width=400, height=800)
    page.goto(server["base"] + "/")  # the login page, logged out
    assert "/login/" in page.url and _width(page) <= 400
    log_in(page, server)
    base, project = server["base"], server["project_id"]
    urls = [
        "/",
        "/projects/new/",
        f"/projects/{project}/",
        f"/projects/{project}/?status=all&q=is:regressed",
        f"/projects/{project}/setup/",
        f"/projects/{project}/settings/",
        "/issues/?status=all",
        f"/issues/bulk/matching/?project={project}&status=all&action=resolve",
        "/teams/",
        f"/projects/{project}/releases/",
        f"/projects/{project}/monitors/",
        "/preferences/",
        "/preferences/tokens/",
        "/preferences/notifications/",
        "/issues/987654/",  # the UI's 404
    ]
    page.goto(base + "/teams/")
    urls.append(page.get_attribute(".bsk-table a[data-open]", "href"))
    page.goto(f"{base}/projects/{project}/releases/")  # each release's own page, long names too
    releases = page.locator(".bsk-releases td.mono a")
    assert releases.count() >= 1
    urls += [releases.nth(i).get_attribute("href") for i in range(releases.count())]
    for href in _issue_links(page, server):
        urls += [f"{href}?tab={tab}&frames=all" for tab in TABS]
    checked = 0
    for url in urls:
        page.goto(base + url)
        width = _width(page)
        if width > 400:
            page.screenshot(path=artifacts_dir / f"too-wide-{checked}.png", full_page=True)
        assert width <= 400, (url, width)
        checked += 1
    assert checked >= 40
    page.goto(f"{base}{_issue_links(page, server)[0]}")
    page.screenshot(path=artifacts_dir / "issue-400.png", full_page=True)
    page.goto(f"{base}/projects/{project}/?status=all")
    page.screenshot(path=artifacts_dir / "list-400.png", full_page=True)
    context.close()
    # A member (not an admin) gets the UI's 403 page; it fits too.
    context, page = new_page(chromium, width=400, height=800)
    log_in(page, server, "carol")
    page.goto(f"{base}/projects/{project}/settings/")
    assert page.locator(".bsk-error[data-status='403']").count() == 1 and _width(page) <= 400
    context.close()


def test_the_uis_404_and_403_pages_have_its_navigation(chromium, server, artifacts_dir):
    context, page = new_page(chromium)
    log_in(page, server, "carol")
    base = server["base"]
    response = page.goto(f"{base}/issues/987654/")
    assert response.status == 404
    assert page.inner_text(".bsk-error h1") == "Not found"
    assert page.locator(".bsk-top nav a").all_inner_texts() == ["Projects", "All issues", "Teams"]
    page.screenshot(path=artifacts_dir / "404.png", full_page=True)
    page.click(".bsk-top nav >> text=Projects")
    page.wait_for_selector("h1:has-text('Projects')")
    response = page.goto(f"{base}/projects/{server['project_id']}/settings/")
    assert response.status == 403
    assert page.inner_text(".bsk-error h1") == "Not allowed"
    assert "Only admins of the project's team may change it." in page.inner_text(".bsk-error")
    assert page.locator(".bsk-top nav a").count() == 3
    page.screenshot(path=artifacts_dir / "403.png", full_page=True)
    # Not one of the UI's URLs: the site's own 404 (Django's default page here).
    response = page.goto(f"{base}/no/such/page/")
    assert response.status == 404 and page.locator(".bsk").count() == 0
    context.close()
