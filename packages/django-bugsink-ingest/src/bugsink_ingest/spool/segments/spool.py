"""SegmentSpool: events appended to per-process segment files (one machine; the default).

Creating a file costs the filesystem an inode and a journal entry: 15-30 µs on a quiet ext4, but
0.3-1 ms while other processes commit (measured on this project's CI machine), three times per
event with one file per event (create, rename, unlink). An append to an open file costs one
write(), so each writing process appends records to its own segment (SegmentWriter) and creates a
new one only every SEGMENT_BYTES.

Drains claim records segment by segment while holding the segment's AckLog, and append the
offsets of the records the consumer took to it. A sealed segment whose every whole record is
done is deleted with its .acks file. Unreadable records and events the consumer cannot take go
to a QuarantineDirectory; restoring appends them to a segment again.

Attachments are files of their own (AttachmentFiles, one per attachment), written as they stream
in before the record naming them; they leave when their event is acknowledged.

The directory: segments/ (the segments), attachments/, broken/ (quarantine), wake and sweep
(markers), backlog (the published count), drain.lock (one drain at a time, unless parallel).
"""

import fcntl
import logging
import os
import threading
import time
from array import array
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.core.exceptions import ImproperlyConfigured

from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.spool import records
from bugsink_ingest.spool.attachments import AttachmentFiles
from bugsink_ingest.spool.markers import PublishedCount, SweepMarker, WakeMarker
from bugsink_ingest.spool.quarantine import QuarantineDirectory
from bugsink_ingest.spool.records import SpooledEvent
from bugsink_ingest.spool.segments.acks import AckLog
from bugsink_ingest.spool.segments.framing import ACKS, DATA, HEADER, frame, unframe
from bugsink_ingest.spool.segments.index import SegmentIndex
from bugsink_ingest.spool.segments.writer import SegmentWriter

logger = logging.getLogger(__name__)
# How old a segment's index may be in the backlog count a claim publishes (an approximation, read
# by the request path once a second; backlog_size() always looks afresh).
COUNT_REFRESH_SECONDS = 1.0

MISSING_DIR = (
    "BUGSINK_INGEST_SPOOL_DIR is not set: SegmentSpool keeps acknowledged events there until "
    "they are digested, so it must be a directory of this site's own on a disk that survives "
    "a reboot (not the temp dir, which other sites and cleaners share)."
)


class SegmentSpool:
    def __init__(self, directory: str | os.PathLike[str] | None = None):
        base = directory or ingest_settings.SPOOL_DIR
        if not base:
            raise ImproperlyConfigured(MISSING_DIR)
        self.dir = Path(base)
        self.segments = self.dir / "segments"
        # Owner only, whatever the umask: the spool holds raw events (the segments are 0600).
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.segments.mkdir(mode=0o700, exist_ok=True)
        self._prefix = f"{self.segments}/"
        self.writer = SegmentWriter(str(self.segments))
        self.quarantine_area = QuarantineDirectory(self.dir / "broken")
        self.attachment_files = AttachmentFiles(self.dir / "attachments")
        self.wake = WakeMarker(self.dir / "wake")
        self.sweep = SweepMarker(self.dir / "sweep")
        self.published = PublishedCount(self.dir / "backlog")
        self._lock = threading.Lock()
        self._index: dict[str, SegmentIndex] = {}
        self._held: dict[str, AckLog] = {}  # segment -> its .acks file, locked by this object
        self._claims: dict[str, tuple[str, int, int]] = {}  # spool id -> (segment, offset, length)
        self._files: dict[str, list[str]] = {}  # claimed spool id -> its attachments' refs

    # --- writing (the request path) ---

    def write(self, event: SpooledEvent) -> None:
        if event.attachments:
            event = records.with_spooled_attachments(event, self.write_attachment)
        self.writer.append(
            frame(event.spool_id, records.dump(event)), fsync=ingest_settings.SPOOL_FSYNC
        )

    def write_attachment(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        return self.attachment_files.write(chunks, fsync=ingest_settings.SPOOL_FSYNC)

    def discard_attachments(self, refs: Iterable[str]) -> None:
        self.attachment_files.discard(refs)

    def open_attachment(self, ref: str) -> BinaryIO:
        return self.attachment_files.open(ref)

    def approximate_backlog(self) -> int:
        count = self.published.read()
        return self.backlog_size() if count is None else count

    # --- reading (drains) ---

    def _names(self) -> list[str]:
        return sorted(n[: -len(DATA)] for n in os.listdir(self.segments) if n.endswith(DATA))

    def _refresh(self, name: str, acks: AckLog | None = None) -> SegmentIndex | None:
        index = self._index.setdefault(name, SegmentIndex())
        if not index.refresh(self._prefix + name + DATA, self._prefix + name + ACKS, acks):
            del self._index[name]
            return None
        return index

    def claim(self, limit: int, *, newest: bool = False) -> list[SpooledEvent]:
        events: list[SpooledEvent] = []
        with self._lock:
            names, looked_at = self._names(), set()
            for name in reversed(names) if newest else names:
                if len(events) >= limit:
                    break
                held = self._held.get(name)
                acks = held or AckLog.lock(self._prefix + name + ACKS)
                if acks is None:
                    continue
                taken = self._claim_from(name, acks, limit - len(events), newest)
                looked_at.add(name)
                if taken:
                    self._held[name] = acks
                    events.extend(taken)
                elif not held and not self._retire_if_sealed(name, acks):
                    acks.close()
            self.published.publish(self._pending_count(names, looked_at, exact=False))
        return events

    def _claim_from(self, name: str, acks: AckLog, want: int, newest: bool) -> list[SpooledEvent]:
        index = self._refresh(name, acks)
        if index is None:
            # Retired by another drain after we listed it: this .acks file is one we just made.
            os.unlink(self._prefix + name + ACKS)
            return []
        if not index.pending():
            return []
        picked = []
        # Records this object already handed out (to another thread, or earlier in a drain run
        # that still holds them) are not handed out twice.
        mine = {c[1] for c in self._claims.values() if c[0] == name}
        order = range(len(index.offsets) - 1, -1, -1) if newest else range(len(index.offsets))
        for i in order:
            if index.offsets[i] not in index.done and index.offsets[i] not in mine:
                picked.append((index.offsets[i], index.lengths[i]))
                if len(picked) == want:
                    break
        events = []
        with open(self._prefix + name + DATA, "rb") as f:
            for offset, length in picked:
                spool_id, blob, intact = unframe(os.pread(f.fileno(), HEADER.size + length, offset))
                try:
                    if not intact:
                        raise ValueError("checksum mismatch")
                    event = records.load(spool_id, blob, self.open_attachment)
                    for a in event.attachments:
                        if a.ref and self.attachment_files.size(a.ref) != a.size:
                            raise ValueError(f"attachment {a.ref} is missing or cut short")
                except records.UNREADABLE as e:
                    # Unreadable (a bug or disk damage): set aside, never retried in a loop.
                    logger.error("spooled record %s is unreadable (%s); moved to broken/", name, e)
                    self.quarantine_area.set_aside(spool_id, blob, f"unreadable: {e}")
                    acks.append(array("Q", [offset]))
                    continue
                events.append(event)
                self._claims[spool_id] = (name, offset, length)
                if event.attachments:
                    self._files[spool_id] = records.attachment_refs(event)
        return events

    def _retire_if_sealed(self, name: str, acks: AckLog) -> bool:
        """Delete a segment that no process writes to and whose every record is done."""
        data_path = self._prefix + name + DATA
        try:
            data_fd = os.open(data_path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(data_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(data_fd)
            return False  # its writer is alive
        try:
            index = self._refresh(name, acks)  # whatever the writer added before it let go
            if index is None or index.pending():
                return False
            os.unlink(data_path)
            os.unlink(self._prefix + name + ACKS)
            self._index.pop(name, None)
        finally:
            os.close(data_fd)
        acks.close()
        return True

    def _pending_count(
        self, names: list[str], fresh: Collection[str] = (), *, exact: bool = True
    ) -> int:
        """Records waiting in these segments; those in `fresh` were just refreshed by a claim.
        Not `exact` (the count a claim publishes), a segment this object looked at within
        COUNT_REFRESH_SECONDS counts as it was then: a claim made while thousands of events wait
        would otherwise re-read every segment (three syscalls each), and a drain claims several
        times per batch."""
        total, now = 0, time.monotonic()
        for name in names:
            index = self._index.get(name)
            if name in fresh:
                pass  # gone if the claim found it retired
            elif exact or index is None or now - index.refreshed_at > COUNT_REFRESH_SECONDS:
                index = self._refresh(name, self._held.get(name))
            total += index.pending() if index else 0
        return total

    def backlog_size(self) -> int:
        with self._lock:
            count = self._pending_count(self._names())
        self.published.publish(count)
        return count

    @contextmanager
    def drain_lock(self) -> Iterator[bool]:
        """One drain at a time on this machine (ExclusiveDrains): an flock on `drain.lock`, so
        the kernel drops a killed drain's at once. Each call opens the file anew: two threads of
        one process exclude each other too."""
        fd = os.open(self.dir / "drain.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                mine = True
            except BlockingIOError:
                mine = False
            yield mine
        finally:
            os.close(fd)  # and with it the lock

    # --- settling claims ---

    def _settle(self, spool_ids: Iterable[str], done: bool) -> list[str]:
        """Acknowledge (done) or put back this object's claims; the refs of their attachments."""
        acked: dict[str, array[int]] = {}
        refs: list[str] = []
        with self._lock:
            for spool_id in spool_ids:
                refs.extend(self._files.pop(spool_id, ()))
                claim = self._claims.pop(spool_id, None)
                if claim is not None and done:
                    acked.setdefault(claim[0], array("Q")).append(claim[1])
            try:
                for name, offsets in acked.items():
                    acks = self._held.get(name)
                    if acks is not None:
                        acks.append(offsets)
                        index = self._index.get(name)
                        if index is not None:  # counted done at once (its refresh reads them too)
                            index.done.update(offsets)
            finally:
                # Also when an ack could not be written (disk full): the lock goes, and another
                # drain hands those events out again (consumers are idempotent), not never.
                still_claimed = {c[0] for c in self._claims.values()}
                for name in [n for n in self._held if n not in still_claimed]:
                    self._held.pop(name).close()
        return refs

    def ack(self, spool_ids: Iterable[str]) -> None:
        # Removed once the acknowledgement is written (a crash in between leaves files behind,
        # never an event without its attachments).
        self.attachment_files.discard(self._settle(spool_ids, done=True))

    def release(self, spool_ids: Iterable[str]) -> None:
        self._settle(spool_ids, done=False)

    # --- quarantine ---

    def quarantine(self, spool_id: str, error: str) -> None:
        with self._lock:
            claim = self._claims.get(spool_id)
            if claim is None:
                return  # not ours (any more): nothing to set aside
            name, offset, length = claim
            with open(self._prefix + name + DATA, "rb") as f:
                _, blob, _ = unframe(os.pread(f.fileno(), HEADER.size + length, offset))
            self.quarantine_area.set_aside(spool_id, blob, error)
        self._settle([spool_id], done=True)  # its attachments stay, for a restore

    def quarantined_count(self) -> int:
        return self.quarantine_area.count()

    def restore_quarantined(self) -> int:
        fsync = ingest_settings.SPOOL_FSYNC

        def respool(spool_id: str, blob: bytes) -> None:
            self.writer.append(frame(spool_id, blob), fsync=fsync)

        return self.quarantine_area.restore(respool)

    # --- markers ---

    def request_wakeup(self) -> bool:
        return self.wake.request()

    def clear_wakeup(self) -> None:
        self.wake.clear()

    def request_sweep(self, stale_seconds: float) -> str | None:
        return self.sweep.request(stale_seconds)

    def renew_sweep(self, token: str) -> bool:
        return self.sweep.renew(token)

    def end_sweep(self, token: str) -> None:
        self.sweep.end(token)
