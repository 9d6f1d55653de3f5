"""Sentry's crash-report endpoint (`/api/embed/error-page/`, the browser SDK's showReportDialog):
the dialog's script with the query's options written in inertly, the report stored as the
event's user feedback, and clear JSON refusals (no DSN, a wrong key, no event id, no comments)."""

import json
import re
import subprocess
import uuid
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from bugsink_ingest.models import ProjectKey
from bugsink_issues.models import Event, UserFeedback
from tests.factories import python_exception, spooled

pytestmark = pytest.mark.django_db

HOSTILE = "</script><script>window.__pwned=1</script>\u2028"


@pytest.fixture
def key(project):
    # A key of its own per test: ingest caches key lookups per process, and on PostgreSQL the
    # project's id differs from test to test (sequences are not rolled back).
    return ProjectKey.objects.create(project=project, public_key=uuid.uuid4().hex)


def endpoint(key, event_id="ab" * 16, **extra):
    dsn = f"http://{key.public_key}@testserver/{key.project_id}"
    query = urlencode({"eventId": event_id, **extra})
    # The SDK writes the DSN into the query as it is, unencoded.
    return reverse("bugsink_ingest:error_page") + f"?dsn={dsn}&{query}"


def test_get_answers_the_dialog_script_with_inert_options(client, key):
    response = client.get(endpoint(key, title=HOSTILE, name="Ann", email=HOSTILE))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Access-Control-Allow-Origin"] == "*"
    script = response.content.decode()
    assert "</script>" not in script.split("\n", 1)[0] and "\u2028" not in script
    options = json.loads(re.match(r"var OPTIONS = (.*);\n", script).group(1))
    assert options["title"] == HOSTILE and options["email"] == HOSTILE[:128]
    assert options["name"] == "Ann" and options["eventId"] == "ab" * 16
    assert options["endpoint"].startswith("http://testserver/api/embed/error-page?dsn=http://")


def test_the_dialog_script_parses_as_javascript(client, key, tmp_path):
    node = subprocess.run(["which", "node"], capture_output=True, text=True).stdout.strip()
    if not node:
        pytest.skip("node is not installed")
    path = tmp_path / "dialog.js"
    path.write_bytes(client.get(endpoint(key, title=HOSTILE)).content)
    result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_post_becomes_the_events_feedback(client, key, project, digest):
    event_id = "ef" * 16
    digest([spooled(project, python_exception(), event_id=event_id)])
    response = client.post(
        endpoint(key, event_id=event_id),
        {"name": "Ann", "email": "ann@example.com", "comments": "it broke <b>twice</b>"},
    )
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == "*"
    feedback = UserFeedback.objects.get()
    assert (feedback.name, feedback.email, feedback.message) == (
        "Ann",
        "ann@example.com",
        "it broke <b>twice</b>",
    )
    event = Event.objects.get(event_id=event_id)
    assert feedback.event_id == event.pk and feedback.issue_id == event.issue_id


@pytest.mark.parametrize(
    ("make_url", "data", "status", "words"),
    [
        (lambda k: reverse("bugsink_ingest:error_page") + "?eventId=" + "ab" * 16, {}, 401, "DSN"),
        (
            lambda k: endpoint(k).replace(k.public_key, "ee" * 16),
            {"comments": "x"},
            403,
            "No active key",
        ),
        (lambda k: endpoint(k, event_id="nope"), {"comments": "x"}, 400, "eventId"),
        (lambda k: endpoint(k), {"name": "Ann", "comments": "  "}, 400, "comments"),
        (lambda k: endpoint(k), {"comments": "x" * 10_001}, 400, "over 10000"),
    ],
)
def test_refusals_are_json_with_a_message(client, key, make_url, data, status, words):
    response = client.post(make_url(key), data)
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert not UserFeedback.objects.exists()
