"""Alerts: email (locmem), webhooks to a real local HTTP receiver, hardening, rate caps, failures."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.test import override_settings

from bugsink_issues import alerts, lifecycle
from bugsink_issues.alerts.outbound import RefusedTarget, resolve_target
from bugsink_issues.models import AlertChannel, AlertDelivery, Issue
from harness.processes import free_port
from tests.factories import python_exception, spooled

pytestmark = pytest.mark.django_db

allow_private = override_settings(BUGSINK_ISSUES_ALERT_ALLOW_PRIVATE_TARGETS=True)


class Receiver:
    """A real HTTP server on loopback that records POSTs and answers with `status`."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self.location = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.path, dict(self.headers), body))
                self.send_response(outer.status)
                if outer.location:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def channel(project, kind, target, **kwargs):
    return AlertChannel.objects.create(project=project, kind=kind, target=target, **kwargs)


@allow_private
def test_new_issue_alerts_every_webhook_kind(project, digest, receiver):
    for kind in ("slack", "discord", "mattermost", "teams"):
        channel(project, kind, f"{receiver.url}/{kind}")
    channel(project, "webhook", f"{receiver.url}/generic", secret="s3cret")
    digest([spooled(project, python_exception("KeyError", "'user'"))])
    bodies = {path: (headers, json.loads(body)) for path, headers, body in receiver.requests}
    assert set(bodies) == {"/slack", "/discord", "/mattermost", "/teams", "/generic"}
    assert "KeyError: 'user'" in bodies["/slack"][1]["text"]
    assert "KeyError" in bodies["/discord"][1]["content"]
    assert bodies["/teams"][1]["attachments"][0]["contentType"] == (
        "application/vnd.microsoft.card.adaptive"
    )
    headers, generic = bodies["/generic"]
    assert generic["event"] == "new_issue" and generic["issue"]["title"] == "KeyError: 'user'"
    raw = next(body for path, _, body in receiver.requests if path == "/generic")
    expected = hmac.new(
        b"s3cret", headers["X-Bugsink-Timestamp"].encode() + b"." + raw, hashlib.sha256
    ).hexdigest()
    assert headers["X-Bugsink-Signature"] == f"sha256={expected}"
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {"sent"}


@allow_private
def test_regression_and_unmute_alert_but_repeat_events_do_not(project, digest, receiver):
    channel(project, "slack", receiver.url)
    digest([spooled(project, python_exception())])
    digest([spooled(project, python_exception())])  # same issue: no alert
    assert len(receiver.requests) == 1
    issue = Issue.objects.get()
    lifecycle.resolve(issue)
    digest([spooled(project, python_exception())])
    lifecycle.mute(issue, event_count=1)
    digest([spooled(project, python_exception())])
    triggers = list(AlertDelivery.objects.order_by("pk").values_list("trigger", flat=True))
    assert triggers == ["new_issue", "regression", "unmute"]
    assert len(receiver.requests) == 3


def test_email_alert_html_and_text(project, digest):
    channel(project, "email", "dev@example.com, ops@example.com")
    digest([spooled(project, python_exception("KeyError", "'user'"))])
    (message,) = mail.outbox
    assert message.to == ["dev@example.com", "ops@example.com"]
    assert "New issue" in message.subject and "KeyError: 'user'" in message.subject
    assert "KeyError: 'user'" in message.body and "Events: 1" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "KeyError: &#x27;user&#x27;" in html


def test_private_target_is_refused_by_default(project, digest, receiver):
    channel(project, "webhook", receiver.url)
    digest([spooled(project, python_exception())])
    assert receiver.requests == []
    delivery = AlertDelivery.objects.get()
    assert delivery.status == "refused" and "127.0.0.1" in delivery.error
    for url in (
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "ftp://x.io/",
    ):
        with pytest.raises(RefusedTarget):
            resolve_target(url)


@allow_private
def test_redirects_are_not_followed_and_failures_are_recorded(project, receiver):
    target = channel(project, "webhook", receiver.url)
    receiver.status, receiver.location = 302, "http://169.254.169.254/"
    delivery = alerts.send_test(target)
    assert delivery.status == "failed" and delivery.response_code == 302
    assert "redirect" in delivery.error
    assert len(receiver.requests) == 1
    receiver.status, receiver.location = 500, None
    assert alerts.send_test(target).error == "HTTP 500"


@allow_private
def test_unreachable_target_fails_and_is_recorded(project):
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    delivery = alerts.send_test(channel(project, "slack", url))
    assert delivery.status == "failed" and "Connection" in delivery.error
    assert delivery.finished_at is not None


@allow_private
@override_settings(BUGSINK_ISSUES_ALERT_RATE_PER_PROJECT_PER_HOUR=2)
def test_per_project_rate_cap(project, digest, receiver):
    channel(project, "slack", receiver.url)
    digest([spooled(project, python_exception(f"E{i}")) for i in range(4)])
    statuses = list(AlertDelivery.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["sent", "sent", "rate_limited", "rate_limited"]
    assert len(receiver.requests) == 2


@allow_private
@override_settings(BUGSINK_ISSUES_ALERT_RATE_GLOBAL_PER_HOUR=1)
def test_global_rate_cap(project, digest, receiver):
    from bugsink_ingest.models import Project

    other = Project.objects.create(name="Other")
    channel(project, "slack", receiver.url)
    channel(other, "slack", receiver.url)
    digest([spooled(project, python_exception())])
    digest([spooled(other, python_exception())])
    assert list(AlertDelivery.objects.order_by("pk").values_list("status", flat=True)) == [
        "sent",
        "rate_limited",
    ]


def test_send_test_email(project):
    delivery = alerts.send_test(channel(project, "email", "dev@example.com"))
    assert delivery.status == "sent" and delivery.trigger == "test"
    assert "test message" in mail.outbox[0].body


def test_inactive_channels_and_flags_are_respected(project, digest):
    channel(project, "email", "a@example.com", is_active=False)
    channel(project, "email", "b@example.com", on_new_issue=False)
    digest([spooled(project, python_exception())])
    assert mail.outbox == []


@allow_private
@override_settings(BUGSINK_ISSUES_BASE_URL="https://errors.example.com/")
def test_alerts_link_to_the_issue(project, digest, receiver):
    channel(project, "slack", receiver.url)
    channel(project, "email", "dev@example.com")
    digest([spooled(project, python_exception())])
    issue = Issue.objects.get()
    url = f"https://errors.example.com/issues/{issue.pk}/"
    assert url in json.loads(receiver.requests[0][2])["text"]
    assert url in mail.outbox[0].body and url in mail.outbox[0].alternatives[0][0]


def test_a_registered_sender_delivers_its_kind(project):
    from bugsink_issues.alerts import AlertSender, register_sender, sender_for

    class Pager(AlertSender):
        def __init__(self):
            self.sent = []

        def send(self, channel, ctx):
            self.sent.append((channel.target, ctx["trigger"], ctx["title"]))
            return 202

    original, pager = sender_for("email"), Pager()
    register_sender("email", pager)
    try:
        delivery = alerts.send_test(channel(project, "email", "pager:oncall"))
    finally:
        register_sender("email", original)
    assert pager.sent == [("pager:oncall", "test", "Alerts from Bugsink reach this channel")]
    assert delivery.status == "sent" and delivery.response_code == 202
    assert mail.outbox == []  # the built-in email sender was not used
    assert sender_for("email") is original
