"""The admin pages of the core models render; checks catch bad settings."""

import pytest
from django.contrib.auth import get_user_model
from django.core.checks import run_checks
from django.test import override_settings
from django.urls import reverse

from bugsink_issues.models import AlertChannel, Event, Issue
from tests.factories import python_exception, spooled

pytestmark = pytest.mark.django_db


def test_admin_pages_render(project, digest, client):
    digest([spooled(project, python_exception())])
    AlertChannel.objects.create(project=project, kind="email", target="a@example.com")
    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin_user)
    for model, obj in (
        ("issue", Issue.objects.get()),
        ("event", Event.objects.get()),
        ("alertchannel", AlertChannel.objects.get()),
    ):
        assert client.get(reverse(f"admin:bugsink_issues_{model}_changelist")).status_code == 200
        page = client.get(reverse(f"admin:bugsink_issues_{model}_change", args=[obj.pk]))
        assert page.status_code == 200
    page = client.get(reverse("admin:bugsink_issues_event_change", args=[Event.objects.get().pk]))
    assert b"ValueError" in page.content  # the decompressed payload is shown


@override_settings(
    BUGSINK_ISSUES_RETENTION_MAX_EVENTS=0,
    BUGSINK_ISSUES_GROUPING_VERSION=99,
    BUGSINK_ISSUES_ALERT_ALLOW_PRIVATE_TARGETS=True,
    BUGSINK_ISSUES_COMPRESSION_LEVEL=40,
)
def test_checks_catch_bad_settings():
    ids = {message.id for message in run_checks()}
    assert {
        "bugsink_issues.E001",
        "bugsink_issues.E003",
        "bugsink_issues.E005",
        "bugsink_issues.W001",
    } <= ids


def test_checks_pass_with_defaults():
    ids = {m.id for m in run_checks() if m.id.startswith("bugsink_issues.E")}
    assert ids == set()
