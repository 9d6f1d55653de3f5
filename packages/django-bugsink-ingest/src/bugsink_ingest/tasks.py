"""The Django Tasks task that drains the spool into the consumer."""

import logging
import time

from django.conf import settings

from bugsink_ingest.handoff import get_consumer
from bugsink_ingest.spool import get_spool

try:
    from django.tasks import task
except ImportError:  # Django < 6: the django-tasks backport
    from django_tasks import task

logger = logging.getLogger(__name__)
# One task run drains for at most this long, then hands over to a fresh task.
RUN_SECONDS = 30


@task()
def drain_spool() -> int:
    """Hand spooled events to the consumer in batches; remove each batch after it returned."""
    spool = get_spool()
    # Cleared before reading: an event spooled from now on enqueues a new task, and one spooled
    # before is seen by the reads below. No wake-up is lost.
    spool.clear_wakeup()
    consumer = get_consumer()
    if consumer is None:
        logger.warning("no ingest consumer configured: events stay in the spool")
        return 0
    handed_off, deadline = 0, time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        batch = spool.claim(settings.BUGSINK_INGEST_SPOOL_BATCH_SIZE)
        if not batch:
            return handed_off
        ids = [e.spool_id for e in batch]
        try:
            consumer.func(batch if consumer.wants_attachments else [_bare(e) for e in batch])
        except BaseException:
            spool.release(ids)
            raise
        spool.ack(ids)
        handed_off += len(batch)
    wake_drain()  # time is up and events may remain: a fresh task continues
    return handed_off


def _bare(event):
    from dataclasses import replace

    return replace(event, attachments=())


def wake_drain() -> None:
    """Enqueue a drain unless one is already pending."""
    spool = get_spool()
    if spool.request_wakeup():
        try:
            drain_spool.enqueue()
        except BaseException:
            spool.clear_wakeup()
            raise
