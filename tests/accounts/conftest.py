"""Fixtures of the account tests: the in-process ones run the issues app as any host composes it
(tests.settings, no allauth); the reference deployment's account system runs in real processes."""

import pytest


@pytest.fixture
def digest(django_capture_on_commit_callbacks):
    """Digest spooled events like the hand-off does, running on-commit callbacks (the alerts)."""
    from bugsink_issues.digest import digest_batch

    def run(events):
        with django_capture_on_commit_callbacks(execute=True):
            digest_batch(list(events))

    return run
