"""Changing issues through the API: status (Sentry's words and sentry-cli's), statusDetails,
assignment, hasSeen, merging, deleting, comments; one issue or many, all or nothing."""

import pytest

from bugsink_issues import lifecycle
from bugsink_issues.api import issue_updates
from bugsink_issues.models import ApiToken, Event, Issue, IssueHistory, IssueSeen
from bugsink_issues.models.issues import HistoryKind, IssueStatus
from tests.api.issue_fixtures import *  # noqa: F403 (fixtures)
from tests.factories import make_project, spooled

PROJECT_ISSUES = "/api/0/projects/bugsink/alpha/issues/"
ORG_ISSUES = "/api/0/organizations/bugsink/issues/"


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json() if response.content else None


def fresh(issue):
    return Issue.including_merged.get(pk=issue.pk)


@pytest.mark.parametrize(
    "body, status, details",
    [
        ({"status": "resolved"}, IssueStatus.RESOLVED, {}),
        ({"status": "resolvedInNextRelease"}, IssueStatus.RESOLVED, {"inNextRelease": True}),
        (
            {"status": "resolved", "statusDetails": {"inNextRelease": True}},
            IssueStatus.RESOLVED,
            {"inNextRelease": True},
        ),
        (
            {"status": "resolved", "statusDetails": {"inRelease": "1.1"}},
            IssueStatus.RESOLVED,
            {"inRelease": "1.1"},
        ),
        (
            {"status": "resolved", "statusDetails": {"inRelease": "latest"}},
            IssueStatus.RESOLVED,
            {"inRelease": "1.1"},
        ),
        ({"status": "ignored"}, IssueStatus.MUTED, {}),
        ({"status": "muted", "snoozeDuration": None}, IssueStatus.MUTED, {}),  # sentry-cli's
        (
            {"status": "ignored", "statusDetails": {"ignoreCount": 5, "ignoreWindow": 30}},
            IssueStatus.MUTED,
            {"ignoreCount": 5, "ignoreWindow": 30},
        ),
        (
            {"status": "ignored", "statusDetails": {"ignoreCount": 5}},
            IssueStatus.MUTED,
            {"ignoreCount": 5, "ignoreWindow": None},
        ),
    ],
)
def test_status_changes_of_one_issue(events_world, tokens, call, body, status, details):
    issue = events_world["value_error"]
    answer = ok(call("PUT", f"{ORG_ISSUES}{issue.short_id}/", tokens["carol"], body))
    assert fresh(issue).status == status
    assert answer["statusDetails"] == details
    assert answer["id"] == str(issue.pk)  # the whole issue comes back (the MCP server reads it)
    entry = IssueHistory.objects.filter(issue=issue).order_by("-id").first()
    assert entry.user == events_world["carol"]


@pytest.mark.parametrize(
    "body",
    [
        {"status": "ignored", "ignoreDuration": 60},  # the MCP server's
        {"status": "ignored", "substatus": "archived_until_condition_met", "ignoreDuration": 60},
        {"status": "ignored", "statusDetails": {"ignoreDuration": 60}},
        {"status": "muted", "snoozeDuration": 60},
    ],
)
def test_ignore_for_a_while(events_world, tokens, call, body):
    issue = events_world["value_error"]
    answer = ok(call("PUT", f"{ORG_ISSUES}{issue.pk}/", tokens["alice"], body))
    row = fresh(issue)
    assert row.status == IssueStatus.MUTED
    assert 3590 <= (row.muted_until - row.muted_at).total_seconds() <= 3610
    assert answer["substatus"] == "archived_until_condition_met"
    assert "ignoreUntil" in answer["statusDetails"]


def test_unresolved_reopens_and_unmutes(events_world, tokens, call):
    world = events_world
    lifecycle.resolve(world["value_error"])
    lifecycle.mute(world["key_error"])
    ids = f"?id={world['value_error'].pk}&id={world['key_error'].pk}&id={world['message'].pk}"
    answer = ok(call("PUT", PROJECT_ISSUES + ids, tokens["alice"], {"status": "unresolved"}))
    assert answer == {"status": "unresolved", "substatus": "new", "statusDetails": {}}
    assert {fresh(world[k]).status for k in ("value_error", "key_error", "message")} == {
        "unresolved"
    }
    kinds = set(IssueHistory.objects.values_list("kind", flat=True))
    assert {HistoryKind.REOPENED, HistoryKind.UNMUTED} <= kinds
    # The issue that was open already has no new history entry.
    assert not IssueHistory.objects.filter(issue=world["message"], kind=HistoryKind.REOPENED)


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"status": "closed"}, "status"),
        ({"status": "resolved", "statusDetails": {"inCommit": {"commit": "abc"}}}, "commit"),
        ({"status": "ignored", "statusDetails": {"ignoreUserCount": 3}}, "users"),
        ({"status": "ignored", "statusDetails": {"ignoreWindow": 3}}, "ignoreCount"),
        ({"status": "ignored", "statusDetails": {"ignoreCount": 0}}, "at least 1"),
        ({"status": "ignored", "statusDetails": {"ignoreCount": 10**9}}, "between"),
        ({"isBookmarked": True}, "isBookmarked"),
        ({"discard": True}, "Discarding"),
        ({"assignedTo": "nobody-like-this"}, "Unknown assignee"),
        ({"assignedTo": "bob"}, "Unknown assignee"),  # another team's: not even named
        ({"assignedTo": "#team-b"}, "Unknown team"),
        ({"assignedTo": "team:999"}, "Unknown team"),
        ({"merge": True}, "Merge issues through"),
    ],
)
def test_what_cannot_be_done_is_400_and_changes_nothing(events_world, tokens, call, body, fragment):
    issue = events_world["value_error"]
    before = IssueHistory.objects.count()
    response = call("PUT", f"{ORG_ISSUES}{issue.pk}/", tokens["alice"], body)
    assert response.status_code == 400, response.content
    assert fragment in response.json()["detail"]
    assert fresh(issue).status == IssueStatus.UNRESOLVED
    assert IssueHistory.objects.count() == before


def test_bad_json_is_400(events_world, tokens, client):
    response = client.put(
        f"{ORG_ISSUES}{events_world['value_error'].pk}/",
        data=b"{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {tokens['alice']}"},
    )
    assert response.status_code == 400 and response.json()["detail"]


def test_assignment(events_world, tokens, call):
    world = events_world
    issue = world["value_error"]
    path = f"{ORG_ISSUES}{issue.pk}/"
    for value, expected in [
        (f"user:{world['carol'].pk}", {"type": "user", "id": str(world["carol"].pk)}),
        ("carol", {"type": "user", "id": str(world["carol"].pk)}),
        ("#team-a", {"type": "team", "id": str(world["team_a"].pk), "name": "team-a"}),
        (f"team:{world['team_a'].pk}", {"type": "team", "id": str(world["team_a"].pk)}),
        ("me", {"type": "user", "id": str(world["alice"].pk)}),
    ]:
        answer = ok(call("PUT", path, tokens["alice"], {"assignedTo": value}))
        assert expected.items() <= answer["assignedTo"].items(), (value, answer["assignedTo"])
    assert fresh(issue).assigned_user == world["alice"]
    assert ok(call("PUT", path, tokens["alice"], {"assignedTo": ""}))["assignedTo"] is None
    row = fresh(issue)
    assert row.assigned_user is None and row.assigned_team is None
    kinds = list(issue.history.order_by("id").values_list("kind", "reason"))
    assert kinds[-1] == (HistoryKind.UNASSIGNED, "unassigned")
    assert (HistoryKind.ASSIGNED, "assigned to team Team A") in kinds
    # Another team cannot be given this issue (and its project's team can); a superuser sees
    # everyone, and is told why.
    response = call("PUT", path, tokens["root"], {"assignedTo": f"team:{world['team_b'].pk}"})
    assert response.status_code == 400 and "cannot see" in response.json()["detail"]
    response = call("PUT", path, tokens["root"], {"assignedTo": f"user:{world['bob'].pk}"})
    assert response.status_code == 400 and "bob cannot see" in response.json()["detail"]
    # A user id of another team is unknown to alice, whatever the id.
    response = call("PUT", path, tokens["alice"], {"assignedTo": f"user:{world['bob'].pk}"})
    assert response.json()["detail"] == f"Unknown assignee 'user:{world['bob'].pk}'."
    # Bulk: the answer says what changed.
    ids = f"?id={issue.pk}&id={world['key_error'].pk}"
    answer = ok(call("PUT", PROJECT_ISSUES + ids, tokens["alice"], {"assignedTo": "carol"}))
    assert answer["assignedTo"]["id"] == str(world["carol"].pk)
    assert set(Issue.objects.filter(assigned_user=world["carol"]).values_list("pk", flat=True)) == {
        issue.pk,
        world["key_error"].pk,
    }


def test_has_seen(events_world, tokens, call):
    issue = events_world["key_error"]
    path = f"{ORG_ISSUES}{issue.pk}/"
    assert ok(call("PUT", path, tokens["carol"], {"hasSeen": True}))["hasSeen"] is True
    assert IssueSeen.objects.has_seen(issue, events_world["carol"])
    assert ok(call("GET", path, tokens["alice"]))["hasSeen"] is False
    assert ok(call("PUT", path, tokens["carol"], {"hasSeen": False}))["hasSeen"] is False


def test_bulk_without_ids_changes_every_issue_and_status_filters(events_world, tokens, call):
    world = events_world
    lifecycle.mute(world["message"])
    answer = ok(
        call("PUT", PROJECT_ISSUES + "?status=unresolved", tokens["alice"], {"status": "resolved"})
    )
    assert answer["status"] == "resolved"
    assert fresh(world["message"]).status == IssueStatus.MUTED  # not unresolved: untouched
    assert fresh(world["value_error"]).status == IssueStatus.RESOLVED
    # sentry-cli's `resolve -a`: no filter at all, every issue of the project (not Beta's).
    ok(call("PUT", PROJECT_ISSUES, tokens["alice"], {"status": "resolved"}))
    assert set(Issue.objects.filter(project=world["alpha"]).values_list("status", flat=True)) == {
        "resolved"
    }
    assert fresh(world["secret"]).status == IssueStatus.UNRESOLVED
    # Resolving resolved issues again writes nothing new.
    before = IssueHistory.objects.count()
    ok(call("PUT", PROJECT_ISSUES, tokens["alice"], {"status": "resolved"}))
    assert IssueHistory.objects.count() == before
    # Non-status changes need ids.
    response = call("PUT", PROJECT_ISSUES, tokens["alice"], {"assignedTo": "alice"})
    assert response.status_code == 400 and "id" in response.json()["detail"]


def test_bulk_ids_out_of_reach_change_nothing_and_answer_204(events_world, tokens, call):
    world = events_world
    secret = world["secret"]
    response = call(
        "PUT", PROJECT_ISSUES + f"?id={secret.pk}", tokens["alice"], {"status": "resolved"}
    )
    assert response.status_code == 204
    response = call(
        "PUT", ORG_ISSUES + f"?id={secret.pk}&id=999", tokens["alice"], {"status": "resolved"}
    )
    assert response.status_code == 204
    assert fresh(secret).status == IssueStatus.UNRESOLVED
    # Short ids work as ids; only the visible ones change.
    ids = f"?id={world['key_error'].short_id}&id={secret.short_id}"
    ok(call("PUT", ORG_ISSUES + ids, tokens["alice"], {"status": "resolved"}))
    assert fresh(world["key_error"]).status == IssueStatus.RESOLVED
    assert fresh(secret).status == IssueStatus.UNRESOLVED


def test_organization_bulk_uses_the_search(events_world, tokens, call):
    world = events_world
    ok(call("PUT", ORG_ISSUES + "?query=level:warning", tokens["alice"], {"status": "ignored"}))
    assert fresh(world["message"]).status == IssueStatus.MUTED
    assert fresh(world["value_error"]).status == IssueStatus.UNRESOLVED
    # Without a query, the default is:unresolved applies (Sentry's organization endpoint).
    ok(call("PUT", ORG_ISSUES, tokens["alice"], {"status": "resolved"}))
    assert fresh(world["message"]).status == IssueStatus.MUTED
    assert fresh(world["key_error"]).status == IssueStatus.RESOLVED


def test_bulk_is_all_or_nothing(events_world, tokens, call):
    world = events_world
    gamma = make_project("Gamma", team=world["team_b"])
    world["root"]  # root sees both projects; carol can see Alpha only
    from bugsink_issues.digest import digest_batch

    digest_batch([spooled(gamma, {"message": "gamma", "platform": "python"})])
    gamma_issue = Issue.objects.get(project=gamma)
    ids = f"?id={world['value_error'].pk}&id={gamma_issue.pk}"
    body = {"status": "resolved", "assignedTo": "carol"}
    response = call("PUT", ORG_ISSUES + ids, tokens["root"], body)
    assert response.status_code == 400 and "cannot see" in response.json()["detail"]
    # The status change that came first was rolled back with the failed assignment.
    assert fresh(world["value_error"]).status == IssueStatus.UNRESOLVED
    assert fresh(gamma_issue).status == IssueStatus.UNRESOLVED
    assert not IssueHistory.objects.filter(kind=HistoryKind.RESOLVED).exists()


def test_bulk_limit(events_world, tokens, call, monkeypatch):
    monkeypatch.setattr(issue_updates, "BULK_LIMIT", 2)
    from bugsink_issues.api.routers import issues as issues_router

    monkeypatch.setattr(issues_router, "BULK_LIMIT", 2)
    response = call("PUT", PROJECT_ISSUES, tokens["alice"], {"status": "resolved"})
    assert response.status_code == 400 and "More than 2" in response.json()["detail"]
    assert not Issue.objects.filter(status=IssueStatus.RESOLVED).exists()


def test_scopes_read_write_admin(events_world, call):
    world = events_world
    issue = world["value_error"]
    reader = ApiToken.objects.create_user_token(world["alice"], scopes=["event:read"])[1]
    writer = ApiToken.objects.create_user_token(world["alice"], scopes=["event:write"])[1]
    path = f"{ORG_ISSUES}{issue.pk}/"
    assert call("GET", path, reader).status_code == 200
    response = call("PUT", path, reader, {"status": "resolved"})
    assert response.status_code == 403 and "event:write" in response.json()["detail"]
    assert call("PUT", path, writer, {"status": "resolved"}).status_code == 200
    assert call("GET", path, writer).status_code == 200  # write implies read
    response = call("DELETE", path, writer)
    assert response.status_code == 403 and "event:admin" in response.json()["detail"]
    # An organization token (CI: releases and uploads) reads no issues.
    _, org_token = ApiToken.objects.create_organization_token(
        base_url="http://testserver", organization_slug="bugsink"
    )
    assert call("GET", ORG_ISSUES, org_token).status_code == 403


def test_delete_one_and_many(events_world, tokens, call):
    world = events_world
    path = f"{ORG_ISSUES}{world['key_error'].short_id}/"
    assert call("DELETE", path, tokens["alice"]).status_code == 202
    assert not Issue.objects.filter(pk=world["key_error"].pk).exists()
    assert call("GET", path, tokens["alice"]).status_code == 404
    ids = f"?id={world['message'].pk}&id={world['secret'].pk}"
    assert call("DELETE", PROJECT_ISSUES + ids, tokens["alice"]).status_code == 204
    assert not Issue.objects.filter(pk=world["message"].pk).exists()
    assert Issue.objects.filter(pk=world["secret"].pk).exists()  # Beta's: out of reach
    assert call("DELETE", PROJECT_ISSUES, tokens["alice"]).status_code == 400  # no ids: refused
    assert Issue.objects.filter(pk=world["value_error"].pk).exists()


def test_merge_through_the_bulk_endpoint(events_world, tokens, call):
    world = events_world
    target, source = world["value_error"], world["key_error"]
    ids = f"?id={source.pk}&id={target.pk}"
    answer = ok(call("PUT", PROJECT_ISSUES + ids, tokens["alice"], {"merge": 1}))
    assert answer["merge"] == {"parent": str(target.pk), "children": [str(source.pk)]}
    assert fresh(source).merged_into_id == target.pk
    assert Event.objects.filter(issue=target).count() == 4
    # The merged issue's id and short id lead to the issue it became.
    for name in (source.pk, source.short_id):
        assert ok(call("GET", f"{ORG_ISSUES}{name}/", tokens["alice"]))["id"] == str(target.pk)
    listed = ok(call("GET", PROJECT_ISSUES + "?query=", tokens["alice"]))
    assert str(source.pk) not in {i["id"] for i in listed}
    # Across projects: refused.
    response = call(
        "PUT", ORG_ISSUES + f"?id={target.pk}&id={world['secret'].pk}", tokens["root"], {"merge": 1}
    )
    assert response.status_code == 400 and "different projects" in response.json()["detail"]
    response = call("PUT", PROJECT_ISSUES + f"?id={target.pk}", tokens["alice"], {"merge": 1})
    assert response.status_code == 400 and "two" in response.json()["detail"]


def test_comments(events_world, tokens, call):
    issue = events_world["value_error"]
    path = f"{ORG_ISSUES}{issue.short_id}/comments/"
    answer = ok(call("POST", path, tokens["carol"], {"text": "Seen in prod too."}), 201)
    assert answer["type"] == "note" and answer["data"] == {"text": "Seen in prod too."}
    assert answer["user"]["username"] == "carol"
    ok(
        call("POST", f"/api/0/issues/{issue.pk}/comments/", tokens["alice"], {"text": "Fixing."}),
        201,
    )
    notes = ok(call("GET", path, tokens["alice"]))
    assert [n["data"]["text"] for n in notes] == ["Fixing.", "Seen in prod too."]
    assert call("POST", path, tokens["carol"], {"text": "  "}).status_code == 400
    assert call("POST", path, tokens["carol"], {}).status_code == 400
    reader = ApiToken.objects.create_user_token(events_world["carol"], scopes=["event:read"])[1]
    assert call("POST", path, reader, {"text": "no"}).status_code == 403
    assert ok(call("GET", f"{ORG_ISSUES}{issue.pk}/", tokens["alice"]))["numComments"] == 2


def test_a_comment_is_edited_and_deleted_by_its_author_only(events_world, tokens, call):
    issue = events_world["value_error"]
    path = f"{ORG_ISSUES}{issue.pk}/comments/"
    note = ok(call("POST", path, tokens["carol"], {"text": "Seen in prod."}), 201)
    mine = f"{path}{note['id']}/"
    edited = ok(call("PUT", mine, tokens["carol"], {"text": "Seen in prod and staging."}))
    assert edited["id"] == note["id"] and edited["data"] == {"text": "Seen in prod and staging."}
    assert [n["data"]["text"] for n in ok(call("GET", path, tokens["alice"]))] == [
        "Seen in prod and staging."
    ]
    # alice is the team's admin, but not the author: Sentry's rule, the author alone.
    refused = call("PUT", mine, tokens["alice"], {"text": "no"})
    assert refused.status_code == 403 and "author" in refused.json()["detail"]
    assert call("DELETE", mine, tokens["alice"]).status_code == 403
    assert call("PUT", mine, tokens["carol"], {"text": " "}).status_code == 400
    # Another team's user does not even find it; a history entry that is no comment is no note.
    assert call("DELETE", mine, tokens["bob"]).status_code == 404
    created = IssueHistory.objects.get(issue=issue, kind=HistoryKind.CREATED)
    assert call("DELETE", f"{path}{created.pk}/", tokens["root"]).status_code == 404
    assert (
        ok(call("DELETE", f"/api/0/issues/{issue.pk}/comments/{note['id']}/", tokens["carol"]), 204)
        is None
    )
    assert ok(call("GET", path, tokens["alice"])) == []
    assert call("DELETE", mine, tokens["carol"]).status_code == 404
    assert IssueHistory.objects.filter(issue=issue, kind=HistoryKind.CREATED).exists()
