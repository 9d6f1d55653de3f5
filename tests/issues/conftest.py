"""Fixtures of the bugsink_issues tests; the objects they make come from tests/factories.py."""

import pytest

from tests.factories import make_project


@pytest.fixture
def project(db):
    return make_project("Test project")


@pytest.fixture
def digest(django_capture_on_commit_callbacks):
    """Digest spooled events like the hand-off does, running on-commit callbacks (signals)."""
    from bugsink_issues.digest import digest_batch

    def run(events):
        with django_capture_on_commit_callbacks(execute=True):
            digest_batch(list(events))

    return run
