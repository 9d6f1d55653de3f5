"""Resolving against releases of the issue's own package, mutes counted in events, which unmutes
alert, and bulk actions on every issue a search matches."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bugsink_issues import lifecycle
from bugsink_issues.lifecycle.releases import is_later, package_of, release_orders
from bugsink_issues.models import AlertChannel, Issue, IssueHistory
from tests.factories import make_project, make_team, make_user, python_exception, spooled

pytestmark = pytest.mark.django_db


def checkout_error(project, release, value="checkout failed"):
    return spooled(project, python_exception("CheckoutError", value, release=release))


def frontend_error(project, release):
    return spooled(
        project,
        python_exception(
            "TypeError", "x is undefined", frames=(("app.js", "render"),), release=release
        ),
    )


def status(issue):
    issue.refresh_from_db()
    return issue.status


def test_resolve_in_next_release_compares_releases_of_the_issue_package(project, digest):
    digest([checkout_error(project, "myshop@1.2.0"), frontend_error(project, "frontend@3.1.0")])
    issue = Issue.objects.get(title__startswith="CheckoutError")
    lifecycle.resolve(issue, in_next_release=True)
    issue.refresh_from_db()
    # Resolved against the latest release of ITS package, not the project's highest version.
    assert issue.resolved_in_release == "myshop@1.2.0"
    history = issue.history.get(kind="resolved_in_next_release")
    assert history.release == "myshop@1.2.0"
    assert history.reason == "resolved in the next release after myshop@1.2.0"
    digest([checkout_error(project, "myshop@1.2.0")])  # the old release still runs somewhere
    assert status(issue) == "resolved"
    digest([checkout_error(project, "myshop@1.4.0")])
    assert status(issue) == "unresolved"
    regressed = issue.history.get(kind="regressed")
    assert regressed.release == "myshop@1.4.0"


def test_versions_compare_semver_aware_within_a_package(project, digest):
    digest([checkout_error(project, "myshop@1.9.0")])
    issue = Issue.objects.get()
    lifecycle.resolve(issue, in_next_release=True)
    digest([checkout_error(project, "myshop@1.10.0")])  # later as a version, earlier as text
    assert status(issue) == "unresolved"
    # Resolved in a release no event has named yet: its older releases do not reopen the issue.
    lifecycle.resolve(issue, in_release="myshop@2.0.0")
    digest([checkout_error(project, "myshop@1.10.1")])
    assert status(issue) == "resolved"
    digest([checkout_error(project, "myshop@2.0.0")])
    assert status(issue) == "unresolved"


def test_releases_that_are_not_semver_compare_by_first_sight(project, digest):
    digest([checkout_error(project, "myshop@deploy-b")])
    digest([checkout_error(project, "myshop@deploy-a")])  # seen later, sorts earlier as text
    issue = Issue.objects.get()
    lifecycle.resolve(issue, in_next_release=True)
    issue.refresh_from_db()
    assert issue.resolved_in_release == "myshop@deploy-a"
    digest([checkout_error(project, "myshop@deploy-b")])  # seen first: older
    assert status(issue) == "resolved"
    digest([checkout_error(project, "myshop@deploy-c")])
    assert status(issue) == "unresolved"


def test_a_release_of_another_package_says_nothing_about_the_fix(project, digest):
    digest([checkout_error(project, "myshop@1.2.0")])
    issue = Issue.objects.get()
    lifecycle.resolve(issue, in_next_release=True)
    digest([checkout_error(project, "frontend@0.1.0")])  # cannot be compared: be loud
    assert status(issue) == "unresolved"


def test_package_and_order_helpers(project, digest):
    assert package_of("myshop@1.2.0") == "myshop"
    assert package_of("@scope/app@2.0.0") == "@scope/app"
    assert package_of("1.2.0") == ""
    digest([checkout_error(project, v) for v in ("myshop@1.2.0", "myshop@1.4.0", "frontend@3.1.0")])
    orders = release_orders(project.pk, ["myshop@1.2.0", "myshop@1.4.0", "frontend@3.1.0"])
    assert is_later("myshop@1.4.0", "myshop@1.2.0", orders) is True
    assert is_later("myshop@1.2.0", "myshop@1.4.0", orders) is False
    assert is_later("frontend@3.1.0", "myshop@1.2.0", orders) is None


@pytest.fixture
def member(db):
    alice = make_user("alice")
    project = make_project("Shop", team=make_team("Shop team", admins=[alice]))
    return alice, project


def test_mute_until_n_more_events_from_the_issue_page(client, member, digest):
    alice, project = member
    digest([checkout_error(project, "myshop@1.0.0")])
    issue = Issue.objects.get()
    client.force_login(alice)
    url = reverse("bugsink_issues:issue_action", args=[issue.pk])
    client.post(url, {"action": "mute", "period": "events", "event_count": "3"})
    issue.refresh_from_db()
    assert (issue.status, issue.mute_until_event_count, issue.mute_window_seconds) == (
        "muted",
        3,
        None,
    )
    assert issue.history.last().reason == "muted until 3 more events"
    page = client.get(reverse("bugsink_issues:issue", args=[issue.pk])).content.decode()
    assert "until 3 more events" in page
    digest([checkout_error(project, "myshop@1.0.0") for _ in range(2)])
    assert status(issue) == "muted"
    page = client.get(reverse("bugsink_issues:issue", args=[issue.pk])).content.decode()
    assert "until 3 more events (2 so far)" in page
    digest([checkout_error(project, "myshop@1.0.0")])
    assert status(issue) == "unresolved"
    assert issue.history.last().reason == "3 events since muted"


@pytest.mark.parametrize(("period", "window"), [("events_hour", 3600), ("events_day", 86400)])
def test_mute_until_n_events_per_hour_or_day_from_the_issue_page(
    client, member, digest, period, window
):
    alice, project = member
    digest([checkout_error(project, "myshop@1.0.0")])
    issue = Issue.objects.get()
    client.force_login(alice)
    url = reverse("bugsink_issues:issue_action", args=[issue.pk])
    client.post(url, {"action": "mute", "period": period, "event_count": "10"})
    issue.refresh_from_db()
    assert (issue.mute_until_event_count, issue.mute_window_seconds) == (10, window)
    per = {3600: "an hour", 86400: "a day"}[window]
    assert issue.history.last().reason == f"muted until 10 events within {per}"


@pytest.mark.parametrize("count", ["", "0", "-3", "abc", "1000001"])
def test_a_mute_by_events_needs_a_sane_count(client, member, digest, count):
    alice, project = member
    digest([checkout_error(project, "myshop@1.0.0")])
    issue = Issue.objects.get()
    client.force_login(alice)
    url = reverse("bugsink_issues:issue_action", args=[issue.pk])
    response = client.post(
        url, {"action": "mute", "period": "events", "event_count": count}, follow=True
    )
    assert response.status_code == 200
    assert "Mute until how many events?" in response.content.decode()
    assert status(issue) == "unresolved"


def test_a_manual_unmute_sends_no_alert_an_expiring_mute_does(
    project, digest, django_capture_on_commit_callbacks
):
    AlertChannel.objects.create(project=project, kind="email", target="dev@example.com")
    digest([checkout_error(project, "myshop@1.0.0")])
    assert [m.subject for m in mail.outbox if "New issue" in m.subject]
    mail.outbox.clear()
    issue = Issue.objects.get()
    user = make_user("alice")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.mute(issue, user=user)
        lifecycle.unmute(issue, user=user)
    assert status(issue) == "unresolved"
    assert mail.outbox == []  # whoever unmuted it knows
    assert IssueHistory.objects.filter(issue=issue, kind="unmuted", user=user).exists()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.mute(issue, user=user, until=timezone.now() - timedelta(seconds=1))
    digest([spooled(project, python_exception("OtherError"))])  # the digest ends expired mutes
    assert status(issue) == "unresolved"
    unmuted = [m for m in mail.outbox if "CheckoutError" in m.subject]
    assert len(unmuted) == 1 and "unmuted" in unmuted[0].subject.lower()
