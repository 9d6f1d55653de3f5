"""Every error under /api/0/ is JSON `{"detail": ...}`, never an HTML page, never a 500 for bad
input."""

import json

import pytest
from django.test import Client

from bugsink_issues.models import ApiToken


@pytest.fixture
def secret(world):
    return ApiToken.objects.create_user_token(world["alice"])[1]


def assert_json_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].split(";")[0] == "application/json"
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/0/nothing-here/",
        "/api/0/organizations",  # no trailing slash: not redirected, a JSON 404
        "/api/0/organizations/bugsink/unknown/",
        "/api/0/users/me/regions/",  # sentry-cli 2.x then uses its configured URL
        "/api/0/organizations/bugsink/projects/x/y/z/",
    ],
)
def test_unknown_paths_are_json_404(client, secret, path):
    response = client.get(path, headers={"Authorization": f"Bearer {secret}"})
    assert_json_error(response, 404)


def test_unknown_organization_and_project_are_json_404(client, secret):
    auth = {"Authorization": f"Bearer {secret}"}
    detail = assert_json_error(client.get("/api/0/organizations/acme/", headers=auth), 404)
    assert detail == "Organization 'acme' not found."
    assert_json_error(client.get("/api/0/organizations/acme/projects/", headers=auth), 404)
    assert_json_error(client.get("/api/0/projects/acme/alpha/", headers=auth), 404)
    assert_json_error(client.get("/api/0/projects/bugsink/nope/", headers=auth), 404)


def test_wrong_method_is_json_405_with_allow(client, secret):
    response = client.post("/api/0/organizations/", headers={"Authorization": f"Bearer {secret}"})
    assert_json_error(response, 405)
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("query", ["per_page=abc", "per_page=0", "cursor=zzz", "cursor=1:2"])
def test_bad_pagination_parameters_are_400(client, secret, query):
    response = client.get(
        f"/api/0/organizations/bugsink/projects/?{query}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert_json_error(response, 400)


@pytest.mark.urls("tests.api.errors_api")
def test_bad_json_is_400(client):
    response = client.post("/errors-test/things/", b"{not json", content_type="application/json")
    assert_json_error(response, 400)


@pytest.mark.urls("tests.api.errors_api")
@pytest.mark.parametrize(
    "body", [{}, {"version": "1"}, {"version": "1", "count": "many"}, [], "text", None]
)
def test_validation_errors_are_400_with_the_field_named(client, body):
    response = client.post(
        "/errors-test/things/", json.dumps(body), content_type="application/json"
    )
    detail = assert_json_error(response, 400)
    assert detail.startswith("Invalid request")
    assert isinstance(response.json()["errors"], list)


@pytest.mark.urls("tests.api.errors_api")
def test_valid_body_passes(client):
    response = client.post(
        "/errors-test/things/", {"version": "1", "count": 2}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"version": "1", "count": 2}


@pytest.mark.urls("tests.api.errors_api")
def test_unexpected_exception_is_a_logged_json_500(caplog):
    # The signal error reporters hook on is sent; the test client would re-raise on it.
    response = Client(raise_request_exception=False).get("/errors-test/boom/")
    assert_json_error(response, 500)
    assert any("Internal Server Error" in r.getMessage() for r in caplog.records)


def test_openapi_document_is_served(client):
    response = client.get("/api/0/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert "/api/0/organizations/{org}/projects/" in paths
    assert "/api/0/projects/{org}/{project}/" in paths
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
