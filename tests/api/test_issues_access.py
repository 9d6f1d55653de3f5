"""A token sees what its user sees in the UI and nothing more: two teams, as the UI's access tests
(tests/issues/test_views.py) have them. Every URL pattern of the API is walked, so a new endpoint
cannot escape these tests."""

import re

from bugsink_issues import lifecycle
from bugsink_issues.api.urls import urlpatterns
from bugsink_issues.models import EventAttachment, Issue, IssueHistory, Release, UserFeedback
from tests.api.issue_fixtures import *  # noqa: F403 (fixtures)
from tests.api.issue_fixtures import FIRST_EVENT

ALPHA_MARKS = (
    "alpha",
    "ALPHA-",
    "ValueError",
    "KeyError",
    "cache is cold",
    "Team A",
    "team-a",
    "Alpha's note",
)


def _patterns():
    for pattern in urlpatterns:
        route = str(pattern.pattern)
        if route.startswith("^") or route == "openapi.json":
            continue  # the catch-all 404; the document (public, no data)
        yield route, re.findall(r"<(?:\w+:)?(\w+)>", route)


def _alpha_arguments(world):
    """Values naming Alpha's (team A's) objects, for each path parameter of the API."""
    attachment = EventAttachment.objects.get()
    assert Release.objects.filter(project=world["alpha"], version="1.0").exists()
    note = lifecycle.comment(world["value_error"], "Alpha's note", user=world["alice"])
    return {
        "org": "bugsink",
        "project": "alpha",
        "issue_id": str(world["value_error"].pk),
        "short_id": world["value_error"].short_id,
        "event_id": FIRST_EVENT,
        "key": "environment",
        "key_id": world["alpha_key"].public_key,
        "attachment_id": str(attachment.pk),
        "team": "team-a",
        "member_id": str(world["alice"].pk),
        "version": "1.0",  # a release of Alpha's events
        "file_id": "1",
        "note_id": str(note.pk),
    }


# A body every write endpoint accepts, so the answer is about access, not validation.
BODY = {
    "status": "resolved",
    "text": "x",
    "name": "x",
    "assignedTo": "bob",
    "environment": "production",
    "checksum": "0" * 40,
    "chunks": [],
    "version": "9.9",
    "event_id": FIRST_EVENT,
    "email": "x@example.com",
    "comments": "x",
}


def test_every_api_url_with_an_id_is_closed_to_another_team(events_world, tokens, call):
    world = events_world
    arguments = _alpha_arguments(world)
    checked = []
    for route, params in _patterns():
        missing = [p for p in params if p not in arguments]
        assert not missing, f"{route}: add {missing} to _alpha_arguments"
        if params in ([], ["org"]):
            continue  # lists: see the next test
        path = "/api/0/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: arguments[m.group(1)], route)
        for method in ("GET", "PUT", "POST", "DELETE"):
            response = call(method, path, tokens["bob"], None if method == "GET" else BODY)
            assert response.status_code in (404, 405), f"{method} {path}: {response.status_code}"
            assert response["Content-Type"].split(";")[0] == "application/json"
            body = response.content.decode()
            # Only what the request itself named may come back (in the 404's message).
            leaks = [m for m in ALPHA_MARKS if m in body and m.lower() not in path.lower()]
            assert not leaks, (path, body)
        # The short id spelling of the same issue is just as closed.
        if "issue_id" in params:
            short = path.replace(f"/{arguments['issue_id']}/", f"/{arguments['short_id']}/")
            answers = {
                call(method, short, tokens["bob"], None if method == "GET" else BODY).status_code
                for method in ("GET", "PUT", "POST", "DELETE")
            }
            assert 404 in answers and answers <= {404, 405}, (short, answers)
        checked.append(route)
    assert len(checked) >= 30, checked
    # Nothing changed: no status, no comment, no key, nothing deleted.
    assert set(Issue.objects.filter(project=world["alpha"]).values_list("status", flat=True)) == {
        "unresolved"
    }
    assert Issue.objects.filter(project=world["alpha"]).count() == 3
    assert list(IssueHistory.objects.exclude(kind="created").values_list("kind", "comment")) == [
        ("comment", "Alpha's note")
    ]
    assert world["alpha"].keys.count() == 1
    assert UserFeedback.objects.count() == 1  # the fixture's
    assert Issue.objects.get(pk=world["value_error"].pk).assigned_user is None


def test_lists_show_only_what_the_user_sees(events_world, tokens, call):
    world = events_world
    alpha_ids = f"?id={world['value_error'].pk}&id={world['key_error'].pk}"
    checked = []
    for route, params in _patterns():
        if params != ["org"] and params != []:
            continue
        path = "/api/0/" + route.replace("<org>", "bugsink")
        response = call("GET", path + "?query=", tokens["bob"])
        assert response.status_code in (200, 405), (path, response.status_code)
        body = response.content.decode()
        assert not any(mark in body for mark in ALPHA_MARKS), (path, body[:500])
        for method in ("PUT", "DELETE"):
            response = call(method, path + alpha_ids, tokens["bob"], BODY)
            assert response.status_code in (204, 405), (method, path, response.status_code)
        checked.append(route)
    assert len(checked) >= 5, checked
    assert Issue.objects.filter(project=world["alpha"]).count() == 3
    assert set(Issue.objects.filter(project=world["alpha"]).values_list("status", flat=True)) == {
        "unresolved"
    }


def test_a_member_who_is_not_an_admin_still_triages(events_world, tokens, call):
    """carol (a plain member of team A) does what she can do in the UI: read, resolve, comment."""
    issue = events_world["value_error"]
    path = f"/api/0/organizations/bugsink/issues/{issue.pk}/"
    assert call("PUT", path, tokens["carol"], {"status": "resolved"}).status_code == 200
    assert call("POST", path + "comments/", tokens["carol"], {"text": "ok"}).status_code == 201


def test_superuser_sees_the_project_without_a_team(events_world, tokens, call, digest):
    from tests.factories import spooled

    digest([spooled(events_world["orphan"], {"message": "orphaned", "platform": "python"})])
    path = "/api/0/projects/bugsink/orphan/issues/"
    assert [i["title"] for i in call("GET", path, tokens["root"]).json()] == ["orphaned"]
    assert call("GET", path, tokens["alice"]).status_code == 404


def test_no_credentials_is_401_everywhere(events_world, client):
    arguments = _alpha_arguments(events_world)
    for route, _params in _patterns():
        if route == "":
            continue  # GET /api/0/ answers anonymous callers (sentry-cli info)
        path = "/api/0/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: arguments[m.group(1)], route)
        response = client.get(path)
        assert response.status_code in (401, 405), (path, response.status_code)
        assert response["Content-Type"].split(";")[0] == "application/json"


def test_session_of_the_ui_works_and_needs_csrf_to_change(events_world, client):
    from django.test import Client

    issue = events_world["value_error"]
    path = f"/api/0/organizations/bugsink/issues/{issue.pk}/"
    client.force_login(events_world["carol"])
    assert client.get(path).json()["id"] == str(issue.pk)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(events_world["carol"])
    response = strict.put(path, data='{"status": "resolved"}', content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    client.force_login(events_world["bob"])
    assert client.get(path).status_code == 404


def test_rate_limit_per_token_on_the_issue_endpoints(events_world, tokens, call, settings):
    from django.core.cache import caches

    caches["default"].clear()
    settings.BUGSINK_ISSUES_API_RATE_LIMIT_PER_MINUTE = 2
    path = "/api/0/organizations/bugsink/issues/"
    assert call("GET", path, tokens["carol"]).status_code == 200
    assert call("GET", path, tokens["carol"]).status_code == 200
    limited = call("GET", path, tokens["carol"])
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert "Rate limit" in limited.json()["detail"]
    assert call("GET", path, tokens["alice"]).status_code == 200  # per token
    caches["default"].clear()
