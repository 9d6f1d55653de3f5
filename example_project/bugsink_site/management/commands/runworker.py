import argparse
import logging
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "The deployment's background worker: the Tasks backend's worker command (e.g. runsnappea), "
        "plus a sweep that starts a spool drain whenever events wait and none is pending."
    )

    def add_arguments(self, parser):
        parser.add_argument("worker_command", nargs=argparse.REMAINDER)

    def handle(self, *args, worker_command, **options):
        from bugsink_site import gc_tuning

        gc_tuning.tune_worker()
        interval = settings.BUGSINK_SPOOL_SWEEP_SECONDS
        if interval:
            threading.Thread(
                target=sweep_spool, args=(interval,), name="spool-sweep", daemon=True
            ).start()
        call_command(*worker_command)


def sweep_spool(interval: float):
    """Events can wait with no drain coming: a drain starts only when an event arrives, and a batch
    claimed by a worker that was killed is put back only when a later drain looks. On a quiet
    tracker that could be never; this makes it `interval`.
    """
    from bugsink_ingest.spool import backlog_size
    from bugsink_ingest.tasks import wake_drain

    while True:
        time.sleep(interval)
        try:
            if backlog_size():
                wake_drain()  # no-op while a drain is already pending
        except Exception:
            logger.exception("spool sweep failed; trying again in %ss", interval)
        finally:
            connections.close_all()  # this thread's own connections (WAL checkpoints need it)
