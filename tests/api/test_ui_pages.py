"""The UI's pages of this feature: API tokens (under Preferences) and a project's Releases."""

import base64
import json
import re

import pytest
from django.urls import reverse

from bugsink_issues.models import ApiToken, ArtifactBundle, ArtifactFile, Release
from tests.api.bundles import build, cli_bundle, upload_bundle
from tests.factories import python_exception, spooled

TOKENS = "/preferences/tokens/"


def secret_on(page):
    match = re.search(r'<pre class="mono bsk-copy">(\S+)</pre>', page)
    return match.group(1) if match else None


def test_user_creates_sees_once_uses_and_revokes_a_token(client, world):
    client.force_login(world["carol"])
    page = client.get(TOKENS)
    assert page.status_code == 200 and "Organization tokens" not in page.content.decode()
    created = client.post(
        TOKENS, {"kind": "user", "name": "ci", "scopes": ["org:read", "project:read"]}
    )
    assert created["Cache-Control"] == "no-store"
    secret = secret_on(created.content.decode())
    assert secret and secret.startswith("sntryu_")
    # Shown once: the list shows only its ends.
    listing = client.get(TOKENS).content.decode()
    assert secret not in listing and secret[-4:] in listing
    api = client.get(
        "/api/0/organizations/bugsink/projects/", headers={"Authorization": f"Bearer {secret}"}
    )
    assert [p["slug"] for p in api.json()] == ["alpha"]
    token = ApiToken.objects.get()
    assert token.scopes == ["org:read", "project:read"] and token.user == world["carol"]
    client.post(reverse("bugsink_issues:token_revoke", args=[token.pk]))
    assert ApiToken.objects.get().is_revoked
    assert client.get("/api/0/", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_another_users_token_cannot_be_revoked(client, world):
    token, _ = ApiToken.objects.create_user_token(world["alice"])
    client.force_login(world["bob"])
    assert client.post(reverse("bugsink_issues:token_revoke", args=[token.pk])).status_code == 404
    assert not ApiToken.objects.get().is_revoked


def test_organization_tokens_are_for_superusers(client, world, settings):
    settings.BUGSINK_ISSUES_BASE_URL = "https://errors.example.com"
    client.force_login(world["alice"])  # a team admin, not a superuser
    assert client.post(TOKENS, {"kind": "organization", "name": "x"}).status_code == 403
    client.force_login(world["root"])
    page = client.post(TOKENS, {"kind": "organization", "name": "CI"}).content.decode()
    secret = secret_on(page)
    payload = json.loads(base64.b64decode(secret.split("_")[1]))
    assert payload["url"] == "https://errors.example.com" and payload["org"] == "bugsink"
    assert "Organization tokens" in client.get(TOKENS).content.decode()


@pytest.fixture
def released(world, client, digest, tmp_path):
    root = ApiToken.objects.create_user_token(world["root"])[1]
    auth = {"Authorization": f"Bearer {root}"}
    org = "/api/0/organizations/bugsink"

    def post(path, body):
        response = client.post(path, body, content_type="application/json", headers=auth)
        assert response.status_code in (200, 201), response.content
        return response.json()

    post(f"{org}/releases/", {"version": "7.0", "projects": ["alpha"]})
    post(f"{org}/releases/7.0/deploys/", {"environment": "production", "name": "blue"})
    client.put(
        f"{org}/releases/7.0/", {"commits": [{"id": "a" * 40, "message": "fix"}]},
        content_type="application/json", headers=auth,
    )  # fmt: skip
    minified, source_map = build(tmp_path)
    bundle = cli_bundle(
        [
            ("~/app.js", "minified_source", minified, {}),
            ("~/app.js.map", "source_map", source_map, {}),
        ]
    )
    assert upload_bundle(client, root, bundle, version="7.0")["state"] == "ok"
    digest([spooled(world["alpha"], python_exception("KeyError", "new in 7", release="7.0"))])
    client.logout()
    return world


def test_releases_page_shows_events_issues_deploys_commits_and_uploads(client, released):
    client.force_login(released["carol"])  # a member: sees, may not delete
    page = client.get(f"/projects/{released['alpha'].pk}/releases/").content.decode()
    assert "7.0" in page and "production" in page and "blue" in page
    assert "KeyError" in page  # the issue new in the release
    assert "2 files" in page  # the bundle
    assert "Delete" not in page
    release = Release.objects.get(version="7.0")
    url = reverse("bugsink_issues:release_delete", args=[released["alpha"].pk, release.pk])
    assert client.post(url).status_code == 403
    client.force_login(released["bob"])  # another team: the page is a 404
    assert client.get(f"/projects/{released['alpha'].pk}/releases/").status_code == 404


def test_admin_deletes_a_bundle_and_a_release(client, released):
    client.force_login(released["alice"])
    project = released["alpha"]
    bundle = ArtifactBundle.objects.get()
    client.post(reverse("bugsink_issues:bundle_delete", args=[project.pk, bundle.pk]))
    assert not ArtifactBundle.objects.exists() and not ArtifactFile.objects.exists()
    release = Release.objects.get(version="7.0")
    client.post(reverse("bugsink_issues:release_delete", args=[project.pk, release.pk]))
    assert not Release.objects.filter(version="7.0").exists()
