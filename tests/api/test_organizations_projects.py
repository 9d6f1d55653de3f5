"""The skeleton's endpoints: GET /api/0/, /auth/, organizations, projects; pagination."""

import re

import pytest

from bugsink_issues.models import ApiToken
from tests.factories import make_project, make_team


@pytest.fixture
def alice_token(world):
    return ApiToken.objects.create_user_token(world["alice"])[1]


def get(client, path, token):
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].split(";")[0] == "application/json"
    return response


def test_index_tells_who_is_calling(client, world, alice_token):
    world["alice"].email = "alice@example.com"
    world["alice"].save()
    body = get(client, "/api/0/", alice_token).json()
    assert body["version"] == "0"
    assert "project:releases" in body["auth"]["scopes"]
    assert body["user"]["email"] == "alice@example.com"
    assert body["user"]["id"] == str(world["alice"].pk)
    # Without credentials: nulls, as sentry-cli `info` expects.
    anonymous = client.get("/api/0/")
    assert anonymous.status_code == 200
    assert anonymous.json() == {"version": "0", "auth": None, "user": None}
    assert client.get("/api/0/", headers={"Authorization": "Bearer bad"}).status_code == 401


def test_auth_endpoint_returns_the_user(client, world, alice_token):
    body = get(client, "/api/0/auth/", alice_token).json()
    assert {"id", "name", "email"} <= set(body)
    assert body["username"] == "alice"


def test_organization_list_and_detail(client, world, alice_token, settings):
    settings.BUGSINK_ISSUES_BASE_URL = "https://errors.example.com/"
    settings.BUGSINK_ISSUES_ORGANIZATION_SLUG = "acme"
    settings.BUGSINK_ISSUES_ORGANIZATION_NAME = "Acme Inc."
    (org,) = get(client, "/api/0/organizations/", alice_token).json()
    # What sentry-cli 2.x and 3.x refuse to do without.
    for field in ("id", "slug", "name", "dateCreated", "isEarlyAdopter", "require2FA"):
        assert field in org
    assert org["features"] == [] and org["requireEmailVerification"] is False
    assert org["slug"] == "acme" and org["name"] == "Acme Inc."
    assert org["links"] == {
        "organizationUrl": "https://errors.example.com",
        "regionUrl": "https://errors.example.com",
    }
    detail = get(client, "/api/0/organizations/acme/", alice_token).json()
    assert detail["links"]["regionUrl"] == "https://errors.example.com"
    assert (
        client.get(
            "/api/0/organizations/bugsink/", headers={"Authorization": f"Bearer {alice_token}"}
        ).status_code
        == 404
    )


def test_region_url_falls_back_to_the_request(client, world, alice_token, settings):
    settings.BUGSINK_ISSUES_BASE_URL = ""
    org = get(client, "/api/0/organizations/bugsink/", alice_token).json()
    assert org["links"]["regionUrl"] == "http://testserver"


def test_project_fields(client, world, alice_token):
    (project,) = get(client, "/api/0/organizations/bugsink/projects/", alice_token).json()
    assert project["slug"] == "alpha" and project["name"] == "Alpha"
    assert project["id"] == str(world["alpha"].pk)
    assert project["team"] == {"id": str(world["team_a"].pk), "slug": "team-a", "name": "Team A"}
    assert project["isMember"] is True
    assert project["firstEvent"] is None
    detail = get(client, "/api/0/projects/bugsink/alpha/", alice_token).json()
    assert detail["organization"]["slug"] == "bugsink"
    assert detail["teams"] == [project["team"]]
    root_token = ApiToken.objects.create_user_token(world["root"])[1]
    root_view = get(client, "/api/0/projects/bugsink/orphan/", root_token).json()
    assert root_view["team"] is None and root_view["isMember"] is False


LINK = re.compile(r'<([^>]*)>; rel="(\w+)"; results="(true|false)"; cursor="([^"]*)"')


def parse_link(header):
    links = {
        rel: (url, results == "true", cursor) for url, rel, results, cursor in LINK.findall(header)
    }
    assert set(links) == {"previous", "next"}, header
    return links


def test_pagination_link_header_walks_every_project_once(client, world, alice_token, settings):
    settings.BUGSINK_ISSUES_BASE_URL = "https://errors.example.com"
    for n in range(6):
        make_project(f"Extra {n}", team=world["team_a"])
    make_project("Hidden", team=make_team("C"))
    seen, cursor, pages = [], "", 0
    while True:
        response = get(
            client,
            f"/api/0/organizations/bugsink/projects/?per_page=3&cursor={cursor}",
            alice_token,
        )
        links = parse_link(response["Link"])
        seen += [p["slug"] for p in response.json()]
        previous_url, has_previous, previous_cursor = links["previous"]
        assert has_previous is (pages > 0)
        assert previous_cursor  # always a cursor: sentry-cli loops on results="true" without one
        next_url, has_next, next_cursor = links["next"]
        assert next_cursor and next_url.startswith("https://errors.example.com/api/0/")
        assert f"cursor={next_cursor}" in next_url.replace("%3A", ":")
        pages += 1
        if not has_next:
            break
        cursor = next_cursor
        assert pages < 10
    assert pages == 3  # 7 visible projects, 3 per page
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 7
    assert "hidden" not in seen


def test_single_page_says_no_more_results(client, world, alice_token):
    response = get(client, "/api/0/organizations/bugsink/projects/?cursor=", alice_token)
    links = parse_link(response["Link"])
    assert links["next"][1] is False and links["previous"][1] is False
    assert links["next"][2] == "100:1:0"
