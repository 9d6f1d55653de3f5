"""Teams, members and project keys through the API: what the caller sees in the UI, no more."""

from bugsink_ingest.models import ProjectKey
from bugsink_issues.models import ApiToken
from tests.api.issue_fixtures import *  # noqa: F403 (fixtures)

ORG = "/api/0/organizations/bugsink"


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def test_teams_a_member_sees(events_world, tokens, call):
    (team,) = ok(call("GET", f"{ORG}/teams/", tokens["carol"]))
    assert team["slug"] == "team-a" and team["name"] == "Team A"
    assert team["isMember"] is True and team["teamRole"] == "contributor"
    assert team["memberCount"] == 2
    assert [p["slug"] for p in team["projects"]] == ["alpha"]
    assert "project:write" not in team["access"]
    (admin_view,) = ok(call("GET", f"{ORG}/teams/", tokens["alice"]))
    assert admin_view["teamRole"] == "admin" and "project:write" in admin_view["access"]
    root_view = ok(call("GET", f"{ORG}/teams/", tokens["root"]))
    assert [t["slug"] for t in root_view] == ["team-a", "team-b"]
    assert all(t["isMember"] is False for t in root_view)


def test_team_detail_projects_and_members(events_world, tokens, call):
    world = events_world
    detail = ok(call("GET", "/api/0/teams/bugsink/team-a/", tokens["carol"]))
    assert detail["id"] == str(world["team_a"].pk)
    assert (
        ok(call("GET", f"/api/0/teams/bugsink/{world['team_a'].pk}/", tokens["carol"]))["slug"]
        == "team-a"
    )
    projects = ok(call("GET", "/api/0/teams/bugsink/team-a/projects/", tokens["carol"]))
    assert [p["slug"] for p in projects] == ["alpha"]
    members = ok(call("GET", "/api/0/teams/bugsink/team-a/members/", tokens["carol"]))
    assert {m["user"]["username"]: m["teamRoles"][0]["role"] for m in members} == {
        "alice": "admin",
        "carol": "contributor",
    }
    for path in ("team-b/", "team-b/projects/", "team-b/members/", "nope/"):
        assert call("GET", f"/api/0/teams/bugsink/{path}", tokens["carol"]).status_code == 404
    teams = ok(call("GET", "/api/0/projects/bugsink/alpha/teams/", tokens["carol"]))
    assert [t["slug"] for t in teams] == ["team-a"]
    assert call("GET", "/api/0/projects/bugsink/beta/teams/", tokens["carol"]).status_code == 404


def test_organization_members(events_world, tokens, call):
    world = events_world
    world["alice"].email = "alice@example.com"
    world["alice"].save()
    members = ok(call("GET", f"{ORG}/members/", tokens["carol"]))
    assert [m["user"]["username"] for m in members] == ["alice", "carol"]
    alice = members[0]
    assert alice["id"] == str(world["alice"].pk) and alice["email"] == "alice@example.com"
    assert alice["teams"] == ["team-a"] and alice["orgRole"] == "member"
    one = ok(call("GET", f"{ORG}/members/{world['alice'].pk}/", tokens["carol"]))
    assert one["email"] == "alice@example.com"
    assert ok(call("GET", f"{ORG}/members/me/", tokens["carol"]))["user"]["username"] == "carol"
    # bob is in another team: not a member carol can see.
    assert call("GET", f"{ORG}/members/{world['bob'].pk}/", tokens["carol"]).status_code == 404
    assert [m["user"]["username"] for m in ok(call("GET", f"{ORG}/members/", tokens["bob"]))] == [
        "bob"
    ]
    reader = ApiToken.objects.create_user_token(world["carol"], scopes=["event:read"])[1]
    response = call("GET", f"{ORG}/members/", reader)
    assert response.status_code == 403 and "member:read" in response.json()["detail"]


def test_project_keys(events_world, tokens, call, settings):
    settings.BUGSINK_INGEST_BASE_URL = "https://errors.example.com"
    world = events_world
    key = world["alpha_key"]
    (listed,) = ok(call("GET", "/api/0/projects/bugsink/alpha/keys/", tokens["carol"]))
    assert listed["id"] == listed["public"] == key.public_key
    assert listed["name"] == "web" and listed["isActive"] is True
    assert listed["projectId"] == world["alpha"].pk
    dsn = f"https://{key.public_key}@errors.example.com/{world['alpha'].pk}"
    assert listed["dsn"]["public"] == dsn
    assert listed["dsn"]["security"] == (
        f"https://errors.example.com/api/{world['alpha'].pk}/security/?sentry_key={key.public_key}"
    )
    detail = ok(
        call("GET", f"/api/0/projects/bugsink/alpha/keys/{key.public_key}/", tokens["carol"])
    )
    assert detail == listed
    assert (
        call(
            "GET",
            f"/api/0/projects/bugsink/alpha/keys/{world['beta_key'].public_key}/",
            tokens["carol"],
        ).status_code
        == 404
    )
    assert call("GET", "/api/0/projects/bugsink/beta/keys/", tokens["carol"]).status_code == 404
    key.is_active = False
    key.save()
    assert (
        ok(call("GET", "/api/0/projects/bugsink/alpha/keys/?status=active", tokens["carol"])) == []
    )


def test_making_a_key_takes_a_team_admin(events_world, tokens, call):
    path = "/api/0/projects/bugsink/alpha/keys/"
    response = call("POST", path, tokens["carol"], {"name": "mobile"})
    assert response.status_code == 403 and "admins" in response.json()["detail"]
    made = ok(call("POST", path, tokens["alice"], {"name": "mobile"}), 201)
    assert made["name"] == "mobile"
    assert ProjectKey.objects.filter(project=events_world["alpha"], label="mobile").count() == 1
    reader = ApiToken.objects.create_user_token(events_world["alice"], scopes=["project:read"])[1]
    assert call("POST", path, reader, {"name": "x"}).status_code == 403
