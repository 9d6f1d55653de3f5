"""DatabaseSpool: events as rows on a database alias, so several web hosts can share one spool.

Claims set claimed_until (a lease) in a short transaction; an expired lease means its drain died
and the rows are claimed again (as does a lease ending more than two lease lengths ahead: the
clock was set back since). With PostgreSQL, SKIP LOCKED keeps concurrent drains apart. Events the
consumer cannot take (see drain.py) get quarantined_at and their error, and are never claimed
until restore_quarantined(). The markers are single rows (SpoolWakeup, SpoolSweep).

Attachments are rows too (SpoolAttachmentChunk, a MiB each), written as they stream in and read
back one chunk at a time: every web host reaches the database, where a file would need a disk
they all share. They leave with their event's row.
"""

import io
import os
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, BinaryIO, cast

from django.db import IntegrityError, connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.spool import records
from bugsink_ingest.spool.markers import WAKE_STALE_SECONDS
from bugsink_ingest.spool.records import SpooledEvent

if TYPE_CHECKING:
    from bugsink_ingest.models import SpoolAttachmentChunk, SpoolEntry


class _ChunkReader(io.RawIOBase):
    """An attachment's chunks, fetched one row at a time as they are read."""

    def __init__(self, chunks: "QuerySet[SpoolAttachmentChunk]"):
        self._chunks = chunks
        self._seq = 0
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        if not self._buf:
            row = self._chunks.filter(seq=self._seq).values_list("data", flat=True).first()
            if row is None:
                return 0
            self._seq += 1
            self._buf = memoryview(bytes(row))
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


class DatabaseSpool:
    def __init__(self, alias: str | None = None):
        self.alias = alias or ingest_settings.SPOOL_DATABASE
        self._files: dict[str, list[str]] = {}  # claimed spool id -> its attachments' refs

    def _entries(self) -> "QuerySet[SpoolEntry]":
        # Imported here: the spool module is imported before the app registry is ready.
        from bugsink_ingest.models import SpoolEntry

        return SpoolEntry.objects.using(self.alias)

    def _chunks(self) -> "QuerySet[SpoolAttachmentChunk]":
        from bugsink_ingest.models import SpoolAttachmentChunk

        return SpoolAttachmentChunk.objects.using(self.alias)

    def write(self, event: SpooledEvent) -> None:
        if event.attachments:
            event = records.with_spooled_attachments(event, self.write_attachment)
        self._entries().create(spool_id=event.spool_id, blob=records.dump(event))

    def write_attachment(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        ref = f"{time.time_ns():020d}-{os.getpid()}-{os.urandom(6).hex()}"
        pending, seq, size = bytearray(), 0, 0
        try:
            for chunk in chunks:
                pending += chunk
                size += len(chunk)
                while len(pending) >= records.CHUNK_SIZE:
                    self._chunks().create(
                        ref=ref, seq=seq, data=bytes(pending[: records.CHUNK_SIZE])
                    )
                    del pending[: records.CHUNK_SIZE]
                    seq += 1
            if pending:
                self._chunks().create(ref=ref, seq=seq, data=bytes(pending))
        except BaseException:
            self.discard_attachments([ref])
            raise
        return ref, size

    def discard_attachments(self, refs: Iterable[str]) -> None:
        refs = list(refs)
        if refs:
            self._chunks().filter(ref__in=refs).delete()

    def open_attachment(self, ref: str) -> BinaryIO:
        reader = _ChunkReader(self._chunks().filter(ref=ref))
        return cast(BinaryIO, io.BufferedReader(reader, records.CHUNK_SIZE))

    def _waiting(self) -> "QuerySet[SpoolEntry]":
        return self._entries().filter(quarantined_at__isnull=True)

    def backlog_size(self) -> int:
        return self._waiting().count()

    def approximate_backlog(self) -> int:
        return self.backlog_size()  # an indexed count: cheap enough once a second

    def claim(self, limit: int, *, newest: bool = False) -> list[SpooledEvent]:
        now = timezone.now()
        lease_length = timedelta(seconds=ingest_settings.SPOOL_CLAIM_SECONDS)
        lease = now + lease_length
        # Ending more than two lease lengths ahead: granted before the clock was set back (one
        # whole length of margin, so another host whose clock runs a little ahead keeps its lease).
        ahead = now + 2 * lease_length
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claimed_until__gt=ahead)
        skip_locked = connections[self.alias].features.has_select_for_update_skip_locked
        events, unreadable = [], []
        with transaction.atomic(using=self.alias):
            rows = self._waiting().filter(free).order_by("-id" if newest else "id")
            if skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            taken = list(rows.values_list("id", "spool_id", "blob")[:limit])
            self._entries().filter(id__in=[r[0] for r in taken]).update(claimed_until=lease)
        for _, spool_id, blob in taken:
            try:
                event = records.load(spool_id, bytes(blob), self.open_attachment)
                events.append(event)
                if event.attachments:
                    self._files[spool_id] = records.attachment_refs(event)
            except records.UNREADABLE as e:
                unreadable.append((spool_id, f"unreadable: {e}"))
        for spool_id, error in unreadable:
            self.quarantine(spool_id, error)  # never handed out, never retried in a loop
        return events

    def ack(self, spool_ids: Iterable[str]) -> None:
        spool_ids = list(spool_ids)
        refs = [ref for spool_id in spool_ids for ref in self._files.pop(spool_id, ())]
        with transaction.atomic(using=self.alias):
            self._entries().filter(spool_id__in=spool_ids).delete()
            self.discard_attachments(refs)

    def release(self, spool_ids: Iterable[str]) -> None:
        spool_ids = list(spool_ids)
        for spool_id in spool_ids:
            self._files.pop(spool_id, None)
        self._entries().filter(spool_id__in=list(spool_ids)).update(claimed_until=None)

    def quarantine(self, spool_id: str, error: str) -> None:
        self._files.pop(spool_id, None)  # its attachments stay, for a restore
        self._entries().filter(spool_id=spool_id).update(
            quarantined_at=timezone.now(), claimed_until=None, error=error
        )

    def quarantined_count(self) -> int:
        return self._entries().filter(quarantined_at__isnull=False).count()

    def restore_quarantined(self) -> int:
        return (
            self._entries()
            .filter(quarantined_at__isnull=False)
            .update(quarantined_at=None, error="")
        )

    # --- markers ---

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

    def request_sweep(self, stale_seconds: float) -> str | None:
        from bugsink_ingest.models import SpoolSweep

        sweeps = SpoolSweep.objects.using(self.alias)
        now, token = timezone.now(), os.urandom(8).hex()
        try:
            with transaction.atomic(using=self.alias):
                sweeps.create(id=1, token=token, renewed_at=now)
            return token
        except IntegrityError:
            window = timedelta(seconds=stale_seconds)
            stale = Q(renewed_at__lt=now - window) | Q(renewed_at__gt=now + window)
            taken = sweeps.filter(stale, id=1).update(token=token, renewed_at=now)
            return token if taken == 1 else None

    def renew_sweep(self, token: str) -> bool:
        from bugsink_ingest.models import SpoolSweep

        sweeps = SpoolSweep.objects.using(self.alias).filter(id=1, token=token)
        return sweeps.update(renewed_at=timezone.now()) == 1

    def end_sweep(self, token: str) -> None:
        from bugsink_ingest.models import SpoolSweep

        SpoolSweep.objects.using(self.alias).filter(id=1, token=token).delete()
