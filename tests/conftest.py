import pytest


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module; each test opens its own context.

    Not per session: Playwright's sync API keeps an event loop running in the main thread while it
    is open, and Django then refuses database work in every later test (SynchronousOnlyOperation).
    """
    from playwright.sync_api import sync_playwright

    from tests.support.chromium import launch_chromium

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def artifacts_dir(request):
    """Where a test leaves screenshots and logs for a human to look at (test-artifacts/<test>)."""
    from harness.processes import ROOT

    path = ROOT / "test-artifacts" / request.node.name.replace("/", "_")
    path.mkdir(parents=True, exist_ok=True)
    return path
