"""The periodic monitor check as a chain of deferred Django Tasks (any backend that can defer).

`check_monitors(token)` runs detect() and enqueues itself again MONITOR_CHECK_SECONDS later, while
the installation has monitors with a schedule. One chain lives at most: MonitorCheckChain holds the
live chain's token, renewed by each link; `arm_monitor_checks()` starts a chain when none lives or
the live one went stale (its task lost), and a superseded link ends when it runs. It is armed
after each batch of check-ins and when a Monitors page is opened, so a job that stops sending is
still found missed: the chain, once started, does not need its check-ins to go on.
"""

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from bugsink_issues.compat import task
from bugsink_issues.conf import app_settings
from bugsink_issues.models.monitors import Monitor, MonitorCheckChain
from bugsink_issues.monitors.detection import detect

logger = logging.getLogger(__name__)
STALE_GRACE_SECONDS = 60


def _interval() -> timedelta:
    return timedelta(seconds=app_settings.MONITOR_CHECK_SECONDS)


def can_chain() -> bool:
    return bool(check_monitors.get_backend().supports_defer)


def arm_monitor_checks() -> str | None:
    """Start the chain unless a fresh one lives; returns the new token, or None. Never raises
    (logged): its callers have their own work to finish."""
    try:
        if not can_chain() or not Monitor.objects.scheduled().exists():
            return None
        now = timezone.now()
        with transaction.atomic():
            row = MonitorCheckChain.objects.select_for_update().filter(pk=1).first()
            stale_before = now - _interval() - timedelta(seconds=STALE_GRACE_SECONDS)
            if row is not None and row.renewed_at > stale_before:
                return None
            token = uuid.uuid4().hex
            MonitorCheckChain.objects.update_or_create(
                pk=1, defaults={"token": token, "renewed_at": now}
            )
            transaction.on_commit(lambda: _enqueue(token))
        return token
    except Exception:
        logger.exception("could not start the periodic monitor check; the next look tries again")
        return None


def _enqueue(token: str) -> None:
    check_monitors.using(run_after=timezone.now() + _interval()).enqueue(token)


@task()
def check_monitors(token: str) -> str:
    """One link of the chain: "checked" (and the next link enqueued), "ended" or "superseded"."""
    with transaction.atomic():
        row = MonitorCheckChain.objects.select_for_update().filter(pk=1).first()
        if row is None or row.token != token:
            return "superseded"
        if not Monitor.objects.scheduled().exists():
            row.delete()
            return "ended"
        row.renewed_at = timezone.now()
        row.save(update_fields=["renewed_at"])
    detect()
    try:
        _enqueue(token)
    except Exception:
        logger.exception("the monitor check could not enqueue its next run; the next look re-arms")
        return "ended"
    return "checked"
