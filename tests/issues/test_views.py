"""Test-client tests of every UI page and action, and of the access policy on each of them."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from bugsink_ingest.models import Project, ProjectKey
from bugsink_issues.models import AlertChannel, ApiToken, Event, Issue, IssueHistory
from bugsink_issues.models.access import Invitation, Team, TeamMembership
from tests.factories import make_project, make_team, make_user, python_exception, spooled

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


@pytest.fixture
def world(db, digest):
    alice = make_user("alice")  # admin of team A
    carol = make_user("carol")  # member of team A
    bob = make_user("bob")  # admin of team B only
    root = make_user("root", superuser=True)
    team_a = make_team("A", admins=[alice], members=[carol])
    team_b = make_team("B", admins=[bob])
    project_a = make_project("Alpha", team=team_a)
    project_b = make_project("Beta", team=team_b)
    key = ProjectKey.objects.create(project=project_a)
    digest(
        [
            spooled(project_a, python_exception("ValueError", "first", release="1.0")),
            spooled(project_a, python_exception("ValueError", "second", release="1.1")),
            spooled(project_a, python_exception("KeyError", "k", frames=(("app.models", "save"),))),
        ]
    )
    channel = AlertChannel.objects.create(
        project=project_a, kind="webhook", target="http://127.0.0.1:9/x"
    )
    issue = Issue.objects.filter(project=project_a, title__startswith="ValueError").get()
    event = issue.events.order_by("issue_sequence").first()
    invitation = Invitation.objects.create(team=team_a, email="x@example.com", invited_by=alice)
    return {
        "alice": alice,
        "carol": carol,
        "bob": bob,
        "root": root,
        "team": team_a,
        "team_b": team_b,
        "project": project_a,
        "project_b": project_b,
        "key": key,
        "issue": issue,
        "event": event,
        "channel": channel,
        "membership": TeamMembership.objects.get(user=carol),
        "invitation": invitation,
    }


def login(client, user):
    client.force_login(user)
    return client


def test_login_required_everywhere_respects_login_url(client, world, settings):
    settings.LOGIN_URL = "/host-login/"
    response = client.get(reverse("bugsink_issues:projects"))
    assert response.status_code == 302
    assert response["Location"].startswith("/host-login/?next=")


def test_login_page_standalone(client, world):
    response = client.get(reverse("bugsink_issues:login"))
    assert response.status_code == 200
    response = client.post(reverse("bugsink_issues:login"), {"username": "alice", "password": "pw"})
    assert response.status_code == 302


def test_pages_render_for_a_member(client, world):
    # The invitation's join page opens only for its address (tests/accounts test the rest).
    world["alice"].email = world["invitation"].email
    world["alice"].save(update_fields=["email"])
    login(client, world["alice"])
    p, i, e = world["project"], world["issue"], world["event"]
    urls = [
        reverse("bugsink_issues:projects"),
        reverse("bugsink_issues:project_create"),
        reverse("bugsink_issues:project_issues", args=[p.pk]),
        reverse("bugsink_issues:project_setup", args=[p.pk]),
        reverse("bugsink_issues:project_settings", args=[p.pk]),
        reverse("bugsink_issues:all_issues"),
        reverse("bugsink_issues:issue", args=[i.pk]),
        reverse("bugsink_issues:event", args=[i.pk, e.pk]),
        reverse("bugsink_issues:teams"),
        reverse("bugsink_issues:team", args=[world["team"].pk]),
        reverse("bugsink_issues:preferences"),
        reverse("bugsink_issues:invitation", args=[world["invitation"].token]),
    ]
    urls += [
        reverse("bugsink_issues:issue", args=[i.pk]) + f"?tab={t}"
        for t in ("details", "breadcrumbs", "tags", "events", "history", "grouping")
    ]
    urls.append(reverse("bugsink_issues:issue", args=[i.pk]) + "?tab=stacktrace&frames=all")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url


def test_project_list_shows_only_own_projects(client, world):
    body = login(client, world["bob"]).get(reverse("bugsink_issues:projects")).content.decode()
    assert "Beta" in body and "Alpha" not in body
    body = login(client, world["root"]).get(reverse("bugsink_issues:projects")).content.decode()
    assert "Beta" in body and "Alpha" in body


def test_all_issues_only_visible_ones(client, world, digest):
    digest([spooled(world["project_b"], python_exception("SecretError", "beta only"))])
    body = login(client, world["alice"]).get(reverse("bugsink_issues:all_issues")).content.decode()
    assert "ValueError" in body and "SecretError" not in body
    body = login(client, world["bob"]).get(reverse("bugsink_issues:all_issues")).content.decode()
    assert "SecretError" in body and "ValueError" not in body


def test_issue_list_filters_search_and_sort(client, world):
    login(client, world["alice"])
    url = reverse("bugsink_issues:project_issues", args=[world["project"].pk])
    assert "KeyError" in client.get(url, {"q": "KeyError"}).content.decode()
    assert "ValueError" not in client.get(url, {"q": "KeyError"}).content.decode()
    body = client.get(url, {"q": "release:1.1"}).content.decode()
    assert "ValueError" in body and "KeyError" not in body
    assert "ValueError" not in client.get(url, {"q": "release:9.9"}).content.decode()
    assert "ValueError" in client.get(url, {"q": "level:error"}).content.decode()
    assert "ValueError" not in client.get(url, {"q": "level:info"}).content.decode()
    assert "ValueError" not in client.get(url, {"status": "resolved"}).content.decode()
    assert "ValueError" not in client.get(url, {"q": "is:muted"}).content.decode()
    for sort in ("last_seen", "first_seen", "events", "bogus"):
        assert client.get(url, {"sort": sort, "status": "all"}).status_code == 200
    # Broken input is shown back, never a 500.
    assert client.get(url, {"q": 'release:"unterminated', "after": "garbage~x"}).status_code == 200


def test_keyset_pagination_walks_every_issue_once(client, world, digest, monkeypatch):
    from bugsink_issues.ui import search as issue_search

    monkeypatch.setattr(issue_search, "PAGE_SIZE", 2)
    digest([spooled(world["project"], python_exception(f"E{n}Error", "x")) for n in range(5)])
    login(client, world["alice"])
    url = reverse("bugsink_issues:project_issues", args=[world["project"].pk])
    for sort in ("last_seen", "first_seen", "events"):
        seen, params = [], {"sort": sort}
        for _ in range(10):
            response = client.get(url, params)
            seen += [issue.pk for issue, _spark in response.context["rows"]]
            if not response.context["next_cursor"]:
                break
            params = {"sort": sort, "after": response.context["next_cursor"]}
        assert sorted(seen) == sorted(
            Issue.objects.filter(project=world["project"]).values_list("pk", flat=True)
        )


def test_issue_actions(client, world):
    login(client, world["carol"])  # members may triage
    issue = world["issue"]
    url = reverse("bugsink_issues:issue_action", args=[issue.pk])
    assert client.post(url, {"action": "resolve", "comment": "fixed"}).status_code == 302
    issue.refresh_from_db()
    assert issue.status == "resolved"
    assert IssueHistory.objects.filter(
        issue=issue, kind="resolved", user=world["carol"], comment="fixed"
    ).exists()
    client.post(url, {"action": "reopen"})
    issue.refresh_from_db()
    assert issue.status == "unresolved"
    client.post(url, {"action": "mute", "period": "1h"})
    issue.refresh_from_db()
    assert issue.status == "muted" and issue.muted_until is not None
    client.post(url, {"action": "unmute"})
    issue.refresh_from_db()
    assert issue.status == "unresolved"
    client.post(url, {"action": "resolve_in", "release": "2.0"})
    issue.refresh_from_db()
    assert issue.status == "resolved" and issue.resolved_in_release == "2.0"
    client.post(url, {"action": "resolve_next"})
    issue.refresh_from_db()
    assert issue.resolve_in_next_release
    response = client.post(url, {"action": "explode"}, follow=True)
    assert "Unknown action" in response.content.decode()
    assert client.get(url).status_code == 405
    client.post(url, {"action": "delete"})
    assert not Issue.objects.filter(pk=issue.pk).exists()


def test_bulk_actions_only_touch_visible_issues(client, world, digest):
    digest([spooled(world["project_b"], python_exception("SecretError", "beta"))])
    other = Issue.objects.get(project=world["project_b"])
    mine = list(Issue.objects.filter(project=world["project"]))
    login(client, world["alice"])
    ids = [str(i.pk) for i in mine] + [str(other.pk)]
    response = client.post(
        reverse("bugsink_issues:bulk_action"),
        {"issue": ids, "action": "resolve", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and "evil" not in response["Location"]
    assert set(Issue.objects.filter(project=world["project"]).values_list("status", flat=True)) == {
        "resolved"
    }
    other.refresh_from_db()
    assert other.status == "unresolved"
    for action in ("mute", "reopen", "delete"):
        client.post(reverse("bugsink_issues:bulk_action"), {"issue": ids, "action": action})
    assert not Issue.objects.filter(project=world["project"]).exists()
    assert Issue.objects.filter(pk=other.pk).exists()


def test_bulk_action_is_all_or_nothing(client, world, digest, django_capture_on_commit_callbacks):
    from django.db import DatabaseError, connection

    if connection.vendor != "sqlite":
        pytest.skip("the failure is injected with an SQLite trigger")
    digest([spooled(world["project"], python_exception(f"Extra{i}")) for i in range(2)])
    issues = list(Issue.objects.filter(project=world["project"]).order_by("pk"))
    assert len(issues) == 4
    # A real database failure on the last issue the action reaches (the view goes in pk order).
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TRIGGER refuse_last BEFORE UPDATE ON {Issue._meta.db_table} "
            f"WHEN NEW.id = {issues[-1].pk} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    login(client, world["carol"])
    history = IssueHistory.objects.count()
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(DatabaseError, match="refused by the test"):
                client.post(
                    reverse("bugsink_issues:bulk_action"),
                    {"issue": [str(i.pk) for i in issues], "action": "resolve"},
                )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse_last")
    # Three issues were resolved before the fourth failed: all four are as they were.
    assert set(Issue.objects.filter(project=world["project"]).values_list("status", flat=True)) == {
        "unresolved"
    }
    assert IssueHistory.objects.count() == history
    assert callbacks == []  # no signal (and so no alert) for what was undone
    response = client.post(
        reverse("bugsink_issues:bulk_action"),
        {"issue": [str(i.pk) for i in issues], "action": "resolve"},
        follow=True,
    )
    assert "Resolve: 4 issue(s)." in response.content.decode()
    assert set(Issue.objects.filter(project=world["project"]).values_list("status", flat=True)) == {
        "resolved"
    }


def test_comment(client, world):
    login(client, world["carol"])
    url = reverse("bugsink_issues:issue_comment", args=[world["issue"].pk])
    client.post(url, {"comment": HOSTILE})
    assert IssueHistory.objects.filter(kind="comment", comment=HOSTILE).exists()
    body = client.get(
        reverse("bugsink_issues:issue", args=[world["issue"].pk]) + "?tab=history"
    ).content.decode()
    assert "<script>window.__pwned" not in body and "&lt;script&gt;" in body


def test_exports(client, world):
    login(client, world["alice"])
    i, e = world["issue"], world["event"]
    raw = client.get(reverse("bugsink_issues:event_export", args=[i.pk, e.pk, "json"]))
    assert raw["Content-Type"].startswith("application/json")
    assert json.loads(raw.content)["exception"]["values"][0]["type"] == "ValueError"
    md = client.get(
        reverse("bugsink_issues:event_export", args=[i.pk, e.pk, "md"])
    ).content.decode()
    assert "ValueError" in md and "app/views.py" in md
    md = client.get(reverse("bugsink_issues:issue_export", args=[i.pk, "md"]) + "?download=1")
    assert "attachment" in md["Content-Disposition"]
    assert md.content.decode().startswith("## ValueError")
    data = json.loads(
        client.get(reverse("bugsink_issues:issue_export", args=[i.pk, "json"])).content
    )
    assert data["event_count"] == 2 and data["latest_event"]["release"] == "1.1"
    assert (
        client.get(reverse("bugsink_issues:issue_export", args=[i.pk, "html"])).status_code == 404
    )


def test_event_navigation(client, world):
    login(client, world["alice"])
    issue = world["issue"]
    first, second = issue.events.order_by("issue_sequence")
    response = client.get(reverse("bugsink_issues:event", args=[issue.pk, first.pk]))
    nav = response.context["nav"]
    assert nav["first"].pk == first.pk and nav["prev"] is None
    assert nav["next"].pk == second.pk and nav["last"].pk == second.pk
    response = client.get(reverse("bugsink_issues:issue", args=[issue.pk]))
    assert response.context["event"].pk == second.pk
    url = reverse("bugsink_issues:event_by_id", args=[issue.pk, first.event_id])
    assert client.get(url)["Location"].endswith(f"/events/{first.pk}/")
    events = client.get(
        reverse("bugsink_issues:issue", args=[issue.pk]), {"tab": "events", "eq": "1.0"}
    )
    assert [e.pk for e in events.context["events"]] == [first.pk]


def test_project_create_settings_keys_channels(client, world, monkeypatch):
    login(client, world["alice"])
    response = client.post(
        reverse("bugsink_issues:project_create"), {"name": "Gamma", "team": world["team"].pk}
    )
    gamma = Project.objects.get(name="Gamma")
    assert gamma.team_link.team == world["team"] and gamma.keys.count() == 1
    body = client.get(response["Location"]).content.decode()
    assert f"@testserver/{gamma.pk}" in body or f"/{gamma.pk}</code>" in body
    # Bob (another team's admin) may not put a project in team A.
    login(client, world["bob"])
    client.post(
        reverse("bugsink_issues:project_create"), {"name": "Sneaky", "team": world["team"].pk}
    )
    assert not Project.objects.filter(name="Sneaky").exists()
    # Carol is a member, not an admin: 403 on settings (she can see the project).
    login(client, world["carol"])
    assert (
        client.get(reverse("bugsink_issues:project_settings", args=[gamma.pk])).status_code == 403
    )
    assert client.get(reverse("bugsink_issues:project_create")).status_code == 403
    login(client, world["alice"])
    url = reverse("bugsink_issues:project_settings", args=[gamma.pk])
    client.post(
        url,
        {
            "project-name": "Gamma 2",
            "project-rate_limit_per_minute": "60",
            "settings-retention_max_events": "500",
            "settings-grouping_version": "1",
            "settings-alerts_enabled": "on",
        },
    )
    gamma.refresh_from_db()
    assert gamma.name == "Gamma 2" and gamma.issue_settings.retention_max_events == 500
    bad = client.post(url, {"project-name": "", "settings-grouping_version": "99"})
    assert bad.status_code == 200 and "Known versions" in bad.content.decode()
    client.post(reverse("bugsink_issues:project_key_create", args=[gamma.pk]), {"label": "ci"})
    assert gamma.keys.count() == 2
    key = gamma.keys.get(label="ci")
    client.post(reverse("bugsink_issues:project_key_deactivate", args=[gamma.pk, key.pk]))
    key.refresh_from_db()
    assert not key.is_active
    client.post(
        reverse("bugsink_issues:channel_create", args=[gamma.pk]),
        {
            "channel-kind": "webhook",
            "channel-target": "https://hooks.example.com/hook",
            "channel-on_new_issue": "on",
        },
    )
    channel = AlertChannel.objects.get(project=gamma)
    sent = []
    import bugsink_issues.alerts as alerts

    monkeypatch.setattr(
        alerts,
        "send_test",
        lambda ch: sent.append(ch) or type("D", (), {"status": "sent", "error": ""})(),
    )
    body = client.post(
        reverse("bugsink_issues:channel_test", args=[gamma.pk, channel.pk]), follow=True
    ).content.decode()
    assert sent == [channel] and "Test alert: sent" in body
    client.post(reverse("bugsink_issues:channel_delete", args=[gamma.pk, channel.pk]))
    assert not AlertChannel.objects.filter(project=gamma).exists()


def test_send_test_really_delivers_a_refusal_for_a_private_target(client, world):
    # The real send_test: the default policy refuses loopback targets, and the page says so.
    login(client, world["alice"])
    url = reverse("bugsink_issues:channel_test", args=[world["project"].pk, world["channel"].pk])
    body = client.post(url, follow=True).content.decode()
    assert "Test alert: refused" in body


def test_teams_members_invitations_preferences(client, world):
    User = get_user_model()
    dave = User.objects.create_user("dave", email="d@example.com", password="pw")
    login(client, world["alice"])
    team = world["team"]
    client.post(
        reverse("bugsink_issues:member_add", args=[team.pk]), {"user": "dave", "role": "member"}
    )
    assert TeamMembership.objects.filter(team=team, user=dave).exists()
    body = client.post(
        reverse("bugsink_issues:member_add", args=[team.pk]),
        {"user": "nobody", "role": "member"},
        follow=True,
    ).content.decode()
    assert "No user with that username" in body
    m = TeamMembership.objects.get(team=team, user=dave)
    client.post(reverse("bugsink_issues:member_change", args=[team.pk, m.pk]), {"action": "admin"})
    m.refresh_from_db()
    assert m.role == "admin"
    client.post(reverse("bugsink_issues:member_change", args=[team.pk, m.pk]), {"action": "remove"})
    assert not TeamMembership.objects.filter(pk=m.pk).exists()
    # The last admin stays.
    own = TeamMembership.objects.get(team=team, user=world["alice"])
    client.post(
        reverse("bugsink_issues:member_change", args=[team.pk, own.pk]), {"action": "member"}
    )
    own.refresh_from_db()
    assert own.role == "admin"
    client.post(
        reverse("bugsink_issues:invitation_create", args=[team.pk]),
        {"email": "d@example.com", "role": "member"},
    )
    invitation = Invitation.objects.get(email="d@example.com")
    login(client, dave)
    assert (
        client.get(reverse("bugsink_issues:project_issues", args=[world["project"].pk])).status_code
        == 404
    )
    client.post(reverse("bugsink_issues:invitation", args=[invitation.token]))
    assert (
        client.get(reverse("bugsink_issues:project_issues", args=[world["project"].pk])).status_code
        == 200
    )
    # Used: its acceptor is sent to the team (tests/accounts: anyone else gets a 410).
    assert (
        client.get(reverse("bugsink_issues:invitation", args=[invitation.token])).status_code == 302
    )
    # Carol (member) may not manage the team.
    login(client, world["carol"])
    assert (
        client.post(
            reverse("bugsink_issues:member_add", args=[team.pk]),
            {"user": "dave", "role": "admin"},
        ).status_code
        == 403
    )
    assert client.post(reverse("bugsink_issues:teams"), {"name": "Mine"}).status_code == 403
    login(client, world["root"])
    client.post(reverse("bugsink_issues:teams"), {"name": "New team"})
    assert Team.objects.filter(name="New team", memberships__user=world["root"]).exists()
    # Preferences: time zone and theme.
    login(client, world["carol"])
    url = reverse("bugsink_issues:preferences")
    bad = client.post(url, {"time_zone": "Mars/Olympus", "theme": "dark"})
    assert "Unknown time zone" in bad.content.decode()
    client.post(url, {"time_zone": "Asia/Tokyo", "theme": "dark"})
    body = client.get(reverse("bugsink_issues:issue", args=[world["issue"].pk])).content.decode()
    assert 'data-theme="dark"' in body and "JST" in body


def test_csrf_enforced(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world["alice"])
    url = reverse("bugsink_issues:issue_action", args=[world["issue"].pk])
    assert client.post(url, {"action": "resolve"}).status_code == 403
    page = client.get(reverse("bugsink_issues:issue", args=[world["issue"].pk])).content.decode()
    assert page.count("csrfmiddlewaretoken") >= 3


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if getattr(p, "namespace", None) in (None, "bugsink_issues"):
                yield from _patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name and resolver.namespace == "bugsink_issues":
            yield p


ID_ARGS = {
    "project_id": lambda w: w["project"].pk,
    "issue_id": lambda w: w["issue"].pk,
    "event_pk": lambda w: w["event"].pk,
    "key_id": lambda w: w["key"].pk,
    "channel_id": lambda w: w["channel"].pk,
    "team_id": lambda w: w["team"].pk,
    "membership_id": lambda w: w["membership"].pk,
    "invitation_id": lambda w: w["invitation"].pk,
    "event_id": lambda w: w["event"].event_id,
    "fmt": lambda w: "json",
    # The Releases page's and the API tokens' rows (made here: the world has none of them).
    "release_id": lambda w: w["project"].releases.first().pk,
    "bundle_id": lambda w: _bundle_of(w["project"]).pk,
    "file_id": lambda w: _bundle_of(w["project"]).files.first().pk,
    "token_id": lambda w: ApiToken.objects.create_user_token(w["alice"])[0].pk,
    "attachment_id": lambda w: _attachment_of(w["event"]).pk,
}


def _attachment_of(event):
    from bugsink_issues.models import EventAttachment

    return EventAttachment.objects.get_or_create(
        event=event, filename="a.txt", defaults={"size": 0}
    )[0]


def _bundle_of(project):
    from bugsink_issues.models import ArtifactBundle, ArtifactFile

    bundle, created = ArtifactBundle.objects.get_or_create(checksum="0" * 40)
    if created:
        bundle.projects.add(project)
        ArtifactFile.objects.create(
            project=project, bundle=bundle, kind="source_map", url="~/a.js.map", checksum="1" * 40
        )
    return bundle


# Reachable by anyone logged in by design: the token is the secret (an unguessable invitation).
PUBLIC_BY_TOKEN = {"invitation"}


def test_every_url_with_an_id_is_closed_to_another_team(client, world):
    """Walk ALL url patterns of the UI: each one with an id answers 404 (or 403) to bob, who is in
    another team, for GET and POST, and changes nothing. A new URL cannot escape this test."""
    checked = []
    login(client, world["bob"])
    for pattern in _patterns():
        params = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
        if not params or pattern.name in PUBLIC_BY_TOKEN:
            continue
        missing = [p for p in params if p not in ID_ARGS]
        assert not missing, f"{pattern.name}: add {missing} to ID_ARGS"
        url = reverse(
            f"bugsink_issues:{pattern.name}", kwargs={p: ID_ARGS[p](world) for p in params}
        )
        for method in (client.get, client.post):
            status = method(
                url,
                {"action": "delete", "user": "bob", "role": "admin", "team": world["team_b"].pk},
            ).status_code
            assert status in (404, 405), f"{pattern.name} {method.__name__} {url}: {status}"
        checked.append(pattern.name)
    assert len(checked) >= 15
    # Nothing changed.
    assert Issue.objects.filter(pk=world["issue"].pk, status="unresolved").exists()
    assert not TeamMembership.objects.filter(team=world["team"], user=world["bob"]).exists()
    assert AlertChannel.objects.filter(pk=world["channel"].pk).exists()


def test_invitation_token_is_not_guessable_and_unknown_is_404(client, world):
    login(client, world["bob"])
    assert len(world["invitation"].token) >= 30
    assert client.get(reverse("bugsink_issues:invitation", args=["nope"])).status_code == 404


def test_event_of_another_issue_is_404(client, world, digest):
    digest([spooled(world["project_b"], python_exception("SecretError", "beta"))])
    foreign = Event.objects.get(project=world["project_b"])
    login(client, world["alice"])
    url = reverse("bugsink_issues:event", args=[world["issue"].pk, foreign.pk])
    assert client.get(url).status_code == 404
    url = reverse("bugsink_issues:event_export", args=[world["issue"].pk, foreign.pk, "json"])
    assert client.get(url).status_code == 404


def test_hostile_payload_is_escaped(client, world, digest):
    payload = python_exception("ValueError", HOSTILE, release=HOSTILE[:200])
    frame = payload["exception"]["values"][0]["stacktrace"]["frames"][0]
    frame.update(vars={"x": HOSTILE}, pre_context=[HOSTILE], context_line=HOSTILE, function=HOSTILE)
    payload.update(
        message=HOSTILE,
        tags={"evil": HOSTILE},
        breadcrumbs={
            "values": [{"message": HOSTILE, "category": HOSTILE, "data": {HOSTILE: HOSTILE}}]
        },
        request={"url": "http://x/", "headers": {"X-Evil": HOSTILE}},
        user={"id": HOSTILE},
        extra={HOSTILE: HOSTILE},
        contexts={"os": {"name": HOSTILE}},
    )
    digest([spooled(world["project"], payload)])
    issue = Issue.objects.get(project=world["project"], title__contains="<script>")
    login(client, world["alice"])
    pages = [reverse("bugsink_issues:project_issues", args=[world["project"].pk])]
    pages += [
        reverse("bugsink_issues:issue", args=[issue.pk]) + f"?tab={t}&frames=all"
        for t in ("stacktrace", "details", "breadcrumbs", "tags", "events", "history", "grouping")
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert "<script>window" not in body, url
        assert "<img src=x" not in body, url
    body = client.get(pages[1]).content.decode()
    assert "&lt;script&gt;" in body


def test_every_sample_renders_on_the_issue_page(client, world, digest):
    """All 161 samples, digested for real, render on every event tab without an error."""
    from tests.factories import sample_paths

    paths = sample_paths()
    assert len(paths) == 161
    events = [spooled(world["project"], p.read_bytes()) for p in paths]
    digest(events)
    login(client, world["alice"])
    rendered = 0
    for spooled_event in events:
        event = Event.objects.filter(
            project=world["project"], event_id=spooled_event.event_id
        ).first()
        if event is None:
            continue  # a feedback-shaped sample or a duplicate event id: no event of its own
        for tab in ("stacktrace", "details", "breadcrumbs"):
            url = reverse("bugsink_issues:event", args=[event.issue_id, event.pk])
            response = client.get(url, {"tab": tab, "frames": "all"})
            assert response.status_code == 200, (spooled_event, tab)
        md = client.get(
            reverse("bugsink_issues:event_export", args=[event.issue_id, event.pk, "md"])
        )
        assert md.status_code == 200
        rendered += 1
    assert rendered >= 150


def test_sparklines_and_chart_count_events_per_day(client, world, digest):
    from datetime import UTC, datetime, timedelta

    from bugsink_issues.ui.volume import daily_counts

    issue = world["issue"]
    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    payload = python_exception("ValueError", "third", timestamp=three_days_ago)
    digest([spooled(world["project"], payload)])
    counts = daily_counts("issue_id", [issue.pk], 14)[issue.pk]
    assert counts[-1] == 2 and counts[-4] == 1 and sum(counts) == 3
    login(client, world["alice"])
    body = client.get(
        reverse("bugsink_issues:project_issues", args=[world["project"].pk])
    ).content.decode()
    assert 'aria-label="3 events in 14 days"' in body
    body = client.get(reverse("bugsink_issues:issue", args=[issue.pk])).content.decode()
    assert 'aria-label="3 events in 30 days"' in body


def test_library_frames_unhighlighted_by_default_and_still_escaped(client, world, digest):
    payload = python_exception(
        "LibError", "x", frames=(("lib.core", "run"), ("app.views", "index"))
    )
    frames = payload["exception"]["values"][0]["stacktrace"]["frames"]
    frames[0].update(in_app=False, context_line=HOSTILE, pre_context=["import os"])
    digest([spooled(world["project"], payload)])
    issue = Issue.objects.get(project=world["project"], title__startswith="LibError")
    login(client, world["alice"])
    url = reverse("bugsink_issues:issue", args=[issue.pk])
    default = client.get(url).content.decode()
    assert "library frames hidden" in default and "<script>window" not in default
    everything = client.get(url, {"frames": "all"}).content.decode()
    assert "__pwned" in everything and "<script>window" not in everything
    assert '<span class="kn">import</span>' in everything  # Pygments ran on the library frame
