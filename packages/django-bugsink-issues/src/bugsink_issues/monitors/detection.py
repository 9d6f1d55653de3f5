"""The periodic check: `detect(now)` finds the monitors that missed a check-in (none within the
due time plus the margin) and the runs in progress past their max runtime. Time is an argument so
the check can be driven without waiting; the task (tasks.py) passes the clock's."""

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bugsink_issues.conf import app_settings
from bugsink_issues.models.monitors import CheckIn, CheckInStatus, Monitor, MonitorStatus
from bugsink_issues.monitors.checkins import trim
from bugsink_issues.monitors.schedule import schedule_of
from bugsink_issues.monitors.transitions import Transition, announce


def margin(monitor: Monitor) -> timedelta:
    minutes = monitor.checkin_margin
    return timedelta(
        minutes=app_settings.MONITOR_DEFAULT_MARGIN_MINUTES if minutes is None else minutes
    )


def max_runtime(monitor: Monitor) -> timedelta:
    minutes = monitor.max_runtime
    if minutes is None:
        minutes = app_settings.MONITOR_DEFAULT_MAX_RUNTIME_MINUTES
    return timedelta(minutes=minutes)


def detect(now: datetime | None = None) -> list[Transition]:
    """Mark what is overdue at `now` (default: the clock); returns the transitions (alerted)."""
    now = now or timezone.now()
    with transaction.atomic():
        transitions = _timeouts(now) + _misses(now)
        announce(transitions)
    return transitions


def _timeouts(now: datetime) -> list[Transition]:
    transitions = []
    open_runs = CheckIn.objects.select_for_update().filter(status=CheckInStatus.IN_PROGRESS)
    for check_in in open_runs.select_related("monitor"):
        monitor = check_in.monitor
        if check_in.started_at + max_runtime(monitor) > now:
            continue
        check_in.status, check_in.finished_at = CheckInStatus.TIMEOUT, now
        check_in.save(update_fields=["status", "finished_at"])
        monitor = Monitor.objects.select_for_update().get(pk=monitor.pk)
        before = monitor.status
        if before != MonitorStatus.TIMED_OUT:
            monitor.status = MonitorStatus.TIMED_OUT
            monitor.save(update_fields=["status"])
            transitions.append(Transition(monitor, before, monitor.status))
    return transitions


def _misses(now: datetime) -> list[Transition]:
    transitions = []
    # The smallest margin is 0: whatever is due before now is looked at, its own margin decides.
    due = Monitor.objects.select_for_update().scheduled().filter(next_expected_at__lt=now)
    for monitor in due:
        schedule = schedule_of(monitor)
        expected = monitor.next_expected_at
        if schedule is None or expected is None or expected + margin(monitor) > now:
            continue
        # One missed check-in for the run that did not come, however many slots passed since.
        CheckIn.objects.create(
            monitor=monitor,
            check_in_id=uuid.uuid4().hex,
            status=CheckInStatus.MISSED,
            started_at=expected,
            finished_at=expected + margin(monitor),
        )
        monitor.next_expected_at = schedule.next_after(now)
        before = monitor.status
        monitor.status = MonitorStatus.MISSED
        monitor.save(update_fields=["status", "next_expected_at"])
        trim(monitor)
        if before != MonitorStatus.MISSED:
            transitions.append(Transition(monitor, before, monitor.status))
    return transitions
