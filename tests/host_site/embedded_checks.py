"""Run only by tests/issues/test_views_embedding.py, in a subprocess with
DJANGO_SETTINGS_MODULE=tests.host_site.settings (its name keeps the main run from collecting it):
the UI inside a host site whose users log in with their e-mail address."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from bugsink_ingest.models import Project, ProjectKey
from bugsink_issues.models import Issue, ProjectTeam, Team, TeamMembership

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(db):
    User = get_user_model()
    ana = User.objects.create_user("ana@example.com", password="pw")
    team = Team.objects.create(name="Web")
    TeamMembership.objects.create(team=team, user=ana, role="admin")
    project = Project.objects.create(name="Web shop")
    ProjectTeam.objects.create(project=project, team=team)
    return ana, team, project


def test_the_host_user_model_logs_in_by_email():
    User = get_user_model()
    assert User.USERNAME_FIELD == "email" and not hasattr(User, "username")


def test_logins_go_to_the_hosts_login_page(client):
    response = client.get("/errors/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/errors/"
    # The UI's own login page is not a second one: it sends people to the host's.
    own = client.get("/errors/login/?next=/errors/issues/")
    assert own.status_code == 302
    assert own["Location"] == "/accounts/login/?next=/errors/issues/"
    # The UI's own logout does not exist beside the host's.
    assert client.post("/errors/logout/").status_code == 404


def test_the_ui_lives_in_the_hosts_layout_and_logs_out_through_the_host(client, ana):
    user, _team, _project = ana
    client.force_login(user)
    body = client.get("/errors/").content.decode()
    assert '<header id="host-header">' in body and '<div class="bsk"' in body
    assert "/static/bugsink_issues/ui.css" in body  # added in the host's extra_head block
    assert 'action="/accounts/logout/"' in body  # the host's logout, found by its name
    assert "/errors/logout/" not in body
    assert "ana@example.com" in body  # the header names the user by the host's login field
    with override_settings(BUGSINK_ISSUES_UI_LOGOUT_URL=""):
        body = client.get("/errors/").content.decode()
        assert "Log out" not in body  # the host's own header has it
    # The host's logout logs out of the UI too.
    client.post("/accounts/logout/")
    assert client.get("/errors/").status_code == 302


def test_user_fields_are_labelled_by_the_hosts_username_field(client, ana):
    user, team, _project = ana
    User = get_user_model()
    bo = User.objects.create_user("bo@example.com", password="pw")
    client.force_login(user)
    page = client.get(f"/errors/teams/{team.pk}/").content.decode()
    assert "<th>Email address</th>" in page
    assert 'type="email" name="user"' in page and 'placeholder="Email address"' in page
    assert "username" not in page.lower()
    client.post(f"/errors/teams/{team.pk}/members/", {"user": "bo@example.com", "role": "member"})
    assert TeamMembership.objects.filter(team=team, user=bo).exists()
    body = client.post(
        f"/errors/teams/{team.pk}/members/",
        {"user": "nobody@example.com", "role": "member"},
        follow=True,
    ).content.decode()
    assert "No user with that email address." in body


def test_the_documented_mount_takes_sdk_events_and_shows_them(ana):
    user, _team, project = ana
    key = ProjectKey.objects.create(project=project)
    # The DSN carries the prefix: http://<key>@testserver/errors/<project id>.
    envelope = b'{}\n{"type":"event"}\n' + json.dumps({"message": "from the host site"}).encode()
    response = Client().post(
        f"/errors/api/{project.pk}/envelope/?sentry_key={key.public_key}",
        envelope,
        content_type="application/x-sentry-envelope",
    )
    assert response.status_code == 200, response.content
    assert Issue.objects.get(project=project).title == "from the host site"
    client = Client()
    client.force_login(user)
    page = client.get(f"/errors/projects/{project.pk}/").content.decode()
    assert "from the host site" in page
    setup = client.get(f"/errors/projects/{project.pk}/setup/").content.decode()
    assert f"http://{key.public_key}@testserver/errors/{project.pk}" in setup
    assert Client().get("/health/live").status_code == 200
