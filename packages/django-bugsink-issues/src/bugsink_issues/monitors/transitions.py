"""A monitor's change of status, and the alert it sends: into failing, missed or timed out, once
per change (a monitor missed again and again stays `missed` and alerts no more)."""

from dataclasses import dataclass
from functools import partial

from django.db import transaction

from bugsink_issues.alerts.tasks import send_monitor_alerts
from bugsink_issues.conf import app_settings
from bugsink_issues.models.monitors import Monitor, MonitorStatus

TRIGGERS = {
    MonitorStatus.FAILING: "monitor_failed",
    MonitorStatus.MISSED: "monitor_missed",
    MonitorStatus.TIMED_OUT: "monitor_timeout",
}


@dataclass(frozen=True)
class Transition:
    monitor: Monitor
    before: str
    after: str

    @property
    def trigger(self) -> str | None:
        return TRIGGERS.get(MonitorStatus(self.after)) if self.after != self.before else None


def announce(transitions: list[Transition]) -> None:
    """Enqueue the alert of each transition that has one, once the transaction commits."""
    if not app_settings.ALERTS_ENABLED:
        return
    for t in transitions:
        trigger = t.trigger
        if trigger:
            transaction.on_commit(partial(_enqueue, t.monitor.pk, trigger))


def _enqueue(monitor_id: int, trigger: str) -> None:
    send_monitor_alerts.enqueue(monitor_id=monitor_id, trigger=trigger)
