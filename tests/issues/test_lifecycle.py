"""Resolve, reopen, regressions (release-aware), mute/unmute, history and signals."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from bugsink_issues import lifecycle, signals
from bugsink_issues.lifecycle.releases import semver_key
from bugsink_issues.models import Event, Issue, IssueHistory, ProjectSettings, Release
from tests.factories import python_exception, spooled

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    """Signals received, as (signal name, issue id, reason)."""
    log = []
    names = [
        "issue_created",
        "issue_regressed",
        "issue_unmuted",
        "issue_resolved",
        "issue_reopened",
        "issue_muted",
        "issue_deleted",
    ]
    handlers = []
    for name in names:

        def handler(sender, issue=None, reason="", name=name, **kwargs):
            log.append((name, issue.pk if issue else kwargs.get("issue_id"), reason))

        getattr(signals, name).connect(handler)
        handlers.append((getattr(signals, name), handler))
    yield log
    for signal, handler in handlers:
        signal.disconnect(handler)


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice")


def event(project, release=None, **extra):
    payload = python_exception()
    if release:
        payload["release"] = release
    payload.update(extra)
    return spooled(project, payload)


def test_created_signal_and_history(project, digest, received):
    digest([event(project)])
    issue = Issue.objects.get()
    assert received == [("issue_created", issue.pk, "first event")]
    history = issue.history.get()
    assert (history.kind, history.user, history.event_id) == (
        "created",
        None,
        issue.events.get().event_id,
    )


def test_resolve_then_new_event_regresses(
    project, digest, received, user, django_capture_on_commit_callbacks
):
    digest([event(project)])
    issue = Issue.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.resolve(issue, user=user, comment="fixed in #12")
    issue.refresh_from_db()
    assert issue.status == "resolved"
    regressing = event(project)
    digest([regressing])
    issue.refresh_from_db()
    assert issue.status == "unresolved"
    assert issue.regression_count == 1
    kinds = list(issue.history.values_list("kind", "user__username", "comment"))
    assert kinds == [
        ("created", None, ""),
        ("resolved", "alice", "fixed in #12"),
        ("regressed", None, ""),
    ]
    assert [r[0] for r in received] == ["issue_created", "issue_resolved", "issue_regressed"]
    assert Event.objects.get(event_id=regressing.event_id).is_pinned


def test_resolved_in_release_ignores_older_releases(project, digest):
    digest([event(project, "app@1.0.0"), event(project, "app@1.1.0"), event(project, "app@1.2.0")])
    issue = Issue.objects.get()
    lifecycle.resolve(issue, in_release="app@1.2.0")
    digest([event(project, "app@1.1.0")])
    issue.refresh_from_db()
    assert issue.status == "resolved" and issue.event_count == 4
    digest([event(project, "app@1.2.0")])
    issue.refresh_from_db()
    assert issue.status == "unresolved" and issue.regression_count == 1
    assert issue.history.last().release == "app@1.2.0"


def test_resolved_in_next_release(project, digest):
    digest([event(project, "app@1.0.0")])
    issue = Issue.objects.get()
    lifecycle.resolve(issue, in_next_release=True)
    issue.refresh_from_db()
    assert issue.resolved_in_release == "app@1.0.0"
    digest([event(project, "app@1.0.0")])  # the old release still runs somewhere
    issue.refresh_from_db()
    assert issue.status == "resolved"
    digest([event(project, "app@1.0.1")])  # the "fixed" release: a regression
    issue.refresh_from_db()
    assert issue.status == "unresolved"


def test_reopen(project, digest, user, received, django_capture_on_commit_callbacks):
    digest([event(project)])
    issue = Issue.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.resolve(issue, user=user)
        lifecycle.reopen(issue, user=user, comment="not fixed")
    issue.refresh_from_db()
    assert issue.status == "unresolved" and issue.resolved_at is None
    assert issue.history.last().comment == "not fixed"
    assert received[-1][0] == "issue_reopened"


def test_mute_forever_stays_muted(project, digest):
    digest([event(project)])
    issue = lifecycle.mute(Issue.objects.get())
    digest([event(project) for _ in range(5)])
    issue.refresh_from_db()
    assert issue.status == "muted" and issue.event_count == 6


def test_mute_for_a_period_unmutes_when_over(project, digest, received):
    digest([event(project)])
    issue = lifecycle.mute(Issue.objects.get(), for_seconds=3600)
    digest([event(project)])
    issue.refresh_from_db()
    assert issue.status == "muted"
    Issue.objects.filter(pk=issue.pk).update(muted_until=timezone.now() - timedelta(seconds=1))
    digest([event(project)])
    issue.refresh_from_db()
    assert issue.status == "unresolved"
    assert issue.history.last().reason == "the mute period ended"
    assert received[-1][0] == "issue_unmuted"


def test_mute_period_ends_without_events(project, digest):
    digest([event(project)])
    issue = lifecycle.mute(Issue.objects.get(), until=timezone.now() - timedelta(seconds=1))
    other = spooled(project, python_exception("OtherError"))
    digest([other])  # any batch of the project sweeps expired mutes
    issue.refresh_from_db()
    assert issue.status == "unresolved"


def test_mute_until_n_events_in_a_window(project, digest, received):
    digest([event(project)])
    issue = lifecycle.mute(Issue.objects.get(), event_count=3, window_seconds=3600)
    digest([event(project)])
    digest([event(project)])
    issue.refresh_from_db()
    assert issue.status == "muted"
    digest([event(project)])
    issue.refresh_from_db()
    assert issue.status == "unresolved"
    assert "3 events within an hour" in issue.history.last().reason
    assert [r[0] for r in received].count("issue_unmuted") == 1


def test_mute_window_forgets_old_events(project, digest):
    digest([event(project)])
    issue = lifecycle.mute(Issue.objects.get(), event_count=2, window_seconds=60)
    digest([event(project)])
    issue.refresh_from_db()
    # Pretend that hit was long ago.
    Issue.objects.filter(pk=issue.pk).update(mute_window_hits=[[0, 1]])
    digest([event(project)])
    issue.refresh_from_db()
    assert issue.status == "muted"


def test_unmute_and_bulk_actions(project, digest, user):
    digest([spooled(project, python_exception(f"E{i}")) for i in range(3)])
    issues = Issue.objects.all()
    lifecycle.bulk_mute(issues, user=user)
    assert set(Issue.objects.values_list("status", flat=True)) == {"muted"}
    lifecycle.bulk_unmute(Issue.objects.all(), user=user, comment="back")
    assert set(Issue.objects.values_list("status", flat=True)) == {"unresolved"}
    lifecycle.bulk_resolve(Issue.objects.all(), user=user)
    assert set(Issue.objects.values_list("status", flat=True)) == {"resolved"}
    assert IssueHistory.objects.filter(kind="unmuted", user=user, comment="back").count() == 3


def test_a_bulk_action_failing_half_way_changes_nothing(
    project, digest, user, received, django_capture_on_commit_callbacks
):
    digest([spooled(project, python_exception(f"E{i}")) for i in range(3)])
    first, gone, last = Issue.objects.order_by("pk")
    Issue.objects.filter(pk=gone.pk).delete()  # deleted by someone else since the page loaded
    history = IssueHistory.objects.count()
    received.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Issue.DoesNotExist):
        lifecycle.bulk_resolve([first, gone, last], user=user)
    # The first issue was resolved before the second failed; the transaction undid it.
    assert set(Issue.objects.values_list("status", flat=True)) == {"unresolved"}
    assert IssueHistory.objects.count() == history
    assert received == []  # no signal for a change that did not happen


def test_delete_keeps_stored_count_exact(
    project, digest, received, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(lifecycle.actions, "DELETE_CHUNK", 2)  # several chunks
    digest([spooled(project, python_exception(f"E{i}")) for i in range(3)] + [event(project)])
    digest([spooled(project, python_exception("E0")) for _ in range(4)])
    assert ProjectSettings.objects.get().stored_event_count == 8
    doomed = Issue.objects.get(title__startswith="E0")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.bulk_delete([doomed])
    assert not Issue.objects.filter(pk=doomed.pk).exists()
    assert ProjectSettings.objects.get().stored_event_count == Event.objects.count() == 3
    assert ("issue_deleted", doomed.pk, "deleted") in received


def test_release_order_semver_else_first_seen(project, digest):
    digest([event(project, v) for v in ("app@1.10.0", "app@1.9.0", "app@1.10.0-rc.1", "app@2.0")])
    app = Release.objects.filter(package="app").order_by("sort_order")
    order = list(app.values_list("version", flat=True))
    assert order == ["app@1.9.0", "app@1.10.0-rc.1", "app@1.10.0", "app@2.0"]
    # Another package that is not semver is ordered by first sight, and leaves app's order alone.
    digest([event(project, "nightly-abc"), event(project, "nightly-2")])
    assert list(app.values_list("version", flat=True)) == order
    nightly = Release.objects.filter(package="").order_by("sort_order")
    assert list(nightly.values_list("version", flat=True)) == ["nightly-abc", "nightly-2"]
    # A package's release that is not semver puts that package in first-seen order.
    digest([event(project, "app@abc1234")])
    assert list(app.values_list("version", flat=True))[-1] == "app@abc1234"
    assert semver_key("v1.2.3") > semver_key("1.2.3-beta.2") > semver_key("1.2.3-beta.1")
    assert semver_key("abc1234") is None
