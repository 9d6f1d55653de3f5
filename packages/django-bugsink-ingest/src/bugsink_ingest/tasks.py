"""The Django Tasks task that drains the spool into the consumer (drain.py does the delivering).

While the consumer fails, at most one drain waits: the failing drain takes the wake-up marker
again, so requests enqueue nothing, and enqueues one retry itself, deferred by a backoff (5 s,
doubling, at most 40 s: below the marker's 60 s staleness, so the marker is still fresh when the
retry starts and clears it). That drain then ends without raising: a backend's own retries of
a failed task would multiply drains. A backend that cannot defer (ImmediateBackend) gets the
error raised, and the next request starts the next drain.
"""

import logging
import time
from datetime import timedelta

from django.utils import timezone

from bugsink_ingest.compat import task
from bugsink_ingest.drain import ConsumerDown, Drain
from bugsink_ingest.handoff import get_consumer
from bugsink_ingest.spool import Spool, get_spool
from bugsink_ingest.sweep import arm_sweep

logger = logging.getLogger(__name__)
# One task run drains for at most this long, then hands over to a fresh task.
RUN_SECONDS = 30
RETRY_FIRST_SECONDS = 5
RETRY_MAX_SECONDS = 40


class DrainFailed(Exception):
    """Raised by drain(schedule_retry=False) when the run could not hand everything off."""


@task()
def drain_spool(failures: int = 0) -> int:
    """Hand spooled events to the consumer in batches; `failures`: failed runs before this one."""
    return drain(failures)


def drain(failures: int = 0, *, schedule_retry: bool = True) -> int:
    """One drain run in this process; returns the number of events handed off."""
    spool = get_spool()
    # Cleared before reading: an event spooled from now on enqueues a new task, and one spooled
    # before is seen by the reads below. No wake-up is lost.
    spool.clear_wakeup()
    # Should this run die (its worker killed), the sweep starts the next one.
    arm_sweep()
    consumer = get_consumer()
    if consumer is None:
        logger.warning("no ingest consumer configured: events stay in the spool")
        return 0
    run = Drain(spool, consumer)
    error: Exception | None
    try:
        emptied = run.run(time.monotonic() + RUN_SECONDS)
    except ConsumerDown as down:
        error = down.error
    else:
        if not run.unresolved:
            if not emptied:
                wake_drain()  # time is up and events may remain: a fresh task continues
            return run.handed_off
        error = run.last_error()  # an event failed alone and nothing vouched for the consumer
    if not schedule_retry:
        raise DrainFailed(f"handed off {run.handed_off} events, then: {error!r}") from error
    return _retry_later(spool, failures, error, run.handed_off)


def _retry_later(spool: Spool, failures: int, error: Exception | None, handed_off: int) -> int:
    if not drain_spool.get_backend().supports_defer:
        raise error or DrainFailed(f"handed off {handed_off} events, then failed")
    delay = min(RETRY_FIRST_SECONDS * 2**failures, RETRY_MAX_SECONDS)
    # False: a request enqueued a drain since this one cleared the marker; that one is the retry.
    if spool.request_wakeup():
        try:
            drain_spool.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
                failures=failures + 1
            )
        except BaseException:
            spool.clear_wakeup()
            raise
    logger.error(
        "the ingest consumer failed (%s events handed off first); the spool keeps the rest and "
        "the drain runs again in %s s",
        handed_off,
        delay,
        exc_info=error,
    )
    return handed_off


def wake_drain() -> None:
    """Enqueue a drain unless one is already pending."""
    spool = get_spool()
    if spool.request_wakeup():
        try:
            drain_spool.enqueue()
        except BaseException:
            spool.clear_wakeup()
            raise
