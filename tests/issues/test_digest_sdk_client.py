"""Old SDKs name themselves only in the request's sentry_client: the digest fills sdk from it when
the event has none, and never overrides an event's own sdk."""

from dataclasses import replace

import pytest

from bugsink_issues.digest.storage import load_payload
from bugsink_issues.models import Event
from tests.factories import python_exception, spooled

pytestmark = pytest.mark.django_db


def test_sdk_comes_from_sentry_client_when_the_event_has_none(project, digest):
    event = replace(spooled(project, {"message": "from raven-js"}), sentry_client="raven-js/3.27.2")
    digest([event])
    row = Event.objects.get()
    assert (row.sdk_name, row.sdk_version) == ("raven-js", "3.27.2")
    assert load_payload(row)["sdk"] == {"name": "raven-js", "version": "3.27.2"}


def test_an_events_own_sdk_wins(project, digest):
    payload = python_exception(sdk={"name": "sentry.python", "version": "2.75.0"})
    digest([replace(spooled(project, payload), sentry_client="raven-python/6.10.0")])
    row = Event.objects.get()
    assert (row.sdk_name, row.sdk_version) == ("sentry.python", "2.75.0")


def test_a_client_without_version_and_no_client_at_all(project, digest):
    digest(
        [
            replace(spooled(project, {"message": "a"}), sentry_client="raven-go"),
            spooled(project, {"message": "b"}),
        ]
    )
    rows = {e.title: (e.sdk_name, e.sdk_version) for e in Event.objects.all()}
    assert rows == {"a": ("raven-go", ""), "b": ("", "")}
