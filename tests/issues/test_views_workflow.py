"""The issue list's headers, total and pages; bulk actions on every issue a search matches; teams
(giving and moving projects, the Demo project's team, the last admin); DSN keys; the UI's own 404
and 403 pages."""

import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from bugsink_ingest.models import Project, ProjectKey
from bugsink_issues.models import Issue, IssueHistory, ProjectTeam
from bugsink_issues.models.access import TeamMembership
from harness.processes import ROOT
from tests.factories import make_project, make_team, make_user, python_exception, spooled

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db, digest):
    alice = make_user("alice")  # admin of Shop team and of Ops
    carol = make_user("carol")  # member of Shop team
    bob = make_user("bob")  # admin of Ops only
    root = make_user("root", superuser=True)
    shop_team = make_team("Shop team", admins=[alice], members=[carol])
    ops = make_team("Ops", admins=[alice, bob])
    project = make_project("Shop", team=shop_team)
    digest(
        [spooled(project, python_exception(f"Checkout{n}Error", "cart")) for n in range(5)]
        + [spooled(project, python_exception("SearchError", "index down"))]
    )
    return {
        "alice": alice,
        "carol": carol,
        "bob": bob,
        "root": root,
        "team": shop_team,
        "ops": ops,
        "project": project,
    }


def test_the_issue_list_has_headers_a_total_and_pages_both_ways(client, shop, monkeypatch):
    from bugsink_issues.ui import search as issue_search

    monkeypatch.setattr(issue_search, "PAGE_SIZE", 2)
    client.force_login(shop["alice"])
    url = reverse("bugsink_issues:project_issues", args=[shop["project"].pk])
    response = client.get(url, {"q": "cart"})
    body = response.content.decode()
    for header in ("<th>Issue</th>", ">Events</a>", ">Last seen</a>", "Last 14 days"):
        assert header in body, header
    assert '<span class="bsk-total" data-total="5">5 issues</span>' in body
    assert response.context["previous_cursor"] == ""  # the first page
    pages, params = [], {"q": "cart"}
    while True:
        response = client.get(url, params)
        pages.append([issue.pk for issue, _spark in response.context["rows"]])
        if not response.context["next_cursor"]:
            break
        assert 'rel="next"' in response.content.decode()
        params = {"q": "cart", "after": response.context["next_cursor"]}
    assert [len(p) for p in pages] == [2, 2, 1]
    assert 'rel="prev"' in response.content.decode()
    back = []
    while response.context["previous_cursor"]:
        response = client.get(url, {"q": "cart", "before": response.context["previous_cursor"]})
        back.append([issue.pk for issue, _spark in response.context["rows"]])
    assert back == pages[-2::-1]  # the same pages, in the same order within each


def test_a_bulk_action_on_every_issue_the_search_matches_asks_with_the_count(
    client, shop, monkeypatch
):
    from bugsink_issues.ui import search as issue_search

    monkeypatch.setattr(issue_search, "PAGE_SIZE", 2)  # the matches span three pages
    client.force_login(shop["carol"])
    project = shop["project"]
    list_page = client.get(
        reverse("bugsink_issues:project_issues", args=[project.pk]), {"q": "cart"}
    )
    assert "Apply to all 5 matching" in list_page.content.decode()
    url = reverse("bugsink_issues:bulk_matching")
    params = {"project": project.pk, "status": "open", "q": "cart", "action": "resolve"}
    confirm = client.get(url, params)
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "Resolve 5 issues?" in body and 'name="count" value="5"' in body
    assert not Issue.objects.filter(status="resolved").exists()  # asking changes nothing
    # A stale count (an issue arrived since) asks again, naming both counts.
    again = client.post(url, {**params, "count": "4"})
    assert "matched 4 issues when you asked; it matches 5 now" in again.content.decode()
    assert not Issue.objects.filter(status="resolved").exists()
    done = client.post(url, {**params, "count": "5"}, follow=True)
    assert "Resolve: 5 issue(s)." in done.content.decode()
    resolved = Issue.objects.filter(status="resolved")
    assert sorted(resolved.values_list("title", flat=True)) == [
        f"Checkout{n}Error: cart" for n in range(5)
    ]
    assert Issue.objects.get(title__startswith="SearchError").status == "unresolved"
    assert IssueHistory.objects.filter(kind="resolved", user=shop["carol"]).count() == 5


def test_bulk_on_matching_issues_is_all_or_nothing(client, shop):
    from django.db import DatabaseError, connection

    if connection.vendor != "sqlite":
        pytest.skip("the failure is injected with an SQLite trigger")
    last = Issue.objects.filter(title__startswith="Checkout").order_by("pk").last()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TRIGGER refuse_last BEFORE UPDATE ON {Issue._meta.db_table} "
            f"WHEN NEW.id = {last.pk} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    client.force_login(shop["carol"])
    params = {"project": shop["project"].pk, "q": "cart", "action": "mute", "count": "5"}
    try:
        with pytest.raises(DatabaseError, match="refused by the test"):
            client.post(reverse("bugsink_issues:bulk_matching"), params)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse_last")
    assert not Issue.objects.filter(status="muted").exists()


def test_bulk_on_matching_issues_refuses_bad_searches_and_foreign_projects(client, shop, digest):
    client.force_login(shop["bob"])  # not in the Shop team
    url = reverse("bugsink_issues:bulk_matching")
    params = {"project": shop["project"].pk, "q": "", "action": "delete", "count": "6"}
    assert client.get(url, params).status_code == 404
    assert client.post(url, params).status_code == 404
    # Without a project: bob's visible issues only (none).
    page = client.get(url, {"action": "delete"}).content.decode()
    assert "Delete 0 issues?" in page and "No issue matches any more" in page
    client.force_login(shop["carol"])
    response = client.post(
        url, {"project": shop["project"].pk, "q": "is:regressed", "action": "resolve"}, follow=True
    )
    assert "Unknown search term is:regressed" in response.content.decode()
    assert Issue.objects.count() == 6 and not Issue.objects.filter(status="resolved").exists()


def test_projects_are_given_to_teams_and_moved_between_them(client, shop):
    out = StringIO()
    call_command("bugsink_create_project", "From the CLI", stdout=out)
    made = Project.objects.get(name="From the CLI")
    assert not ProjectTeam.objects.filter(project=made).exists()  # superusers only, so far
    settings_url = reverse("bugsink_issues:project_settings", args=[made.pk])
    team_url = reverse("bugsink_issues:project_team", args=[made.pk])
    client.force_login(shop["alice"])
    assert client.get(settings_url).status_code == 404  # a team admin cannot see it yet
    client.force_login(shop["root"])
    projects = client.get(reverse("bugsink_issues:projects")).content.decode()
    assert "no team" in projects and "1 project has no team" in projects
    assert "belongs to no team" in client.get(settings_url).content.decode()
    client.post(team_url, {"team": shop["team"].pk})
    assert made.team_link.team == shop["team"]
    client.force_login(shop["carol"])  # a member of the team sees it now
    assert client.get(reverse("bugsink_issues:project_issues", args=[made.pk])).status_code == 200
    assert client.post(team_url, {"team": shop["ops"].pk}).status_code == 403  # members don't move
    client.force_login(shop["alice"])  # admin of both teams: moves it
    page = client.get(settings_url).content.decode()
    assert "Move to" in page and f'<option value="{shop["ops"].pk}"' in page
    client.post(team_url, {"team": shop["ops"].pk})
    made.team_link.refresh_from_db()
    assert made.team_link.team == shop["ops"]
    client.force_login(shop["carol"])
    assert client.get(reverse("bugsink_issues:project_issues", args=[made.pk])).status_code == 404
    client.force_login(shop["bob"])  # admin of Ops only: may not give it to the Shop team
    body = client.post(team_url, {"team": shop["team"].pk}, follow=True).content.decode()
    assert "Choose one of the teams you are an admin of." in body
    made.team_link.refresh_from_db()
    assert made.team_link.team == shop["ops"]


def test_the_demo_project_that_serve_creates_belongs_to_its_admins_team(db, client):
    sys.path.insert(0, str(ROOT / "example_project"))
    try:
        from bugsink_site import bootstrap
    finally:
        sys.path.remove(str(ROOT / "example_project"))
    account = bootstrap.ensure_admin("owner@example.com:pw")
    assert bootstrap.ensure_demo_project()
    demo = Project.objects.get(slug=bootstrap.DEMO_PROJECT_SLUG)
    team = demo.team_link.team
    admin = TeamMembership.objects.get(team=team)
    assert admin.user.get_username() == account.email and admin.is_admin
    member = make_user("member")
    TeamMembership.objects.set_role(team, member, "member")
    client.force_login(member)
    assert "Demo" in client.get(reverse("bugsink_issues:projects")).content.decode()
    bootstrap.ensure_demo_project()  # a second start changes nothing
    assert ProjectTeam.objects.count() == 1


def test_a_team_keeps_at_least_one_admin(client, shop):
    client.force_login(shop["alice"])
    team = shop["team"]
    own = TeamMembership.objects.get(team=team, user=shop["alice"])
    change = reverse("bugsink_issues:member_change", args=[team.pk, own.pk])
    refused = "A team keeps at least one admin: make another member admin first."
    for data in ({"action": "member"}, {"action": "remove"}):
        assert refused in client.post(change, data, follow=True).content.decode()
    # Adding the last admin again as a plain member must not demote them either.
    add = reverse("bugsink_issues:member_add", args=[team.pk])
    body = client.post(add, {"user": "alice", "role": "member"}, follow=True).content.decode()
    assert refused in body
    own.refresh_from_db()
    assert own.role == "admin"
    client.post(add, {"user": "carol", "role": "admin"})
    client.post(change, {"action": "member"})
    own.refresh_from_db()
    assert own.role == "member"  # with another admin, alice may step down


@override_settings(BUGSINK_INGEST_KEY_CACHE_SECONDS=0)
def test_deactivating_a_key_asks_first_and_the_key_can_come_back(client, shop):
    project = shop["project"]
    key = ProjectKey.objects.create(project=project, label="ci")
    client.force_login(shop["alice"])
    setup = reverse("bugsink_issues:project_setup", args=[project.pk])
    body = client.get(setup).content.decode()
    assert 'data-confirm="Deactivate the key ci? SDKs that send with it are refused' in body

    def ingest():
        envelope = b'{}\n{"type":"event"}\n{"message":"hello"}\n'
        return client.post(
            f"/api/{project.pk}/envelope/?sentry_key={key.public_key}",
            envelope,
            content_type="application/x-sentry-envelope",
        ).status_code

    assert ingest() == 200
    client.post(reverse("bugsink_issues:project_key_deactivate", args=[project.pk, key.pk]))
    key.refresh_from_db()
    assert not key.is_active and ingest() == 403
    body = client.get(setup).content.decode()
    assert key.public_key in body and "deactivated" in body  # still listed
    assert reverse("bugsink_issues:project_key_reactivate", args=[project.pk, key.pk]) in body
    client.post(reverse("bugsink_issues:project_key_reactivate", args=[project.pk, key.pk]))
    key.refresh_from_db()
    assert key.is_active and ingest() == 200
    client.force_login(shop["carol"])  # members see keys, do not change them
    url = reverse("bugsink_issues:project_key_reactivate", args=[project.pk, key.pk])
    assert client.post(url).status_code == 403


def test_the_ui_answers_404_and_403_with_its_own_pages(client, shop):
    client.force_login(shop["carol"])
    missing = client.get(reverse("bugsink_issues:issue", args=[987654]))
    assert missing.status_code == 404
    body = missing.content.decode()
    assert 'class="bsk-top"' in body and "Not found" in body and "No such issue." in body
    denied = client.get(reverse("bugsink_issues:project_settings", args=[shop["project"].pk]))
    assert denied.status_code == 403
    body = denied.content.decode()
    assert 'class="bsk-top"' in body and "Not allowed" in body
    assert "Only admins of the project" in body
    # Outside the UI's own URLs the host's handler answers (here Django's default).
    other = client.get("/no/such/page/")
    assert other.status_code == 404 and "bsk-top" not in other.content.decode()
