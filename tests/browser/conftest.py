"""The UI server and the logged-in page most browser tests share (tests/browser/ui_server.py)."""

import pytest

from tests.browser.ui_server import SETUP, log_in, new_page, ui_site


@pytest.fixture(scope="module")
def server():
    with ui_site("tests.browser.server_settings", SETUP) as site:
        yield site


@pytest.fixture
def page(chromium, server):
    """alice, logged in; dialogs (confirm) are recorded and dismissed."""
    context, page = new_page(chromium)
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    log_in(page, server)
    yield page
    context.close()
