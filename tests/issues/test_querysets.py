"""The model layer: who sees what (visible_to), event navigation, and the one way a project's
settings row is made (ProjectSettings.objects.for_project)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings
from django.urls import reverse

from bugsink_issues.models import Event, Issue, ProjectSettings, Team
from bugsink_issues.models.access import visible_projects
from bugsink_issues.ui import access
from tests.factories import make_project, make_team, make_user, python_exception, spooled

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams(digest):
    alice, carol, dave = make_user("alice"), make_user("carol"), make_user("dave")
    root = make_user("root", superuser=True)
    team_a = make_team("A", admins=[alice], members=[carol])
    team_b = make_team("B", admins=[carol])
    alpha = make_project("Alpha", team=team_a)
    beta = make_project("Beta", team=team_b)
    orphan = make_project("Orphan")  # no team: superusers only
    digest([spooled(p, python_exception(f"{p.name}Error")) for p in (alpha, beta, orphan)])
    return {
        "alice": alice,  # admin of A
        "carol": carol,  # member of A, admin of B
        "dave": dave,  # in no team
        "root": root,
        "team_a": team_a,
        "team_b": team_b,
        "alpha": alpha,
        "beta": beta,
        "orphan": orphan,
    }


def names(queryset):
    return sorted(obj.name if hasattr(obj, "name") else obj.title for obj in queryset)


def test_visible_projects(teams):
    assert names(visible_projects(teams["alice"])) == ["Alpha"]
    assert names(visible_projects(teams["carol"])) == ["Alpha", "Beta"]
    assert names(visible_projects(teams["dave"])) == []
    assert names(visible_projects(teams["root"])) == ["Alpha", "Beta", "Orphan"]
    assert names(visible_projects(AnonymousUser())) == []


def test_issues_visible_to(teams):
    assert names(Issue.objects.visible_to(teams["alice"])) == ["AlphaError: bad value"]
    assert names(Issue.objects.visible_to(teams["carol"])) == [
        "AlphaError: bad value",
        "BetaError: bad value",
    ]
    assert names(Issue.objects.visible_to(teams["dave"])) == []
    assert Issue.objects.visible_to(teams["root"]).count() == 3
    assert not Issue.objects.visible_to(AnonymousUser()).exists()
    # A queryset method: it narrows any issue queryset, e.g. one project's.
    assert not teams["beta"].issues.visible_to(teams["alice"]).exists()
    assert teams["beta"].issues.visible_to(teams["carol"]).count() == 1


def test_teams_visible_to_and_administered_by(teams):
    assert names(Team.objects.visible_to(teams["carol"])) == ["A", "B"]
    assert names(Team.objects.administered_by(teams["carol"])) == ["B"]
    assert names(Team.objects.administered_by(teams["alice"])) == ["A"]
    assert names(Team.objects.visible_to(teams["dave"])) == []
    assert names(Team.objects.administered_by(teams["root"])) == ["A", "B"]
    assert not Team.objects.visible_to(AnonymousUser()).exists()
    assert not Team.objects.administered_by(AnonymousUser()).exists()


def test_access_predicates_build_on_the_querysets(teams):
    alice, carol, root = teams["alice"], teams["carol"], teams["root"]
    assert access.is_team_admin(alice, teams["team_a"])
    assert not access.is_team_admin(carol, teams["team_a"])  # a member there
    assert access.can_manage_project(carol, teams["beta"])
    assert not access.can_manage_project(carol, teams["alpha"])
    assert access.can_manage_project(root, teams["orphan"])  # no team, still the superuser's
    assert access.can_create_project(alice) and not access.can_create_project(teams["dave"])
    assert access.can_create_team(root) and not access.can_create_team(alice)


def test_event_navigation(project, digest):
    digest([spooled(project, python_exception(), event_id=f"{n:032x}") for n in range(1, 4)])
    events = Issue.objects.get().events
    first, second, third = events.order_by("issue_sequence")
    assert [first.issue_sequence, second.issue_sequence, third.issue_sequence] == [1, 2, 3]
    assert events.first_event() == first and events.last_event() == third
    assert events.previous_event(second) == first and events.next_event(second) == third
    assert events.previous_event(first) is None and events.next_event(third) is None
    # Navigation stays within the queryset it is called on: another issue's events don't count.
    digest([spooled(project, python_exception("OtherError"))])
    assert events.next_event(third) is None
    assert Event.objects.filter(issue=first.issue).last_event() == third


def test_event_by_id_and_search(project, digest):
    event_id = "0123456789abcdef0123456789abcdef"
    digest(
        [
            spooled(project, python_exception(release="2.0"), event_id=event_id),
            spooled(project, python_exception(user={"email": "kim@example.com"})),
        ]
    )
    events = Issue.objects.get().events
    dashed = "01234567-89AB-CDEF-0123-456789ABCDEF"
    assert events.with_event_id(dashed).event_id == event_id
    assert events.with_event_id("f" * 32) is None
    assert [e.event_id for e in events.matching("2.0")] == [event_id]
    assert [e.event_id for e in events.matching("0123456789")] == [event_id]
    assert [e.user_label for e in events.matching("kim@")] == ["kim@example.com"]
    assert not events.matching("nothing like it").exists()


@override_settings(BUGSINK_ISSUES_GROUPING_VERSION=7)
def test_for_project_makes_the_row_once_with_the_configured_defaults(project):
    assert not ProjectSettings.objects.exists()
    row = ProjectSettings.objects.for_project(project.pk)
    assert row.grouping_version == 7
    ProjectSettings.objects.filter(pk=row.pk).update(grouping_version=1, retention_max_events=5)
    again = ProjectSettings.objects.for_project(project.pk, lock=True)
    assert again.pk == row.pk and again.grouping_version == 1 and again.retention_max_events == 5
    assert ProjectSettings.objects.count() == 1


@override_settings(BUGSINK_ISSUES_GROUPING_VERSION=7)
def test_grouping_versions_with_and_without_rows(project):
    other = make_project("Other")
    ProjectSettings.objects.create(project=other, grouping_version=1)
    assert ProjectSettings.objects.grouping_versions([project.pk, other.pk]) == {
        project.pk: 7,  # no row yet: what for_project() will give it
        other.pk: 1,
    }


@override_settings(BUGSINK_ISSUES_GROUPING_VERSION=7)
def test_the_digest_and_the_settings_page_make_the_same_row(client, digest):
    # Both used to make the row themselves, with different grouping versions (the conf's; 1).
    admin = make_user("alice")
    team = make_team("A", admins=[admin])
    by_digest, by_page = make_project("Digested", team=team), make_project("Opened", team=team)
    digest([spooled(by_digest, python_exception())])
    client.force_login(admin)
    url = reverse("bugsink_issues:project_settings", args=[by_page.pk])
    assert client.get(url).status_code == 200
    rows = dict(ProjectSettings.objects.values_list("project_id", "grouping_version"))
    assert rows == {by_digest.pk: 7, by_page.pk: 7}


@override_settings(BUGSINK_ISSUES_GROUPING_VERSION=7)
def test_the_admin_add_form_starts_from_the_same_defaults(client):
    client.force_login(make_user("root", superuser=True))
    response = client.get(reverse("admin:bugsink_issues_projectsettings_add"))
    assert response.status_code == 200
    assert response.context["adminform"].form.initial["grouping_version"] == 7
