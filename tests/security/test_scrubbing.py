"""Server-side scrubbing end to end: a Django application with the real sentry-sdk sends an error
full of secrets to the real deployment; neither the stored payload nor any page of the logged-in
UI shows one of them."""

import json

import pytest
from django.urls import reverse

from harness.deployment import Deployment
from harness.processes import wait_for
from tests.security.leaky_app import make_secrets, send_leaky_error

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


FILTERED = "[Filtered]"
# The deployment's own code reads its database: the stored payload and the issue of an event id.
STORED = """
import json
from bugsink_issues.digest.storage import load_payload
from bugsink_issues.models import Event
event = Event.objects.with_event_id(EVENT_ID)
print(json.dumps({"issue": event.issue_id, "event": event.pk, "payload": load_payload(event)}))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("scrubbing") / "data")
    try:
        deployment.start(wait_ready=True)
        yield deployment
    finally:
        deployment.stop()


def stored(site, event_id):
    def lookup():
        code = STORED.replace("EVENT_ID", json.dumps(event_id))
        result = site.manage("shell", "-c", code, check=False)
        if result.returncode != 0 or not result.stdout.strip():
            return None
        return json.loads(result.stdout.strip().splitlines()[-1])

    return wait_for(lookup, 30, what=f"event {event_id} to be stored")


def test_secrets_are_neither_stored_nor_shown(site):
    leaked = make_secrets()
    secret_values = [*leaked.values(), leaked["card_number"].replace(" ", "")]
    sent = send_leaky_error(site.demo_dsn(), leaked)
    (event_id,) = sent["ids"]
    # The SDK did send every secret: what follows is the tracker's doing.
    sent_text = json.dumps(sent["events"])
    assert all(secret in sent_text for secret in secret_values[:-1])

    found = stored(site, event_id)
    payload_text = json.dumps(found["payload"])
    for secret in secret_values:
        assert secret not in payload_text, secret
    payload = found["payload"]
    request = payload["request"]
    assert dict(request["headers"])["Authorization"] == FILTERED
    assert request["cookies"] == {"shop_session": FILTERED, "theme": FILTERED}
    assert request["data"] == {"username": "bob", "password": FILTERED}
    frame = payload["exception"]["values"][-1]["stacktrace"]["frames"][-1]
    assert frame["vars"]["password"] == FILTERED
    assert payload["extra"]["payment_card"] == FILTERED
    assert payload["_scrubbed"]["count"] >= 7

    ui = site.browser().login()
    issue, event = found["issue"], found["event"]
    pages = [
        reverse("bugsink_issues:issue", kwargs={"issue_id": issue}) + f"?tab={tab}&frames=all"
        for tab in ("stacktrace", "details", "breadcrumbs", "tags", "events", "grouping")
    ]
    pages += [
        reverse("bugsink_issues:event", kwargs={"issue_id": issue, "event_pk": event})
        + "?tab=details",
        reverse(
            "bugsink_issues:event_export",
            kwargs={"issue_id": issue, "event_pk": event, "fmt": "json"},
        ),
        reverse("bugsink_issues:issue_export", kwargs={"issue_id": issue, "fmt": "json"}),
        reverse("bugsink_issues:project_issues", kwargs={"project_id": site.demo_project_id()}),
    ]
    shown = {}
    for path in pages:
        status, _, body = ui.get(path)
        assert status == 200, (path, body[:300])
        shown[path] = body
        for secret in secret_values:
            assert secret not in body, (secret, path)
    assert "checkout failed for user bob" in shown[pages[0]]
    details = shown[pages[1]]
    assert "Authorization" in details and FILTERED in details and "shop_session" in details
    assert "password" in shown[pages[0]] and FILTERED in shown[pages[0]]  # the frame variable
