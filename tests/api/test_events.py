"""Events through the API: an issue's events and its latest/oldest/recommended one, a project's
events, one event with Sentry's entries, event id look-ups, hashes, tag distributions,
attachments and user feedback."""

import pytest

from bugsink_issues import lifecycle
from bugsink_issues.models import ApiToken, Event, Issue
from tests.api.issue_fixtures import *  # noqa: F403 (fixtures)
from tests.api.issue_fixtures import ATTACHMENT, FIRST_EVENT, LATEST_EVENT
from tests.factories import load_sample, make_project, sample_paths, spooled

ORG = "/api/0/organizations/bugsink"
PROJECT = "/api/0/projects/bugsink/alpha"


def ok(response, status=200):
    assert response.status_code == status, response.content
    assert response["Content-Type"].split(";")[0] == "application/json"
    return response.json()


def test_issue_events_newest_first_with_tags_and_user(events_world, tokens, call):
    issue = events_world["value_error"]
    events = ok(call("GET", f"{ORG}/issues/{issue.short_id}/events/", tokens["alice"]))
    assert [e["eventID"] for e in events][0] == LATEST_EVENT
    assert [e["eventID"] for e in events][-1] == FIRST_EVENT and len(events) == 3
    latest = events[0]
    assert latest["groupID"] == str(issue.pk) and latest["projectID"] == str(issue.project_id)
    assert latest["event.type"] == "error"
    tags = {t["key"]: t["value"] for t in latest["tags"]}
    assert tags["release"] == "1.1" and tags["shard"] == "eu" and tags["browser"] == "Firefox 120"
    assert latest["user"]["email"] == "buyer@example.com"
    oldest_first = ok(
        call("GET", f"{ORG}/issues/{issue.pk}/events/?sort=timestamp", tokens["alice"])
    )
    assert oldest_first[0]["eventID"] == FIRST_EVENT
    assert (
        call("GET", f"{ORG}/issues/{issue.pk}/events/?sort=size", tokens["alice"]).status_code
        == 400
    )


@pytest.mark.parametrize(
    "query, count",
    [
        ("environment:production", 2),
        ("environment:staging", 1),
        ("!environment:staging", 2),
        ("release:1.0", 1),
        ("issue:ALPHA-1 environment:production", 2),  # the MCP server repeats the issue
        ("buyer@example", 3),  # free text: the user
        (LATEST_EVENT[:12], 1),  # free text: an event id prefix
        ("user.email:buyer@example.com", 3),
    ],
)
def test_issue_event_search(events_world, tokens, call, query, count):
    issue = events_world["value_error"]
    body = ok(
        call("GET", f"{ORG}/issues/{issue.pk}/events/", tokens["alice"], data={"query": query})
    )
    assert len(body) == count


def test_issue_event_search_refuses_what_it_cannot_search(events_world, tokens, call):
    issue = events_world["value_error"]
    response = call(
        "GET", f"{ORG}/issues/{issue.pk}/events/?query=browser:Firefox", tokens["alice"]
    )
    assert response.status_code == 400 and "browser" in response.json()["detail"]
    response = call("GET", f"{ORG}/issues/{issue.pk}/events/?environment=staging", tokens["alice"])
    assert len(ok(response)) == 1


def test_event_detail_entries(events_world, tokens, call):
    issue = events_world["value_error"]
    event = ok(call("GET", f"{ORG}/issues/{issue.pk}/events/latest/", tokens["alice"]))
    assert event["eventID"] == LATEST_EVENT and event["type"] == "error"
    assert event["release"]["version"] == "1.1" and event["environment"] == "production"
    assert event["previousEventID"] is not None and event["nextEventID"] is None
    assert event["fingerprints"] == [issue.grouping_key]
    assert event["metadata"]["type"] == "ValueError" and event["metadata"]["value"] == "bad value"
    assert event["userReport"]["comments"] == "The checkout page broke."
    entries = {entry["type"]: entry["data"] for entry in event["entries"]}
    assert list(entries) == ["exception", "breadcrumbs", "request"]
    (exception,) = entries["exception"]["values"]
    assert exception["type"] == "ValueError" and exception["mechanism"]["handled"] is False
    frames = exception["stacktrace"]["frames"]
    assert [f["function"] for f in frames] == ["inner", "checkout"]  # oldest call first
    app = frames[-1]
    assert app["inApp"] is True and frames[0]["inApp"] is False
    assert app["filename"] == "app/views.py" and app["module"] == "app.views"
    assert app["lineNo"] == 11
    assert app["context"] == [
        [9, "def checkout(request):"],
        [10, "    cart = request.cart"],
        [11, "    total = cart.total / cart.count"],
        [12, "    return total"],
    ]
    assert app["vars"] == {"cart": "<Cart 3>", "request": "<WSGIRequest GET '/checkout/'>"}
    assert entries["exception"]["hasSystemFrames"] is True
    (crumb,) = entries["breadcrumbs"]["values"]
    assert crumb["category"] == "query" and crumb["timestamp"].startswith("2023-11-14T22:13:20.5")
    request = entries["request"]
    assert request["method"] == "POST" and request["query"] == [["step", "2"]]
    assert ["User-Agent", "Mozilla/5.0 Firefox/120.0"] in request["headers"]
    assert request["inferredContentType"] == "text/plain"


def test_message_event_and_oldest_and_recommended(events_world, tokens, call):
    world = events_world
    message = ok(call("GET", f"{ORG}/issues/{world['message'].pk}/events/oldest/", tokens["alice"]))
    assert message["type"] == "default" and message["message"] == "cache is cold"
    assert [e["type"] for e in message["entries"]] == ["message"]
    assert message["entries"][0]["data"]["formatted"] == "cache is cold"
    issue = world["value_error"]
    oldest = ok(call("GET", f"{ORG}/issues/{issue.pk}/events/oldest/", tokens["alice"]))
    assert oldest["eventID"] == FIRST_EVENT and oldest["previousEventID"] is None
    recommended = ok(call("GET", f"{ORG}/issues/{issue.pk}/events/recommended/", tokens["alice"]))
    assert recommended["eventID"] in {e.event_id for e in issue.events.all()}
    by_id = ok(
        call("GET", f"/api/0/issues/{issue.pk}/events/{FIRST_EVENT.upper()}/", tokens["alice"])
    )
    assert by_id["eventID"] == FIRST_EVENT and by_id["nextEventID"] is not None
    other = world["key_error"].events.get().event_id
    assert (
        call("GET", f"{ORG}/issues/{issue.pk}/events/{other}/", tokens["alice"]).status_code == 404
    )


def test_project_events_and_one_event(events_world, tokens, call):
    events = ok(call("GET", f"{PROJECT}/events/", tokens["alice"]))
    assert len(events) == 5 and all(e["projectID"] == str(events_world["alpha"].pk) for e in events)
    full = ok(call("GET", f"{PROJECT}/events/?full=true&per_page=2", tokens["alice"]))
    assert len(full) == 2 and all("entries" in e for e in full)
    one = ok(call("GET", f"{PROJECT}/events/{LATEST_EVENT}/", tokens["alice"]))
    assert one["groupID"] == str(events_world["value_error"].pk)
    assert call("GET", f"{PROJECT}/events/{'f' * 32}/", tokens["alice"]).status_code == 404
    beta_event = events_world["secret"].events.get().event_id
    assert call("GET", f"{PROJECT}/events/{beta_event}/", tokens["alice"]).status_code == 404
    # project:read is enough for a project's events (Sentry's reference).
    from bugsink_issues.models import ApiToken

    reader = ApiToken.objects.create_user_token(events_world["alice"], scopes=["project:read"])[1]
    assert call("GET", f"{PROJECT}/events/", reader).status_code == 200


def test_event_id_lookup(events_world, tokens, call):
    body = ok(call("GET", f"{ORG}/eventids/{LATEST_EVENT}/", tokens["carol"]))
    assert body["projectSlug"] == "alpha" and body["groupId"] == str(events_world["value_error"].pk)
    assert body["event"]["eventID"] == LATEST_EVENT
    assert call("GET", f"{ORG}/eventids/{LATEST_EVENT}/", tokens["bob"]).status_code == 404


def test_hashes_explain_the_grouping(events_world, tokens, call):
    world = events_world
    lifecycle.merge([world["value_error"], world["key_error"]])
    hashes = ok(call("GET", f"{ORG}/issues/{world['value_error'].pk}/hashes/", tokens["alice"]))
    assert len(hashes) == 2
    first = hashes[0]
    assert first["id"] == world["value_error"].grouping_key
    assert first["explanation"]["kind"] == "exception" and first["explanation"]["version"] >= 1
    assert "ValueError" in first["explanation"]["parts"]
    assert first["latestEvent"]["eventID"] == LATEST_EVENT
    assert hashes[1]["latestEvent"]["title"] == "KeyError: 'sku'"


def test_tag_distributions(events_world, tokens, call):
    issue = events_world["value_error"]
    tags = ok(call("GET", f"{ORG}/issues/{issue.pk}/tags/", tokens["alice"]))
    by_key = {t["key"]: t for t in tags}
    env = by_key["environment"]
    assert env["name"] == "Environment" and env["uniqueValues"] == 2 and env["totalValues"] == 3
    assert [(v["value"], v["count"]) for v in env["topValues"]] == [
        ("production", 2),
        ("staging", 1),
    ]
    one = ok(call("GET", f"{ORG}/issues/{issue.short_id}/tags/release/", tokens["alice"]))
    assert {v["value"]: v["count"] for v in one["topValues"]} == {"1.1": 2, "1.0": 1}
    values = ok(
        call("GET", f"{ORG}/issues/{issue.pk}/tags/release/values/?per_page=1", tokens["alice"])
    )
    assert [v["value"] for v in values] == ["1.1"]
    assert call("GET", f"{ORG}/issues/{issue.pk}/tags/nope/", tokens["alice"]).status_code == 404


def test_attachments_listed_and_downloaded_safely(events_world, tokens, call):
    issue = events_world["value_error"]
    listed = ok(call("GET", f"{PROJECT}/events/{FIRST_EVENT}/attachments/", tokens["alice"]))
    (attachment,) = listed
    assert attachment["name"] == "order.txt" and attachment["size"] == len(ATTACHMENT)
    assert attachment["mimetype"] == "text/html" and attachment["event_id"] == FIRST_EVENT
    assert ok(call("GET", f"{ORG}/issues/{issue.pk}/attachments/", tokens["alice"])) == listed
    path = f"{PROJECT}/events/{FIRST_EVENT}/attachments/{attachment['id']}/"
    assert ok(call("GET", path, tokens["alice"]))["id"] == attachment["id"]
    download = call("GET", path + "?download=1", tokens["alice"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == ATTACHMENT
    assert download["Content-Length"] == str(len(ATTACHMENT))
    # Whatever the sender claimed, it is served as a download no browser renders.
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"] == 'attachment; filename="order.txt"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"] == "sandbox"
    assert (
        call("GET", f"{PROJECT}/events/{LATEST_EVENT}/attachments/", tokens["alice"]).json() == []
    )
    assert call("GET", path.replace(attachment["id"], "999"), tokens["alice"]).status_code == 404


def test_user_feedback(events_world, tokens, call):
    issue = events_world["value_error"]
    (feedback,) = ok(call("GET", f"{PROJECT}/user-feedback/", tokens["alice"]))
    assert (
        feedback["comments"] == "The checkout page broke."
        and feedback["email"] == "ann@example.com"
    )
    assert feedback["eventID"] == LATEST_EVENT and feedback["issue"]["id"] == str(issue.pk)
    assert ok(call("GET", f"{ORG}/issues/{issue.pk}/user-reports/", tokens["alice"])) == [feedback]
    assert ok(call("GET", "/api/0/projects/bugsink/beta/user-feedback/", tokens["bob"])) == []


def test_user_feedback_submitted_replaced_then_final(events_world, tokens, call):
    from datetime import timedelta

    from bugsink_issues.models import UserFeedback

    issue = events_world["value_error"]
    path = f"{PROJECT}/user-feedback/"
    event_id = f"{FIRST_EVENT[:8]}-{FIRST_EVENT[8:12]}-{FIRST_EVENT[12:16]}-{FIRST_EVENT[16:20]}-{FIRST_EVENT[20:]}"
    report = {"event_id": event_id, "name": "Bo", "email": "bo@example.com", "comments": "Slow."}
    answer = ok(call("POST", path, tokens["carol"], report))
    assert answer["eventID"] == FIRST_EVENT and answer["comments"] == "Slow."
    assert answer["issue"]["id"] == str(issue.pk)  # linked to the stored event's issue
    again = ok(call("POST", path, tokens["carol"], {**report, "comments": "Very slow."}))
    assert again["id"] == answer["id"] and again["comments"] == "Very slow."  # a retry replaces
    listed = ok(call("GET", f"{ORG}/issues/{issue.pk}/user-reports/", tokens["alice"]))
    assert sorted(f["comments"] for f in listed) == ["The checkout page broke.", "Very slow."]
    UserFeedback.objects.filter(pk=int(answer["id"])).update(
        received_at=UserFeedback.objects.get(pk=int(answer["id"])).received_at
        - timedelta(minutes=6)
    )
    final = call("POST", path, tokens["carol"], {**report, "comments": "Changed my mind."})
    assert final.status_code == 409 and "cannot be modified" in final.json()["detail"]
    # Feedback on an event not stored (yet) is kept, unlinked.
    waiting = ok(call("POST", path, tokens["carol"], {**report, "event_id": "f" * 32}))
    assert waiting["issue"] is None and waiting["eventID"] == "f" * 32
    for body, status in [
        ({**report, "event_id": "nope"}, 400),
        ({**report, "comments": "  "}, 400),
        ({"event_id": FIRST_EVENT}, 400),
    ]:
        assert call("POST", path, tokens["carol"], body).status_code == status, body
    reader = ApiToken.objects.create_user_token(events_world["carol"], scopes=["event:read"])[1]
    assert call("POST", path, reader, report).status_code == 403
    assert call("POST", path, tokens["bob"], report).status_code == 404
    assert UserFeedback.objects.filter(project=events_world["alpha"]).count() == 3


def test_every_sample_event_is_served(world, tokens, call, digest):
    """Every real SDK payload of the samples comes back as a valid event answer (the schema is
    checked on the way out: a field of the wrong type would be a 500)."""
    project = make_project("Samples", team=world["team_a"])
    paths = sample_paths()
    digest([spooled(project, load_sample(path.name)) for path in paths])
    assert Event.objects.filter(project=project).count() == len(paths)
    for event in Event.objects.filter(project=project).only("event_id", "issue_id"):
        body = ok(
            call(
                "GET", f"/api/0/projects/bugsink/samples/events/{event.event_id}/", tokens["alice"]
            )
        )
        assert body["eventID"] == event.event_id and isinstance(body["entries"], list)
    issues = ok(
        call("GET", "/api/0/projects/bugsink/samples/issues/?query=&per_page=100", tokens["alice"])
    )
    assert len(issues) == min(100, Issue.objects.filter(project=project).count())
