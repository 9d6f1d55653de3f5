import pytest


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole run; each test opens its own context."""
    from playwright.sync_api import sync_playwright

    from tests.support.chromium import launch_chromium

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def artifacts_dir(request):
    """Where a test leaves screenshots and logs for a human to look at (test-artifacts/<test>)."""
    from tests.support.processes import ROOT

    path = ROOT / "test-artifacts" / request.node.name.replace("/", "_")
    path.mkdir(parents=True, exist_ok=True)
    return path
