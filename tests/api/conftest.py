"""Fixtures of the web API tests: two teams as the UI access tests have them, and tokens."""

import pytest

from bugsink_issues.models import ApiToken
from tests.factories import make_project, make_team, make_user


@pytest.fixture
def world(db):
    alice = make_user("alice")  # admin of team A
    carol = make_user("carol")  # member of team A
    bob = make_user("bob")  # admin of team B only
    root = make_user("root", superuser=True)
    team_a = make_team("Team A", admins=[alice], members=[carol])
    team_b = make_team("Team B", admins=[bob])
    return {
        "alice": alice,
        "carol": carol,
        "bob": bob,
        "root": root,
        "team_a": team_a,
        "team_b": team_b,
        "alpha": make_project("Alpha", team=team_a),
        "beta": make_project("Beta", team=team_b),
        "orphan": make_project("Orphan"),  # no team: superusers only
    }


@pytest.fixture
def token_for():
    """token_for(user, scopes=...) -> the secret of a new user token."""

    def make(user, **kwargs):
        return ApiToken.objects.create_user_token(user, **kwargs)[1]

    return make


@pytest.fixture
def api():
    """api(client, method, path, token=None, **kwargs) -> the response, with a bearer token."""

    def call(client, method, path, token=None, **kwargs):
        if token is not None:
            kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {token}"
        return getattr(client, method.lower())(path, **kwargs)

    return call


@pytest.fixture
def digest(django_capture_on_commit_callbacks):
    """Digest spooled events like the hand-off does, running on-commit callbacks (signals)."""
    from bugsink_issues.digest import digest_batch

    def run(events):
        with django_capture_on_commit_callbacks(execute=True):
            digest_batch(list(events))

    return run


@pytest.fixture(autouse=True)
def artifact_dir(settings, tmp_path):
    """Uploads go to a directory of the test's own."""
    settings.BUGSINK_ISSUES_ARTIFACT_DIR = tmp_path / "artifacts"
    from bugsink_issues.digest.sourcemaps import clear_caches

    clear_caches()
    yield settings.BUGSINK_ISSUES_ARTIFACT_DIR
    clear_caches()
