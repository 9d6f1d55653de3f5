"""Every answer on a Sentry path has the fields of Sentry's published API reference, with the JSON
types the reference shows (tests/api/data/sentry_shapes.json: the shapes, each citing its page).

An API client written against docs.sentry.io reads these fields; a missing field or a number
where the reference has a string breaks it (sentry-cli and the MCP server refuse such answers)."""

import json
from datetime import datetime
from pathlib import Path

import pytest

from bugsink_issues import lifecycle
from bugsink_issues.models import EventAttachment
from tests.api.issue_fixtures import *  # noqa: F403 (fixtures)
from tests.api.issue_fixtures import FIRST_EVENT, LATEST_EVENT

SHAPES = json.loads((Path(__file__).parent / "data" / "sentry_shapes.json").read_text())["shapes"]


def _fields(name):
    shape = SHAPES[name]
    fields = dict(_fields(shape["extends"])) if "extends" in shape else {}
    fields.update(shape["fields"])
    return fields


def _is(value, type_name):
    if type_name == "null":
        return value is None
    if type_name == "datetime":
        if not isinstance(value, str):
            return False
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    expected = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "object": dict,
        "array": list,
    }[type_name]
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, expected)


def check(value, spec, where):
    """Assert `value` has the shape `spec` (see the data file's _about)."""
    if isinstance(spec, str):
        assert any(_is(value, t) for t in spec.split("|")), f"{where}: {value!r} is not {spec}"
        return
    if "items" in spec:
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        for n, item in enumerate(value[:20]):
            check(item, spec["items"], f"{where}[{n}]")
        return
    if value is None and spec.get("nullable"):
        return
    assert isinstance(value, dict), f"{where}: {value!r} is not an object"
    for name, field_spec in spec["fields"].items():
        assert name in value, f"{where}: no field {name!r} (has {sorted(value)})"
        check(value[name], field_spec, f"{where}.{name}")


def check_shape(value, name):
    check(value, {"fields": _fields(name)}, name)


def test_every_shape_cites_the_reference():
    for name, shape in SHAPES.items():
        assert shape["doc"] and all(
            u.startswith("https://docs.sentry.io/api/") for u in shape["doc"]
        ), name


def test_the_checker_catches_what_it_should():
    with pytest.raises(AssertionError, match="no field"):
        check({"id": "1"}, {"fields": {"id": "string", "count": "string"}}, "x")
    with pytest.raises(AssertionError, match="is not string"):
        check({"count": 3}, {"fields": {"count": "string"}}, "x")
    with pytest.raises(AssertionError, match="is not integer"):
        check(True, "integer", "x")
    with pytest.raises(AssertionError, match="is not datetime"):
        check("yesterday", "datetime", "x")
    check(None, "object|null", "x")


@pytest.fixture
def busy_world(events_world, tokens, call):
    """events_world with a comment, an assignee, a resolution and a seen mark, so the optional
    parts of the answers are there to be checked."""
    world = events_world
    lifecycle.comment(world["value_error"], "a note", user=world["carol"])
    lifecycle.assign(world["value_error"], world["carol"])
    lifecycle.resolve(world["key_error"], in_release="1.1")
    call(
        "PUT",
        f"/api/0/organizations/bugsink/issues/{world['value_error'].pk}/",
        tokens["alice"],
        {"hasSeen": True},
    )
    return world


def _get(call, token, path):
    response = call("GET", path, token)
    assert response.status_code == 200, (path, response.content)
    return response.json()


def test_issue_answers(busy_world, tokens, call):
    world, token = busy_world, tokens["alice"]
    issue = world["value_error"]
    for path in (
        "/api/0/projects/bugsink/alpha/issues/?query=",
        "/api/0/organizations/bugsink/issues/?query=",
    ):
        items = _get(call, token, path)
        assert len(items) == 3
        for item in items:
            check_shape(item, "issue")
    detail = _get(call, token, f"/api/0/organizations/bugsink/issues/{issue.short_id}/")
    check_shape(detail, "issue_detail")
    check_shape(_get(call, token, f"/api/0/issues/{issue.pk}/"), "issue_detail")
    updated = call(
        "PUT", f"/api/0/organizations/bugsink/issues/{issue.pk}/", token, {"status": "unresolved"}
    )
    check_shape(updated.json(), "issue_update")
    bulk = call(
        "PUT", f"/api/0/projects/bugsink/alpha/issues/?id={issue.pk}", token, {"status": "resolved"}
    )
    check_shape(bulk.json(), "bulk_update")
    bulk = call(
        "PUT",
        f"/api/0/organizations/bugsink/issues/?id={issue.pk}",
        token,
        {"status": "unresolved"},
    )
    check_shape(bulk.json(), "bulk_update")
    short = _get(call, token, f"/api/0/organizations/bugsink/shortids/{issue.short_id}/")
    check_shape(short, "short_id_lookup")
    check_shape(short["group"], "issue")


def test_event_answers(busy_world, tokens, call):
    world, token = busy_world, tokens["alice"]
    issue = world["value_error"]
    lists = [
        f"/api/0/organizations/bugsink/issues/{issue.pk}/events/",
        f"/api/0/issues/{issue.pk}/events/",
        "/api/0/projects/bugsink/alpha/events/",
    ]
    for path in lists:
        items = _get(call, token, path)
        assert items
        for item in items:
            check_shape(item, "event_list_item")
    details = [
        f"/api/0/organizations/bugsink/issues/{issue.pk}/events/latest/",
        f"/api/0/organizations/bugsink/issues/{issue.pk}/events/oldest/",
        f"/api/0/organizations/bugsink/issues/{issue.pk}/events/recommended/",
        f"/api/0/organizations/bugsink/issues/{issue.pk}/events/{FIRST_EVENT}/",
        f"/api/0/projects/bugsink/alpha/events/{LATEST_EVENT}/",
        f"/api/0/organizations/bugsink/issues/{world['message'].pk}/events/latest/",
    ]
    seen_entries = set()
    for path in details:
        event = _get(call, token, path)
        check_shape(event, "event")
        for entry in event["entries"]:
            seen_entries.add(entry["type"])
            shape = f"{entry['type']}_entry_data"
            if shape in SHAPES:
                check_shape(entry["data"], shape)
    assert seen_entries >= {"exception", "breadcrumbs", "request", "message"}
    for item in _get(call, token, "/api/0/projects/bugsink/alpha/events/?full=true"):
        check_shape(item, "event")
    looked_up = _get(call, token, f"/api/0/organizations/bugsink/eventids/{LATEST_EVENT}/")
    check_shape(looked_up, "event_id_lookup")
    check_shape(looked_up["event"], "event")


def test_issue_part_answers(busy_world, tokens, call):
    world, token = busy_world, tokens["alice"]
    issue = world["value_error"]
    base = f"/api/0/organizations/bugsink/issues/{issue.pk}"
    hashes = _get(call, token, base + "/hashes/")
    assert hashes
    for item in hashes:
        check_shape(item, "hash")
        check_shape(item["latestEvent"], "event")
    tags = _get(call, token, base + "/tags/")
    assert tags
    for item in tags:
        check_shape(item, "tag_detail")
    check_shape(_get(call, token, base + "/tags/environment/"), "tag_detail")
    for item in _get(call, token, base + "/tags/environment/values/"):
        check_shape(item, "tag_value")
    notes = _get(call, token, base + "/comments/")
    assert notes
    for item in notes:
        check_shape(item, "note")
    made = call("POST", base + "/comments/", token, {"text": "another"})
    check_shape(made.json(), "note")
    edited = call("PUT", f"{base}/comments/{made.json()['id']}/", token, {"text": "edited"})
    check_shape(edited.json(), "note")
    attachment_id = EventAttachment.objects.get().pk
    for path in (
        f"/api/0/projects/bugsink/alpha/events/{FIRST_EVENT}/attachments/",
        base + "/attachments/",
    ):
        items = _get(call, token, path)
        assert items
        for item in items:
            check_shape(item, "attachment")
    one = f"/api/0/projects/bugsink/alpha/events/{FIRST_EVENT}/attachments/{attachment_id}/"
    check_shape(_get(call, token, one), "attachment")
    for path in ("/api/0/projects/bugsink/alpha/user-feedback/", base + "/user-reports/"):
        items = _get(call, token, path)
        assert items
        for item in items:
            check_shape(item, "user_feedback")
            check_shape(item["issue"], "issue")
    report = {"event_id": FIRST_EVENT, "name": "Bo", "email": "bo@example.com", "comments": "x"}
    submitted = call("POST", "/api/0/projects/bugsink/alpha/user-feedback/", token, report)
    check_shape(submitted.json(), "user_feedback")


def test_key_team_member_answers(busy_world, tokens, call):
    world, token = busy_world, tokens["alice"]
    keys = _get(call, token, "/api/0/projects/bugsink/alpha/keys/")
    assert keys
    for item in keys:
        check_shape(item, "client_key")
    check_shape(
        _get(call, token, f"/api/0/projects/bugsink/alpha/keys/{world['alpha_key'].public_key}/"),
        "client_key",
    )
    made = call("POST", "/api/0/projects/bugsink/alpha/keys/", token, {"name": "new"})
    check_shape(made.json(), "client_key")
    for path in ("/api/0/organizations/bugsink/teams/", "/api/0/projects/bugsink/alpha/teams/"):
        items = _get(call, token, path)
        assert items
        for item in items:
            check_shape(item, "team")
    check_shape(_get(call, token, "/api/0/teams/bugsink/team-a/"), "team")
    for item in _get(call, token, "/api/0/teams/bugsink/team-a/projects/"):
        check_shape(item, "team_project")
    for path in ("/api/0/organizations/bugsink/members/", "/api/0/teams/bugsink/team-a/members/"):
        items = _get(call, token, path)
        assert items
        for item in items:
            check_shape(item, "member")
    check_shape(
        _get(call, token, f"/api/0/organizations/bugsink/members/{world['carol'].pk}/"), "member"
    )


def test_the_openapi_document_describes_every_path_with_these_fields(client):
    """GET /api/0/openapi.json: generated from the code; every URL served is in it, and the
    documented answers carry the reference's field names."""
    import re

    from bugsink_issues.api.urls import urlpatterns

    response = client.get("/api/0/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    served = {
        "/api/0/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(p.pattern))
        for p in urlpatterns
        if not str(p.pattern).startswith("^") and str(p.pattern) != "openapi.json"
    }
    assert served <= set(paths), served - set(paths)
    schemas = document["components"]["schemas"]
    for schema_name, shape_name in [
        ("IssueOut", "issue"),
        ("IssueDetailOut", "issue_detail"),
        ("EventListItemOut", "event_list_item"),
        ("EventDetailOut", "event"),
        ("ProjectKeyOut", "client_key"),
        ("TeamOut", "team"),
        ("MemberOut", "member"),
        ("AttachmentOut", "attachment"),
    ]:
        documented = set(schemas[schema_name]["properties"])
        assert set(_fields(shape_name)) <= documented, (
            schema_name,
            set(_fields(shape_name)) - documented,
        )
    # Each operation has a summary (the document's table of contents).
    issues = paths["/api/0/organizations/{org}/issues/{issue_id}/"]
    assert {"get", "put", "delete"} <= set(issues)
    assert all(op.get("summary") for op in issues.values())


def test_organization_and_project_answers(events_world, tokens, call):
    """The skeleton's organization and project answers, against the same reference."""
    token = tokens["alice"]
    (org,) = _get(call, token, "/api/0/organizations/")
    check_shape(org, "organization")
    check_shape(_get(call, token, "/api/0/organizations/bugsink/"), "organization")
    for path in ("/api/0/organizations/bugsink/projects/", "/api/0/projects/"):
        items = _get(call, token, path)
        assert items
        for item in items:
            check_shape(item, "project")
    detail = _get(call, token, "/api/0/projects/bugsink/alpha/")
    check_shape(detail, "project")
    check_shape(detail["organization"], "organization")
