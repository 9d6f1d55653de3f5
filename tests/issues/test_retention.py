"""Retention: the per-project cap and maximum age, bounded batches, pinned events kept, exact counts."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from bugsink_issues import lifecycle
from bugsink_issues.lifecycle.retention import evictable, tightened
from bugsink_issues.lifecycle.tasks import enforce_retention
from bugsink_issues.models import Event, Issue, ProjectSettings
from tests.factories import make_project, make_team, make_user, python_exception, spooled

pytestmark = pytest.mark.django_db


def stored_counts_are_exact(project):
    settings_row = ProjectSettings.objects.get(project=project)
    assert settings_row.stored_event_count == Event.objects.filter(project=project).count()
    for issue in Issue.objects.filter(project=project):
        assert issue.stored_event_count == issue.events.count()


def test_cap_keeps_first_and_state_changing_events(project, digest):
    ProjectSettings.objects.create(project=project, retention_max_events=5)
    digest([spooled(project, python_exception("A")) for _ in range(4)])
    digest([spooled(project, python_exception("B"))])
    lifecycle.resolve(Issue.objects.get(title__startswith="A"))
    digest([spooled(project, python_exception("A"))])  # regression: pinned
    first_ids = set(Event.objects.filter(issue_sequence=1).values_list("event_id", flat=True))
    regression_id = Event.objects.get(issue__title__startswith="A", issue_sequence=5).event_id
    digest([spooled(project, python_exception("A")) for _ in range(10)])
    assert Event.objects.filter(project=project).count() == 5
    kept = set(Event.objects.values_list("event_id", flat=True))
    assert first_ids | {regression_id} <= kept
    a = Issue.objects.get(title__startswith="A")
    assert a.event_count == 15 and a.stored_event_count == 4
    stored_counts_are_exact(project)


@override_settings(BUGSINK_ISSUES_RETENTION_EVICT_BATCH=3)
def test_eviction_is_bounded_per_batch_and_catches_up(project, digest):
    digest([spooled(project, python_exception()) for _ in range(20)])
    ProjectSettings.objects.filter(project=project).update(retention_max_events=2)
    digest([spooled(project, python_exception())])
    assert Event.objects.count() == 21 - 3  # one bounded batch only
    assert enforce_retention.call(project.pk) > 0  # the catch-up task finishes the job
    assert Event.objects.count() == 2
    stored_counts_are_exact(project)


def test_max_age(project, digest):
    ProjectSettings.objects.create(project=project, retention_max_age_days=30)
    old = datetime.now(UTC) - timedelta(days=40)
    digest([spooled(project, python_exception(timestamp=old.timestamp())) for _ in range(3)])
    ProjectSettings.objects.filter(project=project).update(last_age_sweep_at=None)
    digest([spooled(project, python_exception())])
    # The first (pinned) old event stays; the other two old ones go.
    assert Event.objects.count() == 2
    assert Event.objects.filter(timestamp__lt=old + timedelta(days=1)).get().issue_sequence == 1
    stored_counts_are_exact(project)


def _enqueued_tasks():
    """Names of the tasks enqueued while the returned list is alive (the Tasks API's signal)."""
    from importlib import import_module

    from harness.compat import TASKS_MODULE

    signal = import_module(f"{TASKS_MODULE}.signals").task_enqueued
    seen = []

    def record(sender, task_result, **kwargs):
        seen.append(task_result.task.name)

    signal.connect(record, weak=False)
    return seen, lambda: signal.disconnect(record)


@override_settings(BUGSINK_ISSUES_RETENTION_EVICT_BATCH=3)
def test_lowering_the_cap_in_the_ui_enqueues_the_catch_up(
    client, digest, django_capture_on_commit_callbacks
):
    admin = make_user("alice")
    project = make_project("Shop", team=make_team("A", admins=[admin]))
    digest([spooled(project, python_exception()) for _ in range(20)])
    client.force_login(admin)
    url = reverse("bugsink_issues:project_settings", args=[project.pk])
    form = {
        "project-name": "Shop",
        "settings-grouping_version": "1",
        "settings-alerts_enabled": "on",
    }
    enqueued, stop = _enqueued_tasks()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, {**form, "settings-retention_max_events": "50"})  # 10,000 -> 50
        assert enqueued == ["enforce_retention"] and Event.objects.count() == 20
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, {**form, "settings-retention_max_events": "100"})  # a raise
        assert enqueued == ["enforce_retention"]  # nothing new
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, {**form, "settings-retention_max_events": "2"})  # a cut
        assert enqueued == ["enforce_retention", "enforce_retention"]
    finally:
        stop()
    # The task ran (ImmediateBackend) to the end, past the digest's batches of 3.
    assert Event.objects.count() == 2
    stored_counts_are_exact(project)


def test_a_shorter_max_age_is_a_tightening_too():
    assert tightened((100, None), (100, 30))
    assert tightened((100, 30), (100, 7))
    assert tightened((100, 30), (99, 30))
    assert not tightened((100, 30), (100, 30))
    assert not tightened((100, 7), (100, 30))
    assert not tightened((100, 30), (200, None))


def test_the_settings_form_leaves_the_digests_counters_alone(project, digest):
    from bugsink_issues.ui.forms import ProjectSettingsForm

    digest([spooled(project, python_exception()) for _ in range(3)])
    row = ProjectSettings.objects.get(project=project)
    form = ProjectSettingsForm(
        {"grouping_version": "1", "alerts_enabled": "on", "retention_max_events": "9"},
        instance=row,
    )
    assert form.is_valid(), form.errors
    digest([spooled(project, python_exception()) for _ in range(2)])  # while the page was open
    form.save()
    row.refresh_from_db()
    assert row.retention_max_events == 9
    stored_counts_are_exact(project)  # the 5 stored events, not the 3 the form had read


@override_settings(BUGSINK_ISSUES_ATTACHMENT_QUOTA_PER_PROJECT=10)
def test_evicted_attachments_give_their_bytes_back_to_the_quota(project, digest, caplog):
    from bugsink_issues.lifecycle.retention import enforce_and_report
    from bugsink_issues.models import EventAttachment, EventAttachmentChunk
    from tests.factories import SpooledAttachment

    def attachment(name):
        return SpooledAttachment.from_bytes(name, "", "event.attachment", b"123456")

    caplog.set_level(logging.INFO, logger="bugsink_issues.lifecycle.retention")
    ProjectSettings.objects.create(project=project, retention_max_events=2)
    digest([spooled(project, python_exception("A"))])  # the issue's first event: pinned
    digest([spooled(project, python_exception("A"), attachments=(attachment("one.txt"),))])
    assert EventAttachmentChunk.objects.count() == 1
    # 6 of the 10 bytes used: a second attachment of 6 does not fit while the first is stored...
    digest([spooled(project, python_exception("A"), attachments=(attachment("refused.txt"),))])
    refused = Event.objects.filter(project=project).order_by("-pk").first()
    assert any("quota" in p["problem"] for p in refused.problems)
    # ...and that third event put the project over its cap: the oldest unpinned one went, and
    # one.txt (its rows and chunks) with it.
    assert Event.objects.filter(project=project).count() == 2
    assert not EventAttachment.objects.exists() and not EventAttachmentChunk.objects.exists()
    assert "with 1 attachments (6 bytes" in caplog.text
    # Its bytes are back: the next one fits.
    digest([spooled(project, python_exception("A"), attachments=(attachment("two.txt"),))])
    assert list(EventAttachment.objects.values_list("filename", flat=True)) == ["two.txt"]

    # What an enforcement reports: the events, and the attachments and bytes that went with them.
    ProjectSettings.objects.filter(project=project).update(retention_max_events=1)
    report = enforce_and_report(ProjectSettings.objects.get(project=project))
    assert (report.events, report.attachments, report.attachment_bytes) == (1, 1, 6)
    assert not EventAttachment.objects.exists()
    stored_counts_are_exact(project)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_the_oldest_events_are_found_by_a_seek_not_a_sort(project, digest):
    digest([spooled(project, python_exception("A")) for _ in range(4)])  # the first is pinned
    sql, params = evictable(project.pk).values_list("id", "issue_id")[:100].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " | ".join(row[-1] for row in cursor.fetchall())
    # A seek on (project_id, is_pinned) and the index's own order: no temporary B-tree.
    assert "bi_event_retention (project_id=? AND is_pinned=?)" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
    unpinned = Event.objects.filter(project=project, is_pinned=False).order_by("id")
    assert list(evictable(project.pk)) == list(unpinned) != []
