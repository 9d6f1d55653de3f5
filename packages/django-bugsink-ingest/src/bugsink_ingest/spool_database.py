"""DatabaseSpool: events as rows on a database alias, so several web hosts can share one spool.

Claims set claimed_until (a lease) in a short transaction; an expired lease means its drain died
and the rows are claimed again (as does a lease ending more than two lease lengths ahead: the
clock was set back since). With PostgreSQL, SKIP LOCKED keeps concurrent drains apart. Events the consumer
cannot take (see drain.py) get quarantined_at and their error, and are never claimed until
restore_quarantined().
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from bugsink_ingest import spool_format
from bugsink_ingest.spool import SpooledEvent

WAKE_STALE_SECONDS = 60


class DatabaseSpool:
    def __init__(self, alias=None):
        self.alias = alias or settings.BUGSINK_INGEST_SPOOL_DATABASE

    def _entries(self):
        from bugsink_ingest.models import SpoolEntry

        return SpoolEntry.objects.using(self.alias)

    def write(self, event: SpooledEvent) -> None:
        self._entries().create(spool_id=event.spool_id, blob=spool_format.dump(event))

    def _waiting(self):
        return self._entries().filter(quarantined_at__isnull=True)

    def backlog_size(self) -> int:
        return self._waiting().count()

    approximate_backlog = backlog_size  # an indexed count: cheap enough once a second

    def claim(self, limit: int, *, newest: bool = False) -> list[SpooledEvent]:
        """Up to `limit` waiting events, oldest first (newest first with newest=True)."""
        now = timezone.now()
        lease_length = timedelta(seconds=settings.BUGSINK_INGEST_SPOOL_CLAIM_SECONDS)
        lease = now + lease_length
        # Ending more than two lease lengths ahead: granted before the clock was set back (one
        # whole length of margin, so another host whose clock runs a little ahead keeps its lease).
        ahead = now + 2 * lease_length
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claimed_until__gt=ahead)
        skip_locked = connections[self.alias].features.has_select_for_update_skip_locked
        with transaction.atomic(using=self.alias):
            rows = self._waiting().filter(free).order_by("-id" if newest else "id")
            if skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            rows = list(rows.values_list("id", "spool_id", "blob")[:limit])
            self._entries().filter(id__in=[r[0] for r in rows]).update(claimed_until=lease)
        return [spool_format.load(spool_id, bytes(blob)) for _, spool_id, blob in rows]

    def ack(self, spool_ids) -> None:
        self._entries().filter(spool_id__in=list(spool_ids)).delete()

    def release(self, spool_ids) -> None:
        self._entries().filter(spool_id__in=list(spool_ids)).update(claimed_until=None)

    def quarantine(self, spool_id: str, error: str) -> None:
        """Set a claimed event aside (never claimed again until restored)."""
        self._entries().filter(spool_id=spool_id).update(
            quarantined_at=timezone.now(), claimed_until=None, error=error
        )

    def quarantined_count(self) -> int:
        return self._entries().filter(quarantined_at__isnull=False).count()

    def restore_quarantined(self) -> int:
        """Put every quarantined event back in the spool; returns how many."""
        return (
            self._entries()
            .filter(quarantined_at__isnull=False)
            .update(quarantined_at=None, error="")
        )

    def request_wakeup(self) -> bool:
        from bugsink_ingest.models import SpoolWakeup

        wakeups = SpoolWakeup.objects.using(self.alias)
        try:
            with transaction.atomic(using=self.alias):
                wakeups.create(id=1)
            return True
        except IntegrityError:
            # Stale when old, or from the "future" (the clock was stepped back since it was made).
            now = timezone.now()
            window = timedelta(seconds=WAKE_STALE_SECONDS)
            stale = Q(created_at__lt=now - window) | Q(created_at__gt=now + window)
            return wakeups.filter(stale, id=1).update(created_at=now) == 1

    def clear_wakeup(self) -> None:
        from bugsink_ingest.models import SpoolWakeup

        SpoolWakeup.objects.using(self.alias).filter(id=1).delete()
