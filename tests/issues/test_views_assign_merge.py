"""The UI's part of assignment and merging: the assign control on the issue page, the assignee
badge and the "Assigned to me" filter of the issue list, merging from the list's selection."""

import pytest
from django.urls import reverse

from bugsink_issues import lifecycle
from bugsink_issues.models import Issue
from tests.factories import make_project, make_team, make_user, python_exception, spooled


@pytest.fixture
def ui_world(db, digest):
    alice, carol, bob = make_user("alice"), make_user("carol"), make_user("bob")
    team = make_team("Web team", admins=[alice], members=[carol])
    make_team("Other team", admins=[bob])
    project = make_project("Shop", team=team)
    digest(
        [
            spooled(project, python_exception("ValueError", "a")),
            spooled(project, python_exception("ValueError", "a")),
            spooled(project, python_exception("KeyError", "b", frames=(("m", "f"),))),
            spooled(project, python_exception("TypeError", "c", frames=(("n", "g"),))),
        ]
    )
    issues = {i.title.split(":")[0]: i for i in Issue.objects.all()}
    return {"alice": alice, "carol": carol, "bob": bob, "team": team, "project": project, **issues}


def test_assign_from_the_issue_page(client, ui_world):
    world = ui_world
    issue = world["KeyError"]
    client.force_login(world["alice"])
    page = client.get(reverse("bugsink_issues:issue", args=[issue.pk])).content.decode()
    assert 'name="assignee"' in page and f'value="user:{world["carol"].pk}"' in page
    assert f'value="team:{world["team"].pk}"' in page
    assert f'value="user:{world["bob"].pk}"' not in page  # not in the project's team
    assert issue.short_id in page
    url = reverse("bugsink_issues:issue_assign", args=[issue.pk])
    response = client.post(url, {"assignee": f"user:{world['carol'].pk}"})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.assigned_user == world["carol"]
    page = client.get(reverse("bugsink_issues:issue", args=[issue.pk]) + "?tab=history")
    assert "assigned to carol" in page.content.decode()
    # Someone outside the choices: refused, nothing changes.
    client.post(url, {"assignee": f"user:{world['bob'].pk}"})
    issue.refresh_from_db()
    assert issue.assigned_user == world["carol"]
    client.post(url, {"assignee": f"team:{world['team'].pk}"})
    issue.refresh_from_db()
    assert issue.assigned_team == world["team"] and issue.assigned_user is None
    client.post(url, {"assignee": ""})
    issue.refresh_from_db()
    assert issue.assignee is None
    # Another team's member cannot reach the control.
    client.force_login(world["bob"])
    assert client.post(url, {"assignee": ""}).status_code == 404


def test_assigned_to_me_filter_and_badge(client, ui_world):
    world = ui_world
    lifecycle.assign(world["ValueError"], world["carol"])
    lifecycle.assign(world["KeyError"], world["team"])
    client.force_login(world["carol"])
    base = reverse("bugsink_issues:project_issues", args=[world["project"].pk])
    everything = client.get(base).content.decode()
    assert "→ carol" in everything and "→ Web team" in everything
    assert "data-assigned-to-me" in everything
    mine = client.get(base + "?assigned=me").content.decode()
    assert "ValueError" in mine and "KeyError" in mine and "TypeError" not in mine
    # alice: only what her team has (not carol's own).
    client.force_login(world["alice"])
    theirs = client.get(reverse("bugsink_issues:all_issues") + "?assigned=me").content.decode()
    assert "KeyError" in theirs and "ValueError: a" not in theirs


def test_acting_on_all_matching_keeps_the_assigned_to_me_filter(client, ui_world):
    world = ui_world
    lifecycle.assign(world["ValueError"], world["carol"])
    client.force_login(world["carol"])
    base = reverse("bugsink_issues:project_issues", args=[world["project"].pk])
    page = client.get(base + "?assigned=me").content.decode()
    assert 'name="assigned" value="me"' in page.split('class="bsk-inline-form bsk-allform"')[1]
    url = reverse("bugsink_issues:bulk_matching")
    asked = {"project": world["project"].pk, "status": "open", "assigned": "me"}
    confirm = client.get(url, {**asked, "action": "resolve"}).content.decode()
    assert "Resolve 1 issue?" in confirm and "to you or your teams" in confirm
    response = client.post(url, {**asked, "action": "resolve", "count": "1"})
    assert response.status_code == 302 and "assigned=me" in response["Location"]
    statuses = {i.title.split(":")[0]: i.status for i in Issue.objects.all()}
    assert statuses == {
        "ValueError": "resolved",
        "KeyError": "unresolved",
        "TypeError": "unresolved",
    }


def test_merge_from_the_list(client, ui_world):
    world = ui_world
    client.force_login(world["carol"])
    target, source = world["ValueError"], world["KeyError"]
    response = client.post(
        reverse("bugsink_issues:bulk_action"),
        {"action": "merge", "issue": [source.pk, target.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("bugsink_issues:issue", args=[target.pk])
    target.refresh_from_db()
    assert target.event_count == 3
    assert Issue.including_merged.get(pk=source.pk).merged_into_id == target.pk
    listing = client.get(reverse("bugsink_issues:project_issues", args=[world["project"].pk]))
    assert f'value="{source.pk}"' not in listing.content.decode()
    # The merged issue's old page leads to the issue it became.
    old = client.get(reverse("bugsink_issues:issue", args=[source.pk]))
    assert old.status_code == 302 and old["Location"].endswith(f"/issues/{target.pk}/")
    history = client.get(reverse("bugsink_issues:issue", args=[target.pk]) + "?tab=history")
    assert f"merged {source.short_id} into this issue" in history.content.decode()
    # One issue is not a merge.
    response = client.post(
        reverse("bugsink_issues:bulk_action"),
        {"action": "merge", "issue": [target.pk]},
        follow=True,
    )
    assert "at least two" in response.content.decode()
    # Another team sees neither the target nor the merged issue.
    client.force_login(world["bob"])
    assert client.get(reverse("bugsink_issues:issue", args=[source.pk])).status_code == 404
