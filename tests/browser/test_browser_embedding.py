"""The UI embedded in a host site (tests/host_site: an e-mail user model, the host's login,
logout and layout, the UI and SDK endpoints under errors/), in Chromium under Gunicorn."""

import pytest

from tests.browser.ui_server import new_page, send, ui_site

pytestmark = pytest.mark.browser

HOST_SETUP = """
from django.contrib.auth import get_user_model
from bugsink_ingest.models import Project, ProjectKey
from bugsink_issues.models import ProjectTeam, Team, TeamMembership
User = get_user_model()
ana = User.objects.create_user("ana@example.com", password="correct horse")
User.objects.create_user("bo@example.com", password="correct horse")
team = Team.objects.create(name="Web")
TeamMembership.objects.create(team=team, user=ana, role="admin")
project = Project.objects.create(name="Web shop")
ProjectTeam.objects.create(project=project, team=team)
ProjectKey.objects.create(project=project, public_key="ab" * 16)
print(project.pk)
"""


@pytest.fixture(scope="module")
def host():
    with ui_site("tests.host_site.settings", HOST_SETUP, prefix="/errors") as site:
        yield site


def test_the_ui_uses_the_hosts_login_layout_users_and_logout(chromium, host, artifacts_dir):
    send(host, "plain")  # through the DSN with the errors/ prefix
    context, page = new_page(chromium)
    base = host["base"]
    page.goto(base + "/errors/")
    page.wait_for_selector("#host-login")  # the host's own page, no second one
    assert page.url == base + "/accounts/login/?next=/errors/"
    assert page.inner_text("label[for=id_username]").startswith("Email address")
    page.screenshot(path=artifacts_dir / "host-login.png", full_page=True)
    page.fill("input[name=username]", "ana@example.com")
    page.fill("input[name=password]", "correct horse")
    page.click("#host-login button[type=submit]")
    page.wait_for_url(base + "/errors/")
    assert page.inner_text("#host-user") == "ana@example.com"  # the host's layout around the UI
    assert page.evaluate("getComputedStyle(document.querySelector('.bsk')).fontSize") == "13px"
    page.click("text=Web shop")
    page.wait_for_selector("a.bsk-title:has-text('cart checkout failed')")
    page.screenshot(path=artifacts_dir / "host-issues.png", full_page=True)
    # User fields by the host's USERNAME_FIELD.
    page.click(".bsk-top nav >> text=Teams")
    page.click("a[data-open]:has-text('Web')")
    assert page.inner_text(".bsk-table th >> nth=0") == "Email address"
    field = page.locator("input[name=user]")
    assert field.get_attribute("type") == "email"
    assert field.get_attribute("placeholder") == "Email address"
    field.fill("bo@example.com")
    page.click("form[action$='/members/'] button")
    page.wait_for_selector(".bsk-messages:has-text('Member added.')")
    assert "bo@example.com" in page.inner_text(".bsk-table")
    page.screenshot(path=artifacts_dir / "host-team.png", full_page=True)
    # The UI's own login page only sends people on to the host's.
    page.goto(base + "/errors/login/")
    assert page.url.startswith(base + "/accounts/login/")
    # The header's Log out is the host's.
    page.goto(base + "/errors/")
    assert page.get_attribute(".bsk-top form", "action") == "/accounts/logout/"
    page.click(".bsk-top button:has-text('Log out')")
    page.wait_for_selector("#host-home:has-text('Logged out.')")
    page.goto(base + "/errors/")
    page.wait_for_selector("#host-login")
    context.close()
