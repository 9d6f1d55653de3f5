"""User feedback alerts the project's channels (a real local webhook receiver, locmem e-mail):
once per feedback, linked to the issue's Feedback tab (or the project's Feedback page), the
feedback's words in the JSON body; redelivered feedback does not alert again; the setting and
the project's alerts switch turn it off."""

import json

import pytest
from django.core import mail
from django.test import override_settings

from bugsink_issues.models import AlertDelivery, Issue, ProjectSettings
from tests.factories import python_exception, spooled
from tests.issues.test_alerts import allow_private, channel, receiver  # noqa: F401

pytestmark = pytest.mark.django_db

BASE = override_settings(BUGSINK_ISSUES_BASE_URL="https://errors.example")


def report(project, event_id, comments="the cart is empty <b>again</b>", **extra):
    body = {"event_id": event_id, "name": "Ann", "email": "ann@example.com", "comments": comments}
    return spooled(project, {**body, **extra}, kind="user_report")


@allow_private
@BASE
def test_feedback_alerts_once_with_a_link_to_the_feedback_tab(project, digest, receiver):  # noqa: F811
    channel(project, "webhook", f"{receiver.url}/generic")
    event_id = "ab" * 16
    digest([spooled(project, python_exception("KeyError", "'cart'"), event_id=event_id)])
    receiver.requests.clear()
    feedback = report(project, event_id)
    digest([feedback])
    digest([feedback])  # redelivered: stored once, alerted once
    (body,) = [json.loads(b) for _, _, b in receiver.requests]
    issue = Issue.objects.get()
    assert body["event"] == "feedback" and body["issue"]["id"] == issue.pk
    assert body["feedback"]["message"] == "the cart is empty <b>again</b>"
    assert body["feedback"]["event_id"] == event_id and body["feedback"]["name"] == "Ann"
    assert body["feedback"]["url"] == f"https://errors.example/issues/{issue.pk}/?tab=feedback"
    assert "email" not in body["feedback"]  # the user's address stays in the UI
    assert list(AlertDelivery.objects.order_by("pk").values_list("trigger", flat=True)) == [
        "new_issue",
        "feedback",
    ]


@BASE
def test_feedback_without_a_stored_event_links_to_the_project_page(project, digest):
    channel(project, "email", "dev@example.com")
    digest([report(project, "cd" * 16, comments="nothing works")])
    (message,) = mail.outbox
    assert "User feedback" in message.subject and "Ann wrote" in message.subject
    assert "nothing works" in message.body and "From: Ann" in message.body
    assert f"https://errors.example/projects/{project.pk}/feedback/" in message.body
    assert "test message" not in message.body


def test_the_setting_and_the_project_switch_turn_it_off(project, digest):
    channel(project, "email", "dev@example.com")
    with override_settings(BUGSINK_ISSUES_ALERT_ON_FEEDBACK=False):
        digest([report(project, "11" * 16)])
    assert mail.outbox == []
    ProjectSettings.objects.for_project(project.pk)
    ProjectSettings.objects.filter(project=project).update(alerts_enabled=False)
    digest([report(project, "22" * 16)])
    assert mail.outbox == []
    ProjectSettings.objects.filter(project=project).update(alerts_enabled=True)
    digest([report(project, "33" * 16)])
    assert len(mail.outbox) == 1
