"""The two tasks of the ingest app and how they are enqueued: the drain and the sweep.

The drain (drain.py does the delivering). While the consumer fails, at most one drain waits: the
failing drain takes the wake-up marker again, so requests enqueue nothing, and enqueues one retry
itself, deferred by a backoff (5 s, doubling, at most 40 s: below the marker's 60 s staleness, so
the marker is still fresh when the retry starts and clears it). That drain then ends without
raising: a backend's own retries of a failed task would multiply drains. A backend that cannot
defer (ImmediateBackend) gets the error raised, and the next request starts the next drain.

Several drains at once (BUGSINK_INGEST_PARALLEL_DRAINS, for PostgreSQL and several workers): a
drain that starts with more than one batch waiting wakes another one (fan_out), which does the
same; the spool gives each its own claims. Off, a spool that can (ExclusiveDrains: the segment
spool) lets one drain run at a time; see drain().

The sweep keeps ingest live with nothing but the host's Tasks worker. A drain starts when an event
is spooled. Events can still wait with no drain coming: the drain's enqueue failed (the event was
acknowledged all the same), a drain was killed (its claims come back only at the next claim), a
queued drain was lost. On a quiet site no next event comes. So while events wait, one chain of
deferred tasks lives: `sweep_spool` runs every BUGSINK_INGEST_SWEEP_SECONDS, wakes a drain if
events wait and none is pending, and enqueues itself again with `run_after`; it ends when the
spool is empty. A marker in the spool names the live chain (a token), so there is one chain at
most: a chain whose marker went stale (its task was lost, or its worker stood still) is replaced
by a new one, and its task, should it run after all, finds another token and ends. It is armed
where events are spooled (a marker look at most once a second per process, and at once when the
drain could not be enqueued) and at the start of every drain (should the drain be killed). A
backend that cannot defer tasks gets no sweep (system check bugsink_ingest.W005).
"""

import logging
import time
from datetime import timedelta

from django.utils import timezone

from bugsink_ingest.compat import ImmediateBackend, task
from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.drain import ConsumerDown, Drain
from bugsink_ingest.handoff import get_consumer
from bugsink_ingest.loopguard import ingest_chain
from bugsink_ingest.spool import Spool, get_spool
from bugsink_ingest.spool.base import ExclusiveDrains

logger = logging.getLogger(__name__)
# One task run drains for at most this long, then hands over to a fresh task.
RUN_SECONDS = 30
RETRY_FIRST_SECONDS = 5
RETRY_MAX_SECONDS = 40
# A sweep chain whose marker was not renewed within SWEEP_SECONDS plus this is taken for lost.
STALE_GRACE_SECONDS = 60
ARM_LOOK_SECONDS = 1.0  # the request path looks at the sweep marker at most this often per process


class DrainFailed(Exception):
    """Raised by drain(schedule_retry=False) when the run could not hand everything off."""


@task()
def drain_spool(failures: int = 0) -> int:
    """Hand spooled events to the consumer in batches; `failures`: failed runs before this one."""
    return drain(failures)


def drain(failures: int = 0, *, schedule_retry: bool = True) -> int:
    """One drain run in this process; returns the number of events handed off.

    Without PARALLEL_DRAINS, on a spool that can tell (ExclusiveDrains), one drain runs at a
    time: one that finds another running ends at once and leaves the wake-up marker set (so
    requests enqueue no more drains meanwhile); the running one, once it has let go, clears the
    marker and looks at the backlog, and wakes a drain for what came in the meantime."""
    spool = get_spool()
    if ingest_settings.PARALLEL_DRAINS or not isinstance(spool, ExclusiveDrains):
        return _drain(spool, failures, schedule_retry, exclusive=False)[0]
    with spool.drain_lock() as mine:
        if not mine:
            return 0
        handed_off, succeeded = _drain(spool, failures, schedule_retry, exclusive=True)
    if succeeded:  # a failed run holds the marker for its retry (_retry_later)
        spool.clear_wakeup()
        if spool.backlog_size():
            wake_drain()
    return handed_off


def _drain(
    spool: Spool, failures: int, schedule_retry: bool, *, exclusive: bool
) -> tuple[int, bool]:
    """The run of drain(): the events handed off, and whether it ended well (no retry due)."""
    # Cleared before reading: an event spooled from now on enqueues a new task, and one spooled
    # before is seen by the reads below. No wake-up is lost.
    spool.clear_wakeup()
    # Should this run die (its worker killed), the sweep starts the next one.
    arm_sweep()
    consumer = get_consumer()
    if consumer is None:
        logger.warning("no ingest consumer configured: events stay in the spool")
        return 0, False
    if ingest_settings.PARALLEL_DRAINS:
        fan_out(spool)
    run = Drain(spool, consumer)
    error: Exception | None
    try:
        emptied = run.run(time.monotonic() + RUN_SECONDS)
    except ConsumerDown as down:
        error = down.error
    else:
        if not run.unresolved:
            if not emptied and not exclusive:  # (exclusive: drain() looks, once it let go)
                wake_drain()  # time is up and events may remain: a fresh task continues
            return run.handed_off, True
        error = run.last_error()  # an event failed alone and nothing vouched for the consumer
    if not schedule_retry:
        raise DrainFailed(f"handed off {run.handed_off} events, then: {error!r}") from error
    return _retry_later(spool, failures, error, run.handed_off), False


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


def fan_out(spool: Spool) -> None:
    """More than one batch waits: wake another drain to work beside this one. That one does the
    same when it starts, so drains spread over the free workers while the backlog lasts; the one
    pending marker keeps it at one waiting task. Never raises (logged): this drain runs anyway."""
    if isinstance(drain_spool.get_backend(), ImmediateBackend):
        return  # it would run inside this one, not beside it
    try:
        if spool.approximate_backlog() > ingest_settings.SPOOL_BATCH_SIZE:
            wake_drain()
    except Exception:
        logger.exception("could not wake a second drain; this one drains alone")


def wake_drain() -> None:
    """Enqueue a drain unless one is already pending."""
    spool = get_spool()
    if spool.request_wakeup():
        try:
            drain_spool.enqueue()
        except BaseException:
            spool.clear_wakeup()
            raise


def sweep_seconds() -> float | None:
    return ingest_settings.SWEEP_SECONDS or None


def sweep_unavailable_reason() -> str | None:
    """Why a configured sweep cannot run (for the system check); None if it can, or is off."""
    if not sweep_seconds():
        return None
    backend = sweep_spool.get_backend()
    if backend.supports_defer or isinstance(backend, ImmediateBackend):
        return None  # ImmediateBackend runs every drain inside the request: none is ever lost
    return f"the Tasks backend {type(backend).__name__} cannot defer tasks (supports_defer)"


def arm_sweep() -> None:
    """Start the sweep chain unless one lives. Never raises (logged): callers have work of
    their own to finish, and the next look tries again."""
    try:
        seconds = sweep_seconds()
        if not seconds or not sweep_spool.get_backend().supports_defer:
            return
        spool = get_spool()
        token = spool.request_sweep(seconds + STALE_GRACE_SECONDS)
        if token is not None:
            _enqueue(token, seconds)
    except Exception:
        logger.exception("could not start the spool sweep; the next look tries again")


_last_look = [0.0]


def arm_sweep_now_and_then() -> None:
    """arm_sweep() at most once every ARM_LOOK_SECONDS in this process (the request path)."""
    now = time.monotonic()
    if now - _last_look[0] >= ARM_LOOK_SECONDS:
        _last_look[0] = now
        arm_sweep()


def _enqueue(token: str, seconds: float) -> None:
    try:
        sweep_spool.using(run_after=timezone.now() + timedelta(seconds=seconds)).enqueue(token)
    except BaseException:
        get_spool().end_sweep(token)  # no chain after all: the next look starts one
        raise


@task()
def sweep_spool(token: str) -> str:
    """One link of the sweep chain; returns what it did ("waiting", "ended", "superseded")."""
    with ingest_chain():
        return sweep(token)


def sweep(token: str) -> str:
    spool = get_spool()
    seconds = sweep_seconds()
    if not seconds or not spool.renew_sweep(token):
        return "superseded"  # another chain took over, or the sweep was turned off
    if spool.backlog_size():
        try:
            wake_drain()  # a no-op while a drain is pending
        except Exception:
            logger.exception("the sweep could not enqueue a drain; it tries again in %s s", seconds)
        try:
            _enqueue(token, seconds)
        except Exception:
            logger.exception("the sweep could not enqueue its next run; the next event re-arms it")
            return "ended"
        return "waiting"
    spool.end_sweep(token)
    # An event spooled by a request that saw the marker just before it went: counted here.
    if spool.backlog_size():
        arm_sweep()
        return "waiting"
    return "ended"
