"""Per-user alert e-mail: each user picks the projects whose alerts reach their own address."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from bugsink_issues.models import AlertChannel, ProjectSettings, TeamMembership
from bugsink_issues.models.notifications import AlertSubscription, SubscriptionDelivery
from tests.factories import make_project, make_team, python_exception, spooled

pytestmark = pytest.mark.django_db


def make_user(name, email):
    return get_user_model().objects.create_user(name, email=email, password="pw")


@pytest.fixture
def world():
    alice = make_user("alice", "alice@example.com")
    bob = make_user("bob", "bob@example.com")
    shop_team = make_team("Shop team", members=[alice, bob])
    ops_team = make_team("Ops team", members=[bob])
    return {
        "alice": alice,
        "bob": bob,
        "shop_team": shop_team,
        "shop": make_project("Shop", team=shop_team),
        "ops": make_project("Ops", team=ops_team),
    }


def choose(client, user, *projects):
    client.force_login(user)
    data = {f"project-{p.pk}": "on" for p in projects}
    return client.post(reverse("bugsink_issues:notifications"), data, follow=True)


def test_the_page_lists_the_projects_a_user_sees_and_saves_the_choice(client, world):
    client.force_login(world["alice"])
    page = client.get(reverse("bugsink_issues:notifications")).content.decode()
    assert "Shop" in page and "Ops" not in page and "alice@example.com" in page
    assert (
        reverse("bugsink_issues:notifications")
        in client.get(reverse("bugsink_issues:preferences")).content.decode()
    )
    # A project she cannot see is ignored, whatever the form says.
    response = choose(client, world["alice"], world["shop"], world["ops"])
    assert "Alerts of 1 project(s) will be e-mailed to alice@example.com." in (
        response.content.decode()
    )
    assert list(AlertSubscription.objects.values_list("user__username", "project__name")) == [
        ("alice", "Shop")
    ]
    pk = world["shop"].pk
    assert f'name="project-{pk}" id="project-{pk}" checked' in response.content.decode()
    choose(client, world["alice"])  # nothing ticked: unsubscribed
    assert not AlertSubscription.objects.exists()


def test_alerts_reach_the_subscribers_own_address_only(client, world, digest):
    choose(client, world["alice"], world["shop"])
    choose(client, world["bob"], world["ops"])
    digest([spooled(world["shop"], python_exception("KeyError", "'cart'"))])
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject.startswith("[Shop] New issue: KeyError")
    [delivery] = SubscriptionDelivery.objects.all()
    assert (delivery.status, delivery.trigger) == ("sent", "new_issue")
    assert delivery.subscription.user == world["alice"]
    # The project's own channels still get theirs, beside the subscribers'.
    AlertChannel.objects.create(project=world["ops"], kind="email", target="ops@example.com")
    digest([spooled(world["ops"], python_exception("OSError", "disk"))])
    assert sorted(m.to[0] for m in mail.outbox[1:]) == ["bob@example.com", "ops@example.com"]


def test_a_user_who_lost_access_gets_nothing(client, world, digest):
    choose(client, world["alice"], world["shop"])
    TeamMembership.objects.filter(user=world["alice"]).delete()
    digest([spooled(world["shop"], python_exception("KeyError", "'cart'"))])
    assert mail.outbox == []
    assert not SubscriptionDelivery.objects.exists()


def test_disabled_alerts_send_nothing_and_the_hourly_cap_holds(client, world, digest):
    choose(client, world["alice"], world["shop"])
    ProjectSettings.objects.update_or_create(
        project=world["shop"], defaults={"alerts_enabled": False}
    )
    digest([spooled(world["shop"], python_exception("KeyError", "one"))])
    assert mail.outbox == []
    ProjectSettings.objects.filter(project=world["shop"]).update(
        alerts_enabled=True, alert_rate_per_hour=2
    )
    for n in range(4):
        digest([spooled(world["shop"], python_exception(f"Error{n}", "distinct issue"))])
    assert len(mail.outbox) == 2
    statuses = sorted(SubscriptionDelivery.objects.values_list("status", flat=True))
    assert statuses == ["rate_limited", "rate_limited", "sent", "sent"]


@override_settings(BUGSINK_ISSUES_ALERTS_ENABLED=False)
def test_the_installation_switch_covers_subscriptions(client, world, digest):
    choose(client, world["alice"], world["shop"])
    digest([spooled(world["shop"], python_exception("KeyError", "'cart'"))])
    assert mail.outbox == []


def test_a_user_without_an_address_is_told(client, world):
    carol = get_user_model().objects.create_user("carol", password="pw")
    TeamMembership.objects.create(team=world["shop_team"], user=carol)
    body = choose(client, carol, world["shop"]).content.decode()
    assert "your account has no e-mail address: nothing can be sent" in body


def test_feedback_and_cron_monitor_alerts_reach_subscribers_too(client, world, digest):
    choose(client, world["alice"], world["shop"])
    choose(client, world["bob"], world["ops"])
    report = {"event_id": "ab" * 16, "name": "Ann", "comments": "the cart is <b>empty</b>"}
    digest([spooled(world["shop"], report, kind="user_report")])
    [feedback] = mail.outbox
    assert feedback.to == ["alice@example.com"]
    assert "Ann wrote" in feedback.subject and "the cart is <b>empty</b>" in feedback.body
    hourly = {"schedule": {"type": "crontab", "value": "0 * * * *"}}
    digest(
        [spooled(world["shop"], {"monitor_slug": "backup", "status": "ok",
                                 "check_in_id": "1" * 32, "monitor_config": hourly},
                 kind="check_in")]
    )  # fmt: skip
    digest(
        [
            spooled(
                world["shop"],
                {"monitor_slug": "backup", "status": "error", "check_in_id": "2" * 32},
                kind="check_in",
            )
        ]
    )
    [_, monitor] = mail.outbox
    assert monitor.to == ["alice@example.com"]
    assert "Monitor failed" in monitor.subject and "backup" in monitor.subject
    triggers = SubscriptionDelivery.objects.order_by("pk").values_list("trigger", "status")
    assert list(triggers) == [("feedback", "sent"), ("monitor_failed", "sent")]
    assert SubscriptionDelivery.objects.get(trigger="monitor_failed").issue is None
