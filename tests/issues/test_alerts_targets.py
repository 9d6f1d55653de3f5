"""A channel's target is checked when it is saved, by the model (so the UI's form and the admin
alike), with the reason; the senders' escaping per service."""

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse

from bugsink_issues.alerts.markup import markdown_text, slack_text
from bugsink_issues.alerts.targets import target_problem
from bugsink_issues.models import AlertChannel


@pytest.mark.parametrize(
    ("kind", "target", "reason"),
    [
        ("slack", "not a url", "http:// or https:// URL"),
        ("discord", "file:///etc/passwd", "http:// or https:// URL"),
        ("teams", "javascript:alert(1)", "http:// or https:// URL"),
        ("webhook", "https://", "no host"),
        ("webhook", "http://example.com:0x50/", "not a valid URL"),
        ("mattermost", "http://192.168.1.10:8065/hooks/x", "192.168.1.10 is not a public address"),
        ("email", "", "at least one email address"),
        ("email", "ops@example.com; nobody", "'nobody' is not an email address"),
    ],
)
def test_bad_targets_have_a_reason(kind, target, reason):
    assert reason in target_problem(kind, target)


def test_good_targets_pass():
    assert target_problem("slack", "https://hooks.slack.com/services/T0/B0/x") is None
    assert target_problem("webhook", "http://[2606:4700::1111]:8080/hook?x=1") is None
    assert target_problem("email", "dev@example.com, ops@example.com") is None
    with override_settings(BUGSINK_ISSUES_ALERT_ALLOWED_NETWORKS=["192.168.1.0/24"]):
        assert target_problem("mattermost", "http://192.168.1.10:8065/hooks/x") is None


@pytest.mark.django_db
def test_the_admin_refuses_a_bad_target_too(client, project):
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    page = client.post(
        reverse("admin:bugsink_issues_alertchannel_add"),
        {
            "project": project.pk,
            "kind": "slack",
            "name": "",
            "target": "file:///etc/passwd",
            "secret": "",
            "is_active": "on",
            "on_new_issue": "on",
        },
    )
    assert page.status_code == 200  # the form again, with the error
    assert "only http:// and https:// URLs can be called" in page.content.decode()
    assert not AlertChannel.objects.exists()


def test_escaping_per_service():
    assert slack_text("<!channel> a & b\nnext") == "&lt;!channel&gt; a &amp; b next"
    assert markdown_text("[x](https://evil) @everyone <@1> *b*") == (
        "\\[x\\]\\(https://evil\\) @\u200beveryone \\<@\u200b1\\> \\*b\\*"
    )
    assert markdown_text("mail me at a@b.example") == "mail me at a@\u200bb.example"
