"""Cron monitors in process: check-ins through the real digest (as the hand-off delivers them),
the periodic check driven with explicit times, alerts once per transition, the Monitors page's
escaping and access. The SDKs and sentry-cli against a real server: tests/e2e/test_monitors.py."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from bugsink_ingest.envelope import Limits, parse_envelope
from bugsink_ingest.intake import events_from_envelope
from bugsink_issues.models import AlertChannel, AlertDelivery, CheckIn, Monitor
from bugsink_issues.monitors.detection import detect
from bugsink_issues.monitors.schedule import InvalidConfig, Schedule, parse_config
from tests.factories import make_project, make_team, make_user, spooled

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 5, 10, 0, 30, tzinfo=UTC)
HOURLY = {"schedule": {"type": "crontab", "value": "0 * * * *"}, "checkin_margin": 5}


def check_in(project, slug, status, *, at=T0, check_in_id=None, config=None, **extra):
    body = {"monitor_slug": slug, "status": status, "check_in_id": check_in_id or uuid.uuid4().hex}
    if config is not None:
        body["monitor_config"] = config
    return spooled(project, {**body, **extra}, kind="check_in", received_at=at)


def test_check_in_item_is_kept_by_ingest_as_kind_check_in():
    item = {"type": "check_in", "monitor_slug": "nightly", "check_in_id": "c" * 32, "status": "ok"}
    payload = json.dumps(item).encode()
    body = b'{"event_id":"%s"}\n{"type":"check_in","length":%d}\n%s\n' % (
        b"a" * 32,
        len(payload),
        payload,
    )
    envelope = parse_envelope(iter([body]), Limits(header_line=10_000, event=10**6, attachment=10))
    (event,) = events_from_envelope(envelope.headers, envelope.items, project_id=1)
    assert event.kind == "check_in" and json.loads(event.payload)["monitor_slug"] == "nightly"


def test_check_ins_upsert_the_monitor_and_close_the_run(project, digest):
    run = uuid.uuid4().hex
    digest([check_in(project, "nightly", "in_progress", check_in_id=run, config=HOURLY)])
    monitor = Monitor.objects.get(project=project, slug="nightly")
    assert (monitor.schedule_type, monitor.schedule_value, monitor.checkin_margin) == (
        "crontab",
        "0 * * * *",
        5,
    )
    assert monitor.next_expected_at == datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    later = T0 + timedelta(seconds=42)
    config = {**HOURLY, "max_runtime": 10, "timezone": "Europe/Amsterdam"}
    digest(
        [check_in(project, "nightly", "ok", at=later, check_in_id=run, config=config, duration=42)]
    )
    monitor.refresh_from_db()
    assert (monitor.max_runtime, monitor.timezone, monitor.status) == (10, "Europe/Amsterdam", "ok")
    (row,) = CheckIn.objects.filter(monitor=monitor)
    assert (row.status, row.duration, row.finished_at) == ("ok", 42, later)
    # Redelivered (at-least-once): the in_progress again does not reopen the finished run.
    digest([check_in(project, "nightly", "in_progress", check_in_id=run)])
    row.refresh_from_db()
    assert row.status == "ok" and CheckIn.objects.count() == 1


def test_interval_schedule_and_bad_configs():
    fields = parse_config({"schedule": {"type": "interval", "value": 2, "unit": "hour"}})
    assert fields["schedule_type"] == "interval" and fields["schedule_unit"] == "hour"
    schedule = Schedule("interval", "2", "hour")
    assert schedule.next_after(T0) == T0 + timedelta(hours=2)
    assert schedule.describe() == "every 2 hours"
    assert Schedule("crontab", "@daily", timezone="Europe/Amsterdam").next_after(T0) == datetime(
        2026, 1, 5, 23, 0, tzinfo=UTC
    )
    for bad in (
        {"schedule": {"type": "crontab", "value": "61 * * * *"}},
        {"schedule": {"type": "interval", "value": 0, "unit": "minute"}},
        {"schedule": {"type": "interval", "value": 1, "unit": "fortnight"}},
        {"schedule": "0 * * * *"},
        [],
    ):
        with pytest.raises(InvalidConfig):
            parse_config(bad)


def test_bad_config_keeps_the_schedule_and_bad_check_ins_are_dropped(project, digest):
    digest([check_in(project, "job", "ok", config=HOURLY)])
    bad = {"schedule": {"type": "crontab", "value": "not cron"}}
    digest(
        [
            check_in(project, "job", "ok", config=bad),
            check_in(project, "job", "exploded"),
            spooled(project, {"status": "ok"}, kind="check_in"),
            spooled(project, b"[1, 2]", kind="check_in"),
        ]
    )
    monitor = Monitor.objects.get()
    assert monitor.schedule_value == "0 * * * *" and monitor.check_ins.count() == 2


def test_error_check_in_fails_the_monitor_and_alerts_once(project, digest):
    AlertChannel.objects.create(project=project, kind="email", target="ops@example.com")
    digest([check_in(project, "backup", "ok", config=HOURLY)])
    digest([check_in(project, "backup", "error")])
    digest([check_in(project, "backup", "error")])  # still failing: no second alert
    assert Monitor.objects.get().status == "failing"
    (message,) = mail.outbox
    assert "Monitor failed" in message.subject and "backup" in message.subject
    assert "Monitor: backup" in message.body
    digest([check_in(project, "backup", "ok")])
    assert Monitor.objects.get().status == "ok" and len(mail.outbox) == 1


def test_missed_check_in_is_found_at_due_plus_margin_and_alerts_once(
    project, digest, django_capture_on_commit_callbacks
):
    AlertChannel.objects.create(project=project, kind="email", target="ops@example.com")
    digest([check_in(project, "hourly", "ok", config=HOURLY)])
    monitor = Monitor.objects.get()
    due = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        assert detect(now=due + timedelta(minutes=4)) == []  # inside the 5 minutes' margin
        (transition,) = detect(now=due + timedelta(minutes=6))
        # An hour later the next slot is missed too: one more missed check-in, no second alert.
        assert detect(now=due + timedelta(hours=1, minutes=6)) == []
    assert transition.trigger == "monitor_missed"
    monitor.refresh_from_db()
    assert monitor.status == "missed"
    assert monitor.next_expected_at == datetime(2026, 1, 5, 13, 0, tzinfo=UTC)
    assert list(monitor.check_ins.filter(status="missed").values_list("started_at", flat=True)) == [
        due,
        due + timedelta(hours=1),
    ]
    (message,) = mail.outbox
    assert "Monitor missed" in message.subject and "no check-in came" in message.body
    assert list(AlertDelivery.objects.values_list("trigger", "status")) == [
        ("monitor_missed", "sent")
    ]
    # The job runs again: ok, and a later miss alerts again (a new transition).
    digest([check_in(project, "hourly", "in_progress", at=due + timedelta(hours=2, minutes=1))])
    monitor.refresh_from_db()
    assert monitor.status == "ok"


def test_run_in_progress_past_max_runtime_times_out(project, digest):
    config = {**HOURLY, "max_runtime": 15}
    run = uuid.uuid4().hex
    digest([check_in(project, "etl", "in_progress", check_in_id=run, config=config)])
    assert detect(now=T0 + timedelta(minutes=14)) == []
    (transition,) = detect(now=T0 + timedelta(minutes=16))
    assert (transition.before, transition.after, transition.trigger) == (
        "ok",
        "timed_out",
        "monitor_timeout",
    )
    assert CheckIn.objects.get(check_in_id=run).status == "timeout"
    assert detect(now=T0 + timedelta(minutes=17)) == []
    # Its late close changes nothing: the run was already timed out.
    digest([check_in(project, "etl", "ok", at=T0 + timedelta(minutes=20), check_in_id=run)])
    assert CheckIn.objects.get(check_in_id=run).status == "timeout"
    assert Monitor.objects.get().status == "timed_out"


@override_settings(BUGSINK_ISSUES_MONITOR_CHECKINS_KEPT=5)
def test_check_ins_are_bounded_per_monitor(project, digest):
    digest(
        [
            check_in(project, "often", "ok", at=T0 + timedelta(minutes=i), config=HOURLY)
            for i in range(8)
        ]
    )
    kept = CheckIn.objects.order_by("started_at").values_list("started_at", flat=True)
    assert list(kept) == [T0 + timedelta(minutes=i) for i in range(3, 8)]


def test_monitors_page_escapes_a_hostile_slug_and_is_404_for_other_teams(client, digest):
    alice, bob = make_user("alice"), make_user("bob")
    mine = make_project("Mine", team=make_team("A", members=[alice]))
    make_team("B", members=[bob])
    hostile = '<script>alert("slug")</script>'
    digest([check_in(mine, hostile, "error", config=HOURLY, environment="<b>prod</b>")])
    client.force_login(alice)
    url = reverse("bugsink_issues:project_monitors", args=[mine.pk])
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert hostile not in html and "&lt;script&gt;alert(&quot;slug&quot;)&lt;/script&gt;" in html
    assert "<b>prod</b>" not in html and "&lt;b&gt;prod&lt;/b&gt;" in html
    assert "Failing" in html and "0 * * * * (UTC)" in html and "margin 5 min" in html
    project_page = client.get(reverse("bugsink_issues:project_issues", args=[mine.pk]))
    assert url in project_page.content.decode()  # linked from the project's tabs
    client.force_login(bob)
    assert client.get(url).status_code == 404


def test_one_check_chain_while_monitors_have_a_schedule(project, digest):
    """The periodic check: armed by check-ins, one chain at most, each link deferred; a stale
    chain is replaced and its late link ends; no scheduled monitors, no chain."""
    from bugsink_issues.models import MonitorCheckChain
    from bugsink_issues.monitors import tasks
    from harness.compat import TASKS_MODULE

    dummy = {"default": {"BACKEND": f"{TASKS_MODULE}.backends.dummy.DummyBackend"}}
    with override_settings(TASKS=dummy):
        backend = tasks.check_monitors.get_backend()
        backend.clear()

        def links():
            return [r for r in backend.results if r.task.name == "check_monitors"]

        assert tasks.arm_monitor_checks() is None  # nothing scheduled yet
        digest([check_in(project, "hourly", "ok", at=datetime.now(UTC), config=HOURLY)])
        (link,) = links()
        assert link.task.run_after is not None
        digest([check_in(project, "hourly", "ok", at=datetime.now(UTC))])
        assert len(links()) == 1  # a chain lives: not another
        token = link.args[0]
        assert tasks.check_monitors.call(token) == "checked" and len(links()) == 2
        # Gone stale (its task lost): replaced, and the old link ends when it runs after all.
        MonitorCheckChain.objects.update(renewed_at=datetime.now(UTC) - timedelta(hours=1))
        new_token = tasks.arm_monitor_checks()
        assert new_token and new_token != token
        assert tasks.check_monitors.call(token) == "superseded"
        Monitor.objects.all().delete()
        assert tasks.check_monitors.call(new_token) == "ended"
        assert not MonitorCheckChain.objects.exists()


def test_one_batch_of_many_runs_of_many_monitors(project, digest):
    """A batch's monitors and stored check-ins are looked up once: runs opened and closed in one
    batch, a run opened before and closed in it, a redelivered close, several monitors."""
    before = uuid.uuid4().hex
    digest([check_in(project, "m1", "in_progress", check_in_id=before, config=HOURLY)])
    runs = [uuid.uuid4().hex for _ in range(3)]
    later = T0 + timedelta(seconds=30)
    batch = [
        check_in(project, "m1", "ok", at=later, check_in_id=before, duration=30),
        check_in(project, "m2", "in_progress", at=later, check_in_id=runs[0]),
        check_in(project, "m2", "error", at=later, check_in_id=runs[0], duration=1),
        check_in(project, "m3", "ok", at=later, check_in_id=runs[1]),
        check_in(project, "m3", "in_progress", at=later, check_in_id=runs[2]),
    ]
    digest(batch)
    digest(batch[:1])  # the close of m1's run again: nothing new
    rows = {
        (c.monitor.slug, c.check_in_id): c.status for c in CheckIn.objects.select_related("monitor")
    }
    assert rows == {
        ("m1", before): "ok",
        ("m2", runs[0]): "error",
        ("m3", runs[1]): "ok",
        ("m3", runs[2]): "in_progress",
    }
    statuses = dict(Monitor.objects.values_list("slug", "status"))
    assert statuses == {"m1": "ok", "m2": "failing", "m3": "ok"}
    m1 = Monitor.objects.get(slug="m1")
    assert m1.last_checkin_at == later and m1.schedule_value == "0 * * * *"
