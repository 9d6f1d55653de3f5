"""The segment a process appends to: one write() per event, a new segment every SEGMENT_BYTES or
SEGMENT_SECONDS, and with fsync a group commit.

The writing process holds a shared flock on its segment; a segment nobody holds is sealed (its
writer let go of it, or died), which is what lets a drain delete it once all of it is done.
"""

import fcntl
import logging
import os
import threading
import time

from bugsink_ingest.spool.segments.framing import DATA

logger = logging.getLogger(__name__)
SEGMENT_BYTES = 256 * 1024  # small: a segment is deleted only as a whole, once all of it is done
SEGMENT_SECONDS = 60  # and a writer starts a new one at least this often


class _OpenSegment:
    """A segment being appended to; its fd stays open while a sync on it is under way."""

    def __init__(self, fd: int):
        self.fd, self.pid, self.opened = fd, os.getpid(), time.monotonic()
        self.size = 0  # bytes written
        self.synced = 0  # bytes known to be on disk (fsync)
        self.sync_lock = threading.Lock()
        self.users = 0  # writes waiting for a sync
        self.sealed = False

    def close_if_unused(self) -> None:
        """With the write lock held: close a sealed segment's fd once no sync needs it."""
        if self.sealed and not self.users and self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class SegmentWriter:
    """Appends records to this process's segment in `directory` (thread-safe, fork-aware)."""

    def __init__(self, directory: str):
        self.directory = directory
        self._prefix = directory + "/"
        self._lock = threading.Lock()
        self._segment: _OpenSegment | None = None
        self._rotating = False

    def append(self, record: bytes, *, fsync: bool) -> None:
        """The record is in the segment (and on disk with fsync) when this returns."""
        with self._lock:
            if self._segment is None or self._segment.pid != os.getpid():
                if self._segment is not None:
                    self._segment.users = 0  # a forked child: no thread of its own syncs there
                self._use(self._create_segment(fsync))
            segment = self._segment
            assert segment is not None
            try:
                written = os.write(segment.fd, record)
                if written != len(record):
                    raise OSError(f"short write to the spool ({written} of {len(record)} bytes)")
            except BaseException:
                # Whatever part of the record got written stays a torn tail nobody reads: seal it.
                self.close()
                raise
            segment.size += len(record)
            end = segment.size
            if fsync:
                segment.users += 1  # keeps its fd open until this event is on disk
            rotate = not self._rotating and (
                segment.size >= SEGMENT_BYTES or time.monotonic() - segment.opened > SEGMENT_SECONDS
            )
            self._rotating = self._rotating or rotate
        if fsync:
            try:
                self._sync(segment, end)
            finally:
                with self._lock:
                    segment.users -= 1
                    segment.close_if_unused()
        if rotate:
            self._rotate(segment, fsync)

    def _rotate(self, segment: _OpenSegment, fsync: bool) -> None:
        # The next segment is created outside the lock: creating a file can take hundreds of ms
        # while the filesystem commits its journal, and other threads keep appending to the
        # current segment meanwhile. The caller's event is written already: a failure here only
        # means the current segment grows until a later write manages to rotate.
        fd: int | None
        try:
            fd = self._create_segment(fsync)
        except OSError:
            logger.warning("could not start a new spool segment", exc_info=True)
            fd = None
        with self._lock:
            self._rotating = False
            current = self._segment in (None, segment) and segment.pid == os.getpid()
            if fd is not None and current:
                self._use(fd)
            elif fd is not None:
                os.close(fd)

    def _sync(self, segment: _OpenSegment, end: int) -> None:
        """Group commit: one fdatasync makes every record written before it durable, so threads
        that wrote meanwhile wait for it and find their records covered, instead of each paying
        for a sync of its own."""
        with segment.sync_lock:
            if segment.synced >= end:
                return
            target = segment.size  # every byte up to here was written before size was raised
            try:
                os.fdatasync(segment.fd)
            except BaseException:
                with self._lock:
                    if self._segment is segment:
                        self.close()  # after a failed sync nothing more goes there
                raise
            segment.synced = target

    def _create_segment(self, fsync: bool) -> int:
        name = f"{time.time_ns():020d}-{os.getpid()}-{os.urandom(4).hex()}"
        tmp = self._prefix + name + ".new"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        # Locked before it gets a name drains look at, so no drain can take it for sealed.
        fcntl.flock(fd, fcntl.LOCK_SH)
        os.rename(tmp, self._prefix + name + DATA)
        if fsync:
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return fd

    def _use(self, fd: int) -> None:
        """Write to fd from now on (with the lock held); the previous segment is sealed."""
        # (In a forked child this closes only the child's copy: the parent keeps its lock.)
        self.close()
        self._segment = _OpenSegment(fd)

    def close(self) -> None:
        """Seal the current segment (the next append starts a new one). Callers other than
        this class hold no lock: a process letting go of its segment, or a test."""
        if self._segment is not None:
            self._segment.sealed = True
            self._segment.close_if_unused()  # drops the shared lock: the segment is sealed
        self._segment = None
