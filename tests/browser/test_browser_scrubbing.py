"""Scrubbing as a person sees it: the event page in Chromium shows [Filtered] where the secrets of
a real sentry-sdk error were, and none of them."""

import pytest

from tests.security.leaky_app import make_secrets, send_leaky_error

pytestmark = pytest.mark.browser
FILTERED = "[Filtered]"


def test_the_event_page_shows_filtered_not_the_secrets(page, server, artifacts_dir):
    leaked = make_secrets()
    secret_values = [*leaked.values(), leaked["card_number"].replace(" ", "")]
    send_leaky_error(server["dsn"], leaked)
    page.goto(f"{server['base']}/projects/{server['project_id']}/?status=all")
    page.click("text=checkout failed for user bob")
    page.wait_for_selector("h1:has-text('RuntimeError')")
    issue_url = page.url.split("?")[0]

    page.goto(f"{issue_url}?tab=details")
    details = page.inner_text(".bsk-main")
    page.screenshot(path=artifacts_dir / "scrubbed-details.png", full_page=True)
    for name in ("Authorization", "shop_session", "password", "payment_card"):
        assert name in details, name
    assert details.count(FILTERED) >= 5
    page.goto(f"{issue_url}?tab=stacktrace&frames=all")
    frames = page.inner_text(".bsk-frames")
    page.screenshot(path=artifacts_dir / "scrubbed-stacktrace.png", full_page=True)
    assert "password" in frames and FILTERED in frames
    for text in (details, frames, page.content()):
        for secret in secret_values:
            assert secret not in text, secret
