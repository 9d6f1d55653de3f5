"""Releases, deploys and commits through the web API, on the organization and the project paths."""

import pytest

from bugsink_issues.models import ApiToken, Deploy, Release, ReleaseCommit
from tests.factories import python_exception, spooled

ORG = "/api/0/organizations/bugsink"


@pytest.fixture
def alice(world):
    return ApiToken.objects.create_user_token(world["alice"])[1]


@pytest.fixture
def call(client, api):
    def go(method, path, token, body=None, status=None):
        kwargs = {}
        if body is not None:
            kwargs = {"data": body, "content_type": "application/json"}
        response = api(client, method, path, token, **kwargs)
        if status is not None:
            assert response.status_code == status, response.content
        return response

    return go


def test_create_release_on_both_paths(world, alice, call):
    created = call(
        "POST",
        f"{ORG}/releases/",
        alice,
        {
            "version": "1.2.3",
            "projects": ["alpha"],
            "dateStarted": "2026-01-02T03:04:05.123456789Z",
        },
        201,
    ).json()
    assert created["version"] == "1.2.3" and created["dateCreated"]
    assert [p["slug"] for p in created["projects"]] == ["alpha"]
    assert created["dateReleased"] is None and created["newGroups"] == 0
    # Again: 208, as Sentry answers for an existing release.
    call("POST", f"{ORG}/releases/", alice, {"version": "1.2.3", "projects": ["alpha"]}, 208)
    call("POST", "/api/0/projects/bugsink/alpha/releases/", alice, {"version": "2.0"}, 201)
    assert sorted(Release.objects.values_list("version", flat=True)) == ["1.2.3", "2.0"]
    listed = call("GET", "/api/0/projects/bugsink/alpha/releases/", alice, status=200).json()
    assert [r["version"] for r in listed] == ["2.0", "1.2.3"]
    for field in ("id", "version", "shortVersion", "dateCreated", "dateReleased", "newGroups",
                  "lastCommit", "lastDeploy", "firstEvent", "lastEvent", "projects"):  # fmt: skip
        assert field in listed[0]


def test_release_of_another_team_is_invisible(world, alice, call):
    bob = ApiToken.objects.create_user_token(world["bob"])[1]
    call("POST", f"{ORG}/releases/", bob, {"version": "b1", "projects": ["beta"]}, 201)
    call("GET", f"{ORG}/releases/b1/", alice, status=404)
    assert call("GET", f"{ORG}/releases/", alice, status=200).json() == []
    response = call("POST", f"{ORG}/releases/", alice, {"version": "x", "projects": ["beta"]}, 400)
    assert "beta" in response.json()["detail"]
    call("PUT", f"{ORG}/releases/b1/", alice, {"dateReleased": "2026-01-01T00:00:00Z"}, 404)
    call("DELETE", f"{ORG}/releases/b1/", alice, status=404)


@pytest.mark.parametrize("version", ["", "a/b", "latest", "..", "x\ny", "v" * 251])
def test_invalid_versions_are_400(world, alice, call, version):
    response = call("POST", f"{ORG}/releases/", alice, {"version": version, "projects": ["alpha"]})
    assert response.status_code == 400
    assert response.json()["detail"]


def test_bad_bodies_are_400(world, alice, client):
    for body in (b"{nope", b'{"projects": ["alpha"]}', b'{"version": 3, "projects": "alpha"}'):
        response = client.post(
            f"{ORG}/releases/", body, content_type="application/json",
            headers={"Authorization": f"Bearer {alice}"},
        )  # fmt: skip
        assert response.status_code == 400, body
        assert response["Content-Type"].startswith("application/json")


def test_finalize_commits_deploys_delete(world, alice, call):
    call("POST", f"{ORG}/releases/", alice, {"version": "3.0", "projects": ["alpha"]}, 201)
    commits = [
        {"id": "c" * 40, "repository": "origin", "message": "second\n", "author_name": "Dev",
         "author_email": "dev@example.com", "timestamp": "2026-01-01T00:00:00Z",
         "patch_set": [{"path": "b.txt", "type": "A"}]},
        {"id": "b" * 40, "repository": "origin", "message": "first\n"},
    ]  # fmt: skip
    updated = call("PUT", f"{ORG}/releases/3.0/", alice, {"commits": commits}, 200).json()
    assert updated["commitCount"] == 2 and updated["lastCommit"]["id"] == "c" * 40
    assert updated["authors"] == [{"name": "Dev", "email": "dev@example.com"}]
    refs = {"refs": [{"repository": "acme/web", "commit": "d" * 40, "previousCommit": None}]}
    call("PUT", f"{ORG}/releases/3.0/", alice, refs, 200)
    assert list(ReleaseCommit.objects.values_list("commit_id", flat=True)) == ["d" * 40]
    finalized = call(
        "PUT", "/api/0/projects/bugsink/alpha/releases/3.0/", alice,
        {"projects": ["alpha"], "dateReleased": "2026-02-01T00:00:00Z"}, 200,
    ).json()  # fmt: skip
    assert finalized["dateReleased"].startswith("2026-02-01")

    deploy = call(
        "POST", f"{ORG}/releases/3.0/deploys/", alice,
        {"environment": "production", "name": None, "url": None, "dateStarted": None,
         "dateFinished": "2026-02-01T00:10:00Z"}, 201,
    ).json()  # fmt: skip
    assert deploy["environment"] == "production" and deploy["dateFinished"]
    (listed,) = call("GET", f"{ORG}/releases/3.0/deploys/", alice, status=200).json()
    assert listed["id"] == deploy["id"]
    detail = call("GET", f"{ORG}/releases/3.0/", alice, status=200).json()
    assert detail["deployCount"] == 1 and detail["lastDeploy"]["environment"] == "production"

    call("DELETE", f"{ORG}/releases/3.0/", alice, status=204)
    assert not Release.objects.exists() and not Deploy.objects.exists()
    assert not ReleaseCommit.objects.exists()


def test_previous_with_commits_and_repos(world, alice, call):
    call("POST", f"{ORG}/releases/", alice, {"version": "1.0", "projects": ["alpha"]}, 201)
    assert call("GET", f"{ORG}/releases/1.0/previous-with-commits/", alice, status=200).json() == {}
    call("PUT", f"{ORG}/releases/1.0/", alice, {"commits": [{"id": "a" * 40}]}, 200)
    call("POST", f"{ORG}/releases/", alice, {"version": "1.1", "projects": ["alpha"]}, 201)
    previous = call("GET", f"{ORG}/releases/1.1/previous-with-commits/", alice, status=200).json()
    assert previous["version"] == "1.0" and previous["lastCommit"] == {"id": "a" * 40}
    repos = call("GET", f"{ORG}/repos/?cursor=", alice, status=200)
    assert repos.json() == [] and 'results="false"' in repos["Link"]


def test_api_release_meets_its_events(world, alice, call, digest):
    call("POST", f"{ORG}/releases/", alice, {"version": "4.0", "projects": ["alpha"]}, 201)
    assert Release.objects.get().first_seen is None
    digest([spooled(world["alpha"], python_exception(release="4.0"))])
    release = Release.objects.get()
    assert release.first_seen is not None and release.last_seen == release.first_seen
    detail = call("GET", f"{ORG}/releases/4.0/", alice, status=200).json()
    assert detail["newGroups"] == 1 and detail["firstEvent"] is not None


def test_scopes_of_release_endpoints(world, call):
    reader = ApiToken.objects.create_user_token(world["alice"], scopes=["project:read"])[1]
    call("GET", f"{ORG}/releases/", reader, status=200)
    call("POST", f"{ORG}/releases/", reader, {"version": "1", "projects": ["alpha"]}, 403)
    _, org_token = ApiToken.objects.create_organization_token(
        base_url="http://testserver", organization_slug="bugsink"
    )
    call("POST", f"{ORG}/releases/", org_token, {"version": "1", "projects": ["beta"]}, 201)


def test_session_needs_csrf_for_writes(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world["alice"])
    body = {"version": "s1", "projects": ["alpha"]}
    response = client.post(f"{ORG}/releases/", body, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    client.get("/api/0/")  # any page; the cookie is set by the UI's pages
    token = client.cookies.get("csrftoken")
    if token is None:
        from django.middleware.csrf import _get_new_csrf_string

        client.cookies["csrftoken"] = token = _get_new_csrf_string()
    else:
        token = token.value
    response = client.post(
        f"{ORG}/releases/", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201, response.content


def test_release_list_pages_filters_and_names_its_projects(world, call):
    root = ApiToken.objects.create_user_token(world["root"])[1]
    for n in range(5):
        call("POST", f"{ORG}/releases/", root, {"version": f"5.{n}", "projects": ["alpha"]}, 201)
    call("POST", f"{ORG}/releases/", root, {"version": "5.0", "projects": ["beta"]}, 201)
    first = call("GET", f"{ORG}/releases/?per_page=2", root, status=200)
    assert [r["version"] for r in first.json()] == ["5.4", "5.3"]
    assert 'rel="next"; results="true"; cursor="2:1:0"' in first["Link"]
    shared = call("GET", f"{ORG}/releases/5.0/", root, status=200).json()
    assert sorted(p["slug"] for p in shared["projects"]) == ["alpha", "beta"]
    only_beta = call("GET", f"{ORG}/releases/?project={world['beta'].pk}", root, status=200)
    assert [r["version"] for r in only_beta.json()] == ["5.0"]
    assert [r["version"] for r in call("GET", f"{ORG}/releases/?query=5.2", root).json()] == ["5.2"]
    # The project path sees that project's row alone.
    beta = call("GET", "/api/0/projects/bugsink/beta/releases/5.0/", root, status=200).json()
    assert [p["slug"] for p in beta["projects"]] == ["beta"]


def _session(sid, status, did, release, errors=0):
    from datetime import UTC, datetime

    return {
        "sid": sid,
        "init": True,
        "started": datetime.now(UTC).isoformat(),
        "status": status,
        "errors": errors,
        "did": did,
        "attrs": {"release": release, "environment": "production"},
    }


@pytest.fixture
def healthy_world(world, alice, call, django_capture_on_commit_callbacks):
    """Release 1.2.3 of Alpha with 4 sessions of 3 users (one crashed, one errored), and 1.2.2
    with one session of another user: adoption of 1.2.3 is 3 of 4 users, 4 of 5 sessions."""
    from bugsink_issues.digest import digest_batch

    call("POST", f"{ORG}/releases/", alice, {"version": "1.2.3", "projects": ["alpha"]}, 201)
    bodies = [
        _session("s1", "exited", "u1", "1.2.3"),
        _session("s2", "crashed", "u2", "1.2.3", errors=1),
        _session("s3", "exited", "u3", "1.2.3", errors=2),
        _session("s4", "exited", "u1", "1.2.3"),
        _session("s5", "exited", "u9", "1.2.2"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        digest_batch([spooled(world["alpha"], b, kind="session") for b in bodies])
    return world


def test_release_health_data_when_asked(healthy_world, alice, call):
    from tests.api.test_shapes import check_shape

    for path in (f"{ORG}/releases/1.2.3/", "/api/0/projects/bugsink/alpha/releases/1.2.3/"):
        plain = call("GET", path, alice, status=200).json()
        check_shape(plain, "release")
        (project,) = plain["projects"]
        assert project["hasHealthData"] is True and project["healthData"] is None

        asked = call("GET", f"{path}?health=1", alice, status=200).json()
        check_shape(asked, "release")
        health = asked["projects"][0]["healthData"]
        check_shape(health, "release_health")
        assert health["totalSessions"] == 4 and health["totalSessions24h"] == 4
        assert (health["sessionsCrashed"], health["sessionsErrored"]) == (1, 2)
        assert (health["totalUsers"], health["totalProjectUsers24h"]) == (3, 4)
        assert health["totalProjectSessions24h"] == 5
        assert health["crashFreeSessions"] == 75.0
        assert health["crashFreeUsers"] == pytest.approx(66.6667)
        assert health["adoption"] == 75.0 and health["sessionsAdoption"] == 80.0
        assert health["hasHealthData"] is True
        (points,) = health["stats"].values()
        assert list(health["stats"]) == ["24h"] and len(points) == 24
        assert sum(n for _, n in points) == 4 and points[-1][1] == 4  # this hour's

    listed = call("GET", f"{ORG}/releases/?health=1&healthStatsPeriod=14d", alice, status=200)
    by_version = {r["version"]: r for r in listed.json()}
    assert set(by_version) == {"1.2.3", "1.2.2"}  # 1.2.2 made by its sessions
    old = by_version["1.2.2"]["projects"][0]["healthData"]
    check_shape(old, "release_health")
    assert old["totalSessions"] == 1 and old["sessionsAdoption"] == 20.0
    (daily,) = old["stats"].values()
    assert len(daily) == 14 and sum(n for _, n in daily) == 1


def test_release_health_periods_are_checked_and_other_teams_see_nothing(healthy_world, alice, call):
    bad = call("GET", f"{ORG}/releases/1.2.3/?health=1&summaryStatsPeriod=3y", alice, status=400)
    assert "summaryStatsPeriod" in bad.json()["detail"]
    call("GET", f"{ORG}/releases/?health=1&healthStatsPeriod=<x>", alice, status=400)
    bob = ApiToken.objects.create_user_token(healthy_world["bob"])[1]
    call("GET", f"{ORG}/releases/1.2.3/?health=1", bob, status=404)
    assert call("GET", f"{ORG}/releases/?health=1", bob, status=200).json() == []


def test_a_release_without_sessions_has_empty_health_data(world, alice, call):
    call("POST", f"{ORG}/releases/", alice, {"version": "9.9", "projects": ["alpha"]}, 201)
    out = call("GET", f"{ORG}/releases/9.9/?health=true", alice, status=200).json()
    (project,) = out["projects"]
    assert project["hasHealthData"] is False
    health = project["healthData"]
    assert health["totalSessions"] == 0 and health["hasHealthData"] is False
    assert health["crashFreeSessions"] is None and health["adoption"] is None
