"""The issue lists (a project's, the organization's), Sentry's search syntax, sorting, stats,
pagination, one issue's detail by id and short id, and short id look-ups."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from bugsink_issues import lifecycle
from bugsink_issues.api.query import QueryError, parse_query
from bugsink_issues.models import Issue, IssueSeen
from tests.api.issue_fixtures import *  # noqa: F403 (fixtures)
from tests.api.issue_fixtures import LATEST_EVENT
from tests.factories import make_project, spooled

PROJECT_ISSUES = "/api/0/projects/bugsink/alpha/issues/"
ORG_ISSUES = "/api/0/organizations/bugsink/issues/"


def ok(response, status=200):
    assert response.status_code == status, response.content
    assert response["Content-Type"].split(";")[0] == "application/json"
    return response.json()


def titles(body):
    return sorted(i["title"] for i in body)


def search(call, tokens, query, path=PROJECT_ISSUES, user="alice"):
    return titles(ok(call("GET", path, tokens[user], data={"query": query})))


def test_project_list_defaults_to_unresolved_and_an_empty_query_is_everything(
    events_world, tokens, call
):
    lifecycle.resolve(events_world["key_error"])
    default = ok(call("GET", PROJECT_ISSUES, tokens["alice"]))
    assert titles(default) == ["ValueError: bad value", "cache is cold"]
    everything = ok(call("GET", PROJECT_ISSUES + "?query=", tokens["alice"]))
    assert len(everything) == 3
    first = next(i for i in everything if i["title"] == "ValueError: bad value")
    issue = events_world["value_error"]
    assert first["id"] == str(issue.pk)
    assert first["shortId"] == f"ALPHA-{issue.number}" and re.fullmatch(
        r"ALPHA-\d+", first["shortId"]
    )
    assert first["count"] == "3" and first["userCount"] == 1
    assert first["project"]["slug"] == "alpha"
    assert first["permalink"] == f"http://testserver/issues/{issue.pk}/"
    assert first["metadata"] == {
        "title": "ValueError: bad value",
        "type": "ValueError",
        "value": "bad value",
    }


def test_a_project_is_named_by_slug_or_id(events_world, tokens, call):
    by_id = ok(
        call("GET", f"/api/0/projects/bugsink/{events_world['alpha'].pk}/issues/", tokens["alice"])
    )
    assert titles(by_id) == titles(ok(call("GET", PROJECT_ISSUES, tokens["alice"])))
    beta = f"/api/0/projects/bugsink/{events_world['beta'].pk}/issues/"
    assert call("GET", beta, tokens["alice"]).status_code == 404


def test_short_ids_number_each_project_from_one(events_world, tokens, call):
    numbers = sorted(
        Issue.objects.filter(project=events_world["alpha"]).values_list("number", flat=True)
    )
    assert numbers == [1, 2, 3]
    assert events_world["secret"].short_id == "BETA-1"
    # A deleted issue's number is not handed out again.
    lifecycle.delete(events_world["message"])
    from bugsink_issues.digest import digest_batch

    digest_batch([spooled(events_world["alpha"], {"message": "brand new", "platform": "python"})])
    assert Issue.objects.get(title="brand new").number == 4


@pytest.mark.parametrize(
    "query, expected",
    [
        ("is:unresolved", ["KeyError: 'sku'", "ValueError: bad value", "cache is cold"]),
        ("is:resolved", []),
        ("level:warning", ["cache is cold"]),
        ("!level:warning", ["KeyError: 'sku'", "ValueError: bad value"]),
        ("release:1.0", ["ValueError: bad value"]),
        ("release:[1.0,9.9]", ["ValueError: bad value"]),
        ("environment:staging", ["ValueError: bad value"]),
        ("shard:eu", ["ValueError: bad value"]),
        ("browser:Firefox*", ["ValueError: bad value"]),
        ("has:shard", ["ValueError: bad value"]),
        ("!has:release", ["KeyError: 'sku'", "cache is cold"]),
        ("timesSeen:>2", ["ValueError: bad value"]),
        ("timesSeen:1", ["KeyError: 'sku'", "cache is cold"]),
        ("firstSeen:-1h", ["KeyError: 'sku'", "ValueError: bad value", "cache is cold"]),
        ("lastSeen:+1d", []),
        ("age:-1h level:error", ["KeyError: 'sku'", "ValueError: bad value"]),
        ("firstRelease:1.0", ["ValueError: bad value"]),
        ("cold", ["cache is cold"]),
        ('"bad value"', ["ValueError: bad value"]),
        ("app.models", ["KeyError: 'sku'"]),  # the culprit
        ("critical bugs from last week", []),  # what the MCP server passes through: no error
        ("is:unassigned", ["KeyError: 'sku'", "ValueError: bad value", "cache is cold"]),
        ("is:assigned", []),
    ],
)
def test_search_syntax(events_world, tokens, call, query, expected):
    assert search(call, tokens, query) == expected


def test_bare_event_id_and_short_id_find_their_issue(events_world, tokens, call):
    assert search(call, tokens, LATEST_EVENT, ORG_ISSUES) == ["ValueError: bad value"]
    dashed = f"{LATEST_EVENT[:8]}-{LATEST_EVENT[8:12]}-{LATEST_EVENT[12:16]}-{LATEST_EVENT[16:20]}-{LATEST_EVENT[20:]}"
    assert search(call, tokens, dashed.upper(), ORG_ISSUES) == ["ValueError: bad value"]
    short_id = events_world["key_error"].short_id
    assert search(call, tokens, short_id, ORG_ISSUES) == ["KeyError: 'sku'"]
    assert search(call, tokens, f"issue:{short_id}") == ["KeyError: 'sku'"]
    # Another team's event id finds nothing.
    beta_event = events_world["secret"].events.get().event_id
    assert search(call, tokens, beta_event, ORG_ISSUES) == []


def test_assigned_searches(events_world, tokens, call):
    world = events_world
    lifecycle.assign(world["value_error"], world["alice"])
    lifecycle.assign(world["key_error"], world["team_a"])
    assert search(call, tokens, "assigned:me") == ["KeyError: 'sku'", "ValueError: bad value"]
    assert search(call, tokens, "assigned:me", user="carol") == ["KeyError: 'sku'"]  # her team
    assert search(call, tokens, "assigned:alice", user="carol") == ["ValueError: bad value"]
    assert search(call, tokens, "assigned:#team-a") == ["KeyError: 'sku'"]
    assert search(call, tokens, "assigned:none") == ["cache is cold"]
    assert search(call, tokens, "assigned:[me,none]", user="carol") == [
        "KeyError: 'sku'",
        "cache is cold",
    ]
    assert search(call, tokens, "is:assigned") == ["KeyError: 'sku'", "ValueError: bad value"]
    assert search(call, tokens, "assignee:my_teams") == ["KeyError: 'sku'"]


@pytest.mark.parametrize(
    "query, fragment",
    [
        ("is:sleeping", "is:sleeping"),
        ("firstSeen:yesterday", "Invalid date"),
        ("timesSeen:>many", "timesSeen"),
        ("release:", "no value"),
        ("a OR b", "OR"),
    ],
)
def test_bad_queries_are_400_with_a_reason(events_world, tokens, call, query, fragment):
    response = call("GET", PROJECT_ISSUES, tokens["alice"], data={"query": query})
    assert response.status_code == 400
    assert fragment in response.json()["detail"]


def test_parse_query_terms_and_text():
    parsed = parse_query('is:unresolved !browser:"Chrome 120" release:[1.0, 2.0] some words')
    assert [(t.key, t.values, t.negated) for t in parsed.terms] == [
        ("is", ("unresolved",), False),
        ("browser", ("Chrome 120",), True),
        ("release", ("1.0", "2.0"), False),
    ]
    assert parsed.text == "some words"
    with pytest.raises(QueryError):
        parse_query("a OR b")


def test_sorts_and_environment_parameter(events_world, tokens, call):
    world = events_world

    def by(sort):
        body = ok(call("GET", PROJECT_ISSUES, tokens["alice"], data={"sort": sort}))
        return [i["title"] for i in body]

    Issue.objects.filter(pk=world["message"].pk).update(
        last_seen=timezone.now() + timedelta(minutes=5)
    )
    Issue.objects.filter(pk=world["value_error"].pk).update(
        first_seen=timezone.now() - timedelta(days=5)
    )
    assert by("date")[0] == "cache is cold"
    assert by("freq")[0] == "ValueError: bad value"
    assert by("new")[-1] == "ValueError: bad value"
    assert by("user")[0] == "ValueError: bad value"  # the only one with a user
    assert by("priority") == by("date")
    assert call("GET", PROJECT_ISSUES, tokens["alice"], data={"sort": "random"}).status_code == 400
    staging = ok(call("GET", PROJECT_ISSUES + "?environment=staging", tokens["alice"]))
    assert titles(staging) == ["ValueError: bad value"]


def test_stats_buckets(events_world, tokens, call):
    body = ok(call("GET", PROJECT_ISSUES, tokens["alice"]))
    series = next(i for i in body if i["title"].startswith("ValueError"))["stats"]["24h"]
    assert len(series) == 24 and sum(n for _, n in series) == 3 and series[-1][1] == 3
    assert series[1][0] - series[0][0] == 3600
    body = ok(call("GET", PROJECT_ISSUES + "?statsPeriod=14d", tokens["alice"]))
    daily = next(i for i in body if i["title"].startswith("ValueError"))["stats"]["14d"]
    assert len(daily) == 14 and daily[1][0] - daily[0][0] == 86400
    assert daily[-1][1] == 3 and sum(n for _, n in daily) == 3  # the digest's day counts
    assert ok(call("GET", PROJECT_ISSUES + "?statsPeriod=", tokens["alice"]))[0]["stats"] is None
    assert call("GET", PROJECT_ISSUES + "?statsPeriod=90d", tokens["alice"]).status_code == 400
    collapsed = ok(call("GET", ORG_ISSUES + "?collapse=stats", tokens["alice"]))
    assert collapsed[0]["stats"] is None


LINK = re.compile(r'<([^>]*)>; rel="(\w+)"; results="(true|false)"; cursor="([^"]*)"')


def test_pagination_walks_every_issue_once(events_world, tokens, call, digest):
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]
    digest(
        [spooled(events_world["alpha"], {"message": f"{w} failed", "platform": "x"}) for w in words]
    )
    seen, cursor, pages = [], "", 0
    while True:
        response = call(
            "GET",
            PROJECT_ISSUES,
            tokens["alice"],
            data={"query": "", "per_page": 4, "cursor": cursor},
        )
        seen += [i["id"] for i in ok(response)]
        links = {
            rel: (results == "true", c) for _, rel, results, c in LINK.findall(response["Link"])
        }
        pages += 1
        if not links["next"][0]:
            break
        cursor = links["next"][1]
        assert pages < 10
    assert pages == 3 and len(seen) == 10 == len(set(seen))


def test_organization_list_spans_visible_projects_and_filters(events_world, tokens, call):
    world = events_world
    gamma = make_project("Gamma", team=world["team_a"])
    from bugsink_issues.digest import digest_batch

    digest_batch([spooled(gamma, {"message": "gamma thing", "platform": "python"})])
    assert len(ok(call("GET", ORG_ISSUES, tokens["alice"]))) == 4
    assert titles(ok(call("GET", ORG_ISSUES + "?project=" + str(gamma.pk), tokens["alice"]))) == [
        "gamma thing"
    ]
    assert titles(ok(call("GET", ORG_ISSUES + "?project=gamma", tokens["alice"]))) == [
        "gamma thing"
    ]
    assert len(ok(call("GET", ORG_ISSUES + "?project=-1", tokens["alice"]))) == 4
    # Another team's project id is no way in.
    assert ok(call("GET", ORG_ISSUES + f"?project={world['beta'].pk}", tokens["alice"])) == []
    assert titles(ok(call("GET", ORG_ISSUES, tokens["bob"]))) == ["SecretError: beta only"]
    assert len(ok(call("GET", ORG_ISSUES, tokens["root"]))) == 5
    # statsPeriod limits the search to issues seen within it.
    Issue.objects.filter(title="gamma thing").update(last_seen=timezone.now() - timedelta(days=3))
    assert len(ok(call("GET", ORG_ISSUES + "?statsPeriod=24h", tokens["alice"]))) == 3
    assert len(ok(call("GET", ORG_ISSUES + "?statsPeriod=14d", tokens["alice"]))) == 4
    assert call("GET", ORG_ISSUES + "?statsPeriod=soon", tokens["alice"]).status_code == 400
    assert call("GET", "/api/0/organizations/other/issues/", tokens["alice"]).status_code == 404


def test_issue_detail_by_id_and_short_id(events_world, tokens, call):
    world = events_world
    issue = world["value_error"]
    lifecycle.comment(issue, "looking into it", user=world["carol"])
    lifecycle.assign(issue, world["carol"], user=world["alice"])
    IssueSeen.objects.mark(issue, world["alice"])
    by_id = ok(call("GET", f"{ORG_ISSUES}{issue.pk}/", tokens["alice"]))
    by_short = ok(call("GET", f"{ORG_ISSUES}{issue.short_id}/", tokens["alice"]))
    legacy = ok(call("GET", f"/api/0/issues/{issue.short_id.lower()}/", tokens["alice"]))
    assert by_id["id"] == by_short["id"] == legacy["id"] == str(issue.pk)
    assert by_id["hasSeen"] is True
    assert ok(call("GET", f"{ORG_ISSUES}{issue.pk}/", tokens["carol"]))["hasSeen"] is False
    assert by_id["numComments"] == 1
    assert by_id["assignedTo"] == {
        "type": "user",
        "id": str(world["carol"].pk),
        "name": "carol",
        "email": None,
    }
    types = [a["type"] for a in by_id["activity"]]
    assert types == ["assigned", "note", "first_seen"]
    assert by_id["activity"][1]["data"]["text"] == "looking into it"
    assert by_id["firstRelease"]["version"] == "1.0" and by_id["lastRelease"]["version"] == "1.1"
    assert {t["key"]: t["totalValues"] for t in by_id["tags"]}["environment"] == 2
    assert by_id["userReportCount"] == 1
    assert [u["username"] for u in by_id["seenBy"]] == ["alice"]
    assert {u["username"] for u in by_id["participants"]} == {"alice", "carol"}


def test_short_id_lookup(events_world, tokens, call):
    issue = events_world["key_error"]
    body = ok(
        call("GET", f"/api/0/organizations/bugsink/shortids/{issue.short_id}/", tokens["carol"])
    )
    assert body["groupId"] == str(issue.pk) and body["projectSlug"] == "alpha"
    assert body["shortId"] == issue.short_id and body["group"]["title"] == "KeyError: 'sku'"
    assert (
        call("GET", "/api/0/organizations/bugsink/shortids/ALPHA-99/", tokens["carol"]).status_code
        == 404
    )
    beta = events_world["secret"].short_id
    assert (
        call("GET", f"/api/0/organizations/bugsink/shortids/{beta}/", tokens["carol"]).status_code
        == 404
    )


def test_status_words_in_answers(events_world, tokens, call):
    world = events_world
    lifecycle.resolve(world["value_error"], in_release="1.1")
    lifecycle.mute(world["key_error"], event_count=10, window_seconds=3600)
    lifecycle.mute(world["message"], for_seconds=600)
    body = {i["title"]: i for i in ok(call("GET", PROJECT_ISSUES + "?query=", tokens["alice"]))}
    resolved = body["ValueError: bad value"]
    assert (resolved["status"], resolved["substatus"], resolved["statusDetails"]) == (
        "resolved", None, {"inRelease": "1.1"}
    )  # fmt: skip
    counted = body["KeyError: 'sku'"]
    assert counted["status"] == "ignored" and counted["substatus"] == "archived_until_condition_met"
    assert counted["statusDetails"] == {"ignoreCount": 10, "ignoreWindow": 60}
    assert "ignoreUntil" in body["cache is cold"]["statusDetails"]
    assert search(call, tokens, "is:ignored") == ["KeyError: 'sku'", "cache is cold"]
    assert search(call, tokens, "is:muted") == search(call, tokens, "is:archived")
