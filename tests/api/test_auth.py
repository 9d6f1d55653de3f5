"""Authentication and scopes of the web API: bearer tokens (user and organization), the session."""

import base64
import json
from io import StringIO

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.base import CommandError

from bugsink_issues.models import ApiToken
from bugsink_issues.models.api import expand_scopes

ORGS = "/api/0/organizations/"
PROJECTS = "/api/0/organizations/bugsink/projects/"


def slugs(response):
    assert response.status_code == 200, response.content
    return sorted(p["slug"] for p in response.json())


def test_no_credentials_is_401_json(client, world):
    response = client.get(ORGS)
    assert response.status_code == 401
    assert response["Content-Type"].split(";")[0] == "application/json"
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer nope", "Bearer sntryu_" + "0" * 64, "Bearer ", "Token abc", "Basic YTpi"],
)
def test_bad_token_is_401(client, world, header):
    response = client.get(ORGS, headers={"Authorization": header})
    assert response.status_code == 401
    assert response["Content-Type"].split(";")[0] == "application/json"
    assert response.json()["detail"]


def test_revoked_token_is_401(client, world, token_for, api):
    secret = token_for(world["alice"])
    assert api(client, "GET", ORGS, secret).status_code == 200
    ApiToken.objects.get().revoke()
    response = api(client, "GET", ORGS, secret)
    assert response.status_code == 401
    assert response.json() == {"detail": "This token has been revoked."}


def test_token_of_an_inactive_user_is_401(client, world, token_for, api):
    secret = token_for(world["alice"])
    world["alice"].is_active = False
    world["alice"].save()
    assert api(client, "GET", ORGS, secret).status_code == 401


def test_missing_scope_is_403(client, world, token_for, api):
    secret = token_for(world["alice"], scopes=["event:read"])
    response = api(client, "GET", ORGS, secret)
    assert response.status_code == 403
    assert "org:read" in response.json()["detail"]
    # The scope it has is enough where it is the one asked for: GET /api/0/ takes any token.
    assert api(client, "GET", "/api/0/", secret).json()["auth"]["scopes"] == ["event:read"]


def test_higher_scopes_imply_lower_ones(client, world, token_for, api):
    assert expand_scopes(["org:admin"]) >= {"org:admin", "org:write", "org:read"}
    assert expand_scopes(["project:write"]) == {"project:write", "project:read"}
    assert "project:releases" in expand_scopes(["org:ci"])
    secret = token_for(world["alice"], scopes=["org:admin"])
    assert api(client, "GET", ORGS, secret).status_code == 200


def test_unknown_scope_is_refused_at_creation(world):
    with pytest.raises(ValueError, match="unknown scopes"):
        ApiToken.objects.create_user_token(world["alice"], scopes=["org:everything"])


def test_secret_is_stored_hashed_and_shown_by_prefix_and_suffix(world):
    row, secret = ApiToken.objects.create_user_token(world["alice"], name="laptop")
    assert secret.startswith("sntryu_") and len(secret) == 7 + 64
    stored = ApiToken.objects.filter(pk=row.pk).values()[0]
    assert secret not in json.dumps(stored, default=str)
    assert row.display == f"sntryu_…{secret[-4:]}"
    assert ApiToken.objects.for_secret(secret) == row


def test_user_token_sees_exactly_what_its_user_sees(client, world, token_for, api):
    assert slugs(api(client, "GET", PROJECTS, token_for(world["alice"]))) == ["alpha"]
    assert slugs(api(client, "GET", PROJECTS, token_for(world["carol"]))) == ["alpha"]
    assert slugs(api(client, "GET", PROJECTS, token_for(world["bob"]))) == ["beta"]
    assert slugs(api(client, "GET", PROJECTS, token_for(world["root"]))) == [
        "alpha",
        "beta",
        "orphan",
    ]
    assert slugs(api(client, "GET", "/api/0/projects/", token_for(world["bob"]))) == ["beta"]


def test_another_teams_project_is_404_not_403(client, world, token_for, api):
    secret = token_for(world["alice"])
    assert api(client, "GET", "/api/0/projects/bugsink/alpha/", secret).status_code == 200
    for slug in ("beta", "orphan", "nonexistent"):
        response = api(client, "GET", f"/api/0/projects/bugsink/{slug}/", secret)
        assert response.status_code == 404
        assert response.json() == {"detail": f"Project {slug!r} not found."}


def test_use_is_recorded_at_most_once_a_minute(client, world, token_for, api):
    secret = token_for(world["alice"])
    assert ApiToken.objects.get().last_used_at is None
    api(client, "GET", ORGS, secret)
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    api(client, "GET", ORGS, secret)
    assert ApiToken.objects.get().last_used_at == first


def decode_org_token(secret):
    """Parse a `sntrys_` token the way FINDINGS-style strict clients do."""
    assert secret.startswith("sntrys_")
    payload, random_part = secret[len("sntrys_") :].rsplit("_", 1)
    claims = json.loads(base64.b64decode(payload, validate=True))
    assert len(random_part) == 43
    raw = base64.b64decode(random_part + "=", validate=True)
    assert len(raw) == 32
    assert base64.b64encode(raw).decode().rstrip("=") == random_part  # canonical: zero last bits
    return claims


def test_organization_token_format_names_server_and_organization(world, settings):
    settings.BUGSINK_ISSUES_BASE_URL = "https://errors.example.com/"
    row, secret = ApiToken.objects.create_organization_token(
        base_url="https://errors.example.com/", organization_slug="bugsink"
    )
    claims = decode_org_token(secret)
    assert claims["url"] == claims["region_url"] == "https://errors.example.com"
    assert claims["org"] == "bugsink"
    assert isinstance(claims["iat"], float)
    assert row.user is None and row.scopes == ["org:ci"]
    payload = secret.split("_")[1]
    assert len(payload) % 4 == 0  # padded: sentry-cli takes an unpadded payload for a plain token


def test_organization_token_reads_every_project_and_has_no_user(client, world, api):
    _, secret = ApiToken.objects.create_organization_token(
        base_url="http://testserver", organization_slug="bugsink"
    )
    assert slugs(api(client, "GET", PROJECTS, secret)) == ["alpha", "beta", "orphan"]
    index = api(client, "GET", "/api/0/", secret).json()
    assert index["user"] is None
    assert set(index["auth"]["scopes"]) >= {"org:ci", "org:read", "project:releases"}
    assert api(client, "GET", "/api/0/auth/", secret).status_code == 403


def test_session_of_the_ui_authenticates_and_bad_header_wins(client, world, token_for):
    client.force_login(world["bob"])
    assert slugs(client.get(PROJECTS)) == ["beta"]
    # An Authorization header is judged alone, even beside a valid session.
    assert client.get(PROJECTS, headers={"Authorization": "Bearer bad"}).status_code == 401
    alice = token_for(world["alice"])
    assert slugs(client.get(PROJECTS, headers={"Authorization": f"Bearer {alice}"})) == ["alpha"]


def test_rate_limit_is_429_with_retry_after(client, world, token_for, api, settings):
    caches["default"].clear()
    settings.BUGSINK_ISSUES_API_RATE_LIMIT_PER_MINUTE = 3
    secret, other = token_for(world["alice"]), token_for(world["alice"])
    statuses = [api(client, "GET", ORGS, secret).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = api(client, "GET", ORGS, secret)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61
    assert response.json()["detail"].startswith("Rate limit exceeded")
    # Per token: another token of the same user still passes.
    assert api(client, "GET", ORGS, other).status_code == 200
    caches["default"].clear()


def test_create_token_command_prints_the_token_last(client, world, api, settings):
    world["alice"].email = "alice@example.com"
    world["alice"].save()
    out, err = StringIO(), StringIO()
    call_command(
        "bugsink_create_token",
        "--user",
        "alice@example.com",
        "--scope",
        "org:read",
        "--scope",
        "project:read",
        stdout=out,
        stderr=err,
    )
    secret = out.getvalue().strip().splitlines()[-1]
    assert secret.startswith("sntryu_")
    assert "org:read project:read" in err.getvalue()
    assert slugs(api(client, "GET", PROJECTS, secret)) == ["alpha"]

    settings.BUGSINK_ISSUES_BASE_URL = "http://errors.internal:8000"
    out = StringIO()
    call_command(
        "bugsink_create_token", "--user", "root", "--organization", stdout=out, stderr=StringIO()
    )
    org_secret = out.getvalue().strip().splitlines()[-1]
    assert decode_org_token(org_secret)["url"] == "http://errors.internal:8000"
    assert ApiToken.objects.get(kind="organization").created_by == world["root"]

    with pytest.raises(CommandError, match="No user"):
        call_command("bugsink_create_token", "--user", "nobody", stdout=out, stderr=err)
    settings.BUGSINK_ISSUES_BASE_URL = ""
    with pytest.raises(CommandError, match="BASE_URL"):
        call_command(
            "bugsink_create_token", "--user", "root", "--organization", stdout=out, stderr=err
        )


def test_principal_visibility_is_the_uis(world, digest):
    """What the issue and event endpoints build on: request.auth.visible_projects()/_issues()."""
    from bugsink_issues.api.auth import BearerTokenAuth
    from bugsink_issues.models import Issue
    from tests.factories import python_exception, spooled

    digest(
        [spooled(world["alpha"], python_exception()), spooled(world["beta"], python_exception())]
    )
    auth = BearerTokenAuth()

    def principal(secret):
        return auth.authenticate(None, secret)

    alice = principal(ApiToken.objects.create_user_token(world["alice"])[1])
    assert list(alice.visible_issues()) == list(Issue.objects.visible_to(world["alice"]))
    assert {i.project_id for i in alice.visible_issues()} == {world["alpha"].pk}
    _, org_secret = ApiToken.objects.create_organization_token(
        base_url="http://testserver", organization_slug="bugsink"
    )
    org = principal(org_secret)
    assert org.is_organization_token and org.user is None
    assert org.visible_issues().count() == Issue.objects.count() == 2
