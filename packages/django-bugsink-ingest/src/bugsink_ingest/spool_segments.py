"""SegmentSpool: events appended to per-process segment files (one machine; the default).

Creating a file costs the filesystem an inode and a journal entry: 15-30 µs on a quiet ext4, but
0.3-1 ms while other processes commit (measured on this project's CI machine), three times per
event with one file per event (create, rename, unlink). An append to an open file costs one
write(), so each writing process appends records to its own segment and creates a new one only
every SEGMENT_BYTES.

- A record is a 12-byte header (magic, body length, CRC-32 of the body) and the body: the spool id,
  a newline, then spool_format's bytes. A write that fails or a process killed mid-write leaves a
  torn record at the end of its segment; it was never acknowledged, and readers stop before it.
- The writing process holds a shared flock on its segment; a segment nobody holds is sealed.
- Drains claim records segment by segment under an exclusive flock on the segment's .acks file,
  and append the offsets of the records the consumer took to that file. The kernel drops a dead
  drain's lock at once, so its claims come back at once, with no timer.
- A sealed segment whose every whole record is acknowledged is deleted with its .acks file.

Events spooled one file per event (FileSpool, the earlier default) are still drained from ready/,
and quarantine uses FileSpool's broken/ directory, so restoring puts events back there.
"""

import fcntl
import logging
import os
import struct
import threading
import time
import zlib
from array import array

from django.conf import settings

from bugsink_ingest import spool_format
from bugsink_ingest.spool import SpooledEvent
from bugsink_ingest.spool_files import SUFFIX, FileSpool

logger = logging.getLogger(__name__)
SEGMENT_BYTES = 256 * 1024  # small: a segment is deleted only as a whole, once all of it is done
SEGMENT_SECONDS = 60  # and a writer starts a new one at least this often
HEADER = struct.Struct("<4sII")
MAGIC = b"BSK1"
DATA, ACKS = ".data", ".acks"


class _Index:
    """What one process knows of a segment: where its whole records are and which are done."""

    def __init__(self):
        self.offsets = array("Q")
        self.lengths = array("I")
        self.scanned = 0  # bytes of the data file parsed into records
        self.done: set[int] = set()
        self.acks_read = 0  # bytes of the .acks file read into done

    def pending(self) -> int:
        return len(self.offsets) - len(self.done)


class _Writer:
    """The segment a process appends to; its fd stays open while a sync on it is under way."""

    def __init__(self, fd: int):
        self.fd, self.pid, self.opened = fd, os.getpid(), time.monotonic()
        self.size = 0  # bytes written
        self.synced = 0  # bytes known to be on disk (SPOOL_FSYNC)
        self.sync_lock = threading.Lock()
        self.users = 0  # writes waiting for a sync
        self.sealed = False

    def close_if_unused(self) -> None:
        """With the write lock held: close a sealed segment's fd once no sync needs it."""
        if self.sealed and not self.users and self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class SegmentSpool(FileSpool):
    def __init__(self, directory=None):
        super().__init__(directory)
        self.segments = self.dir / "segments"
        self.segments.mkdir(exist_ok=True)
        self._seg_prefix = f"{self.segments}/"
        self._wlock = threading.Lock()
        self._writer: _Writer | None = None
        self._rotating = False
        self._lock = threading.Lock()
        self._index: dict[str, _Index] = {}
        self._held: dict[str, int] = {}  # segment -> fd of its .acks file, flocked by this object
        self._claims: dict[str, tuple[str, int, int]] = {}  # spool id -> (segment, offset, length)

    # --- writing (the request path) ---

    def write(self, event: SpooledEvent) -> None:
        body = event.spool_id.encode() + b"\n" + spool_format.dump(event)
        record = HEADER.pack(MAGIC, len(body), zlib.crc32(body)) + body
        fsync = settings.BUGSINK_INGEST_SPOOL_FSYNC
        with self._wlock:
            if self._writer is None or self._writer.pid != os.getpid():
                if self._writer is not None:
                    self._writer.users = 0  # a forked child: no thread of its own syncs there
                self._use(self._create_segment())
            writer = self._writer
            try:
                written = os.write(writer.fd, record)
                if written != len(record):
                    raise OSError(f"short write to the spool ({written} of {len(record)} bytes)")
            except BaseException:
                # Whatever part of the record got written stays a torn tail nobody reads: seal it.
                self._close_segment()
                raise
            writer.size += len(record)
            end = writer.size
            if fsync:
                writer.users += 1  # keeps its fd open until this event is on disk
            rotate = not self._rotating and (
                writer.size >= SEGMENT_BYTES or time.monotonic() - writer.opened > SEGMENT_SECONDS
            )
            self._rotating = self._rotating or rotate
        if fsync:
            try:
                self._sync(writer, end)
            finally:
                with self._wlock:
                    writer.users -= 1
                    writer.close_if_unused()
        if rotate:
            # The next segment is created outside the lock: creating a file can take hundreds of
            # ms while the filesystem commits its journal, and other threads keep appending to
            # the current segment meanwhile. This event is written already: a failure here only
            # means the current segment grows until a later write manages to rotate.
            try:
                fd = self._create_segment()
            except OSError:
                logger.warning("could not start a new spool segment", exc_info=True)
                fd = None
            with self._wlock:
                self._rotating = False
                current = self._writer in (None, writer) and writer.pid == os.getpid()
                if fd is not None and current:
                    self._use(fd)
                elif fd is not None:
                    os.close(fd)

    def _sync(self, writer: "_Writer", end: int) -> None:
        """Group commit: one fdatasync makes every record written before it durable, so threads
        that wrote meanwhile wait for it and find their records covered, instead of each paying
        for a sync of its own."""
        with writer.sync_lock:
            if writer.synced >= end:
                return
            target = writer.size  # every byte up to here was written before size was raised
            try:
                os.fdatasync(writer.fd)
            except BaseException:
                with self._wlock:
                    if self._writer is writer:
                        self._close_segment()  # after a failed sync nothing more goes there
                raise
            writer.synced = target

    def _create_segment(self) -> int:
        name = f"{time.time_ns():020d}-{os.getpid()}-{os.urandom(4).hex()}"
        tmp = self._seg_prefix + name + ".new"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        # Locked before it gets a name drains look at, so no drain can take it for sealed.
        fcntl.flock(fd, fcntl.LOCK_SH)
        os.rename(tmp, self._seg_prefix + name + DATA)
        if settings.BUGSINK_INGEST_SPOOL_FSYNC:
            dir_fd = os.open(self.segments, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return fd

    def _use(self, fd: int) -> None:
        """Write to fd from now on (with the write lock held); the previous segment is sealed."""
        # (In a forked child this closes only the child's copy: the parent keeps its lock.)
        self._close_segment()
        self._writer = _Writer(fd)

    def _close_segment(self) -> None:
        if self._writer is not None:
            self._writer.sealed = True
            self._writer.close_if_unused()  # drops the shared lock: the segment is sealed
        self._writer = None

    # --- reading (drains) ---

    def _names(self) -> list[str]:
        return sorted(n[: -len(DATA)] for n in os.listdir(self.segments) if n.endswith(DATA))

    def _refresh(self, name: str, acks_fd: int | None = None) -> _Index | None:
        """Index records appended since the last look, and acknowledgements added since.

        Only headers are read (a count must stay cheap with 100,000 events waiting); a record is
        whole once its length fits in the file, and its checksum is checked when it is claimed.
        """
        index = self._index.setdefault(name, _Index())
        try:
            fd = os.open(self._seg_prefix + name + DATA, os.O_RDONLY)
        except FileNotFoundError:
            self._index.pop(name, None)
            return None
        try:
            size, pos = os.fstat(fd).st_size, index.scanned
            while size - pos >= HEADER.size:
                magic, length, _ = HEADER.unpack(os.pread(fd, HEADER.size, pos))
                if magic != MAGIC or pos + HEADER.size + length > size:
                    break  # a record still being written, or a torn tail
                index.offsets.append(pos)
                index.lengths.append(length)
                pos += HEADER.size + length
            index.scanned = pos
        finally:
            os.close(fd)
        try:
            if acks_fd is not None:
                new = os.pread(acks_fd, 1 << 30, index.acks_read)
            else:
                with open(self._seg_prefix + name + ACKS, "rb") as f:
                    f.seek(index.acks_read)
                    new = f.read()
        except FileNotFoundError:
            new = b""
        whole = len(new) - len(new) % 8
        index.done.update(array("Q", new[:whole]))
        index.acks_read += whole
        return index

    def _lock_acks(self, name: str) -> int | None:
        fd = os.open(self._seg_prefix + name + ACKS, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None  # another drain (thread or process) works on this segment
        size = os.fstat(fd).st_size
        if size % 8:  # an acknowledgement cut short: it never counted, and must not skew the rest
            os.ftruncate(fd, size - size % 8)
        return fd

    def claim(self, limit: int, *, newest: bool = False) -> list[SpooledEvent]:
        # Leftovers of the one-file-per-event spool first.
        events, waiting_files = self._claim_files(limit, newest)
        with self._lock:
            names, looked_at = self._names(), set()
            for name in reversed(names) if newest else names:
                if len(events) >= limit:
                    break
                held = self._held.get(name)
                fd = held or self._lock_acks(name)
                if fd is None:
                    continue
                taken = self._claim_from(name, fd, limit - len(events), newest)
                looked_at.add(name)
                if taken:
                    self._held[name] = fd
                    events.extend(taken)
                elif not held and not self._retire_if_sealed(name, fd):
                    os.close(fd)
            self._publish_count(waiting_files + self._pending_count(names, looked_at))
        return events

    def _claim_from(self, name, fd, want, newest) -> list[SpooledEvent]:
        index = self._refresh(name, fd)
        if index is None:
            # Retired by another drain after we listed it: this .acks file is one we just made.
            os.unlink(self._seg_prefix + name + ACKS)
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
        with open(self._seg_prefix + name + DATA, "rb") as f:
            for offset, length in picked:
                record = os.pread(f.fileno(), HEADER.size + length, offset)
                body = memoryview(record)[HEADER.size :]
                spool_id, _, blob = bytes(body).partition(b"\n")
                spool_id = spool_id.decode(errors="replace")
                try:
                    if zlib.crc32(body) != HEADER.unpack_from(record)[2]:
                        raise ValueError("checksum mismatch")
                    events.append(spool_format.load(spool_id, blob))
                except (ValueError, KeyError, TypeError) as e:
                    # Unreadable (a bug or disk damage): set aside, never retried in a loop.
                    logger.error("spooled record %s is unreadable (%s); moved to broken/", name, e)
                    self._set_aside(spool_id, blob, f"unreadable: {e}")
                    os.write(fd, array("Q", [offset]).tobytes())
                    continue
                self._claims[spool_id] = (name, offset, length)
        return events

    def _retire_if_sealed(self, name: str, acks_fd: int) -> bool:
        """Delete a segment that no process writes to and whose every record is done."""
        data_path = self._seg_prefix + name + DATA
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
            index = self._refresh(name, acks_fd)  # whatever the writer added before it let go
            if index is None or index.pending():
                return False
            os.unlink(data_path)
            os.unlink(self._seg_prefix + name + ACKS)
            self._index.pop(name, None)
        finally:
            os.close(data_fd)
        os.close(acks_fd)
        return True

    def _pending_count(self, names, fresh=frozenset()) -> int:
        """Records waiting in these segments; those in `fresh` were just refreshed by a claim."""
        total = 0
        for name in names:
            if name in fresh:
                index = self._index.get(name)  # gone if the claim found it retired
            else:
                index = self._refresh(name, self._held.get(name))
            total += index.pending() if index else 0
        return total

    def backlog_size(self) -> int:
        with self._lock:
            count = self._count_files() + self._pending_count(self._names())
        self._publish_count(count)
        return count

    # --- settling claims ---

    def _settle(self, spool_ids, done: bool) -> list[str]:
        """Acknowledge (done) or put back this object's claims; returns the ids that are not
        segment claims (one-file-per-event leftovers) for FileSpool to settle."""
        legacy, acked = [], {}
        with self._lock:
            for spool_id in spool_ids:
                claim = self._claims.pop(spool_id, None)
                if claim is None:
                    legacy.append(spool_id)
                elif done:
                    acked.setdefault(claim[0], array("Q")).append(claim[1])
            try:
                for name, offsets in acked.items():
                    fd = self._held.get(name)
                    if fd is not None:
                        os.write(fd, offsets.tobytes())
            finally:
                # Also when an ack could not be written (disk full): the lock goes, and another
                # drain hands those events out again (consumers are idempotent), not never.
                still_claimed = {c[0] for c in self._claims.values()}
                for name in [n for n in self._held if n not in still_claimed]:
                    os.close(self._held.pop(name))
        return legacy

    def ack(self, spool_ids) -> None:
        super().ack(self._settle(spool_ids, done=True))

    def release(self, spool_ids) -> None:
        super().release(self._settle(spool_ids, done=False))

    def quarantine(self, spool_id: str, error: str) -> None:
        with self._lock:
            claim = self._claims.get(spool_id)
            if claim is not None:
                name, offset, length = claim
                with open(self._seg_prefix + name + DATA, "rb") as f:
                    body = os.pread(f.fileno(), length, offset + HEADER.size)
                self._set_aside(spool_id, body.partition(b"\n")[2], error)
        if claim is None:
            super().quarantine(spool_id, error)
        else:
            self.ack([spool_id])

    def _set_aside(self, spool_id: str, blob: bytes, error: str) -> None:
        """Copy a record to broken/ as a FileSpool file (restore_quarantined puts it in ready/)."""
        (self.broken / f"{spool_id}.error").write_text(error)
        tmp = self.tmp / (spool_id + SUFFIX)
        tmp.write_bytes(blob)
        os.replace(tmp, self.broken / (spool_id + SUFFIX))
