"""From the SDK's bytes to an issue: the ingest endpoint, the spool, the drain task and the digest
(the in-process path the example project runs, with Django's immediate Tasks backend)."""

import pytest

from bugsink_ingest.models import ProjectKey
from bugsink_issues.models import Event, Issue, UserFeedback
from tests.factories import DATA

pytestmark = pytest.mark.django_db


def envelope_bytes(prefix):
    (path,) = DATA.glob(f"captures/{prefix}-*.decoded.txt")
    return path.read_bytes()


@pytest.fixture
def post_envelope(client, project, django_capture_on_commit_callbacks):
    key = ProjectKey.objects.create(project=project)

    def post(prefix):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/api/{project.pk}/envelope/?sentry_key={key.public_key}&sentry_version=7",
                data=envelope_bytes(prefix),
                content_type="application/x-sentry-envelope",
            )
        assert response.status_code == 200, response.content
        return response

    return post


def test_sdk_envelopes_become_issues(post_envelope, project):
    post_envelope("008")  # Python: log.exception() in 1 / 0
    post_envelope("026")  # Node: captureMessage
    post_envelope("029")  # Node: AggregateError
    titles = set(Issue.objects.filter(project=project).values_list("title", flat=True))
    assert titles == {
        "ZeroDivisionError: division by zero",
        "Something bad happened",
        "AggregateError: many",
    }
    post_envelope("008")  # the same envelope again (an SDK retry): nothing new
    assert Event.objects.filter(project=project).count() == 3


def test_feedback_envelope_is_stored(post_envelope, project):
    post_envelope("036")
    feedback = UserFeedback.objects.get(project=project)
    assert (feedback.name, feedback.message) == ("Bob", "it broke")
