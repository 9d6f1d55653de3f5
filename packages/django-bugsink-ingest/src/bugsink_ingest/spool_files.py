"""FileSpool: one file per event in a directory (one machine).

An event is written under tmp/ and renamed into ready/, so a reader never sees half a file and a
crash leaves at most a stray temp file. A drain claims files by renaming them into claimed/ (only
one drain wins a rename) under a name that carries the claiming process (claim_owner), removes
them after the consumer returned, and puts a claim back at once when its process is gone, or
when it is older than BUGSINK_INGEST_SPOOL_CLAIM_SECONDS either way (the clock may be stepped).
Events the consumer cannot take (see drain.py) and unreadable files are moved to broken/, with
the error beside them in <spool id>.error, until restore_quarantined() puts them back.

Counting the backlog means listing a directory that can hold 100,000 files (tens of ms), so
whoever lists it (a drain's claim, or backlog_size()) writes the count to a small file, and
the hot path reads that (approximate_backlog) instead of listing again.
"""

import logging
import os
import tempfile
import time
from pathlib import Path

from django.conf import settings

from bugsink_ingest import spool_format
from bugsink_ingest.claim_owner import current_owner, is_gone
from bugsink_ingest.spool import SpooledEvent

logger = logging.getLogger(__name__)
SUFFIX = ".event"
WAKE_STALE_SECONDS = 60
# A published backlog count older than this is counted afresh (no drain is running to publish it).
COUNT_FRESH_SECONDS = 5


def _date_now(target) -> None:
    """Date a file (path or fd) by this process's clock, which readers compare it with, not by
    the file system's (another host's on a network mount; the real one under libfaketime)."""
    now = time.time()
    os.utime(target, (now, now))


class FileSpool:
    def __init__(self, directory=None):
        base = directory or settings.BUGSINK_INGEST_SPOOL_DIR
        self.dir = Path(base or Path(tempfile.gettempdir()) / "bugsink-spool")
        self.tmp, self.ready, self.claimed, self.broken = (
            self.dir / n for n in ("tmp", "ready", "claimed", "broken")
        )
        for d in (self.tmp, self.ready, self.claimed, self.broken):
            d.mkdir(parents=True, exist_ok=True)
        self.wake_marker = self.dir / "wake"
        # Plain strings for the hot path (pathlib costs more than the syscalls it wraps).
        self._tmp_prefix, self._ready_prefix = f"{self.tmp}/", f"{self.ready}/"
        self._wake = str(self.wake_marker)
        self._count = str(self.dir / "backlog")

    def write(self, event: SpooledEvent) -> None:
        name = event.spool_id + SUFFIX
        tmp = self._tmp_prefix + name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            data = memoryview(spool_format.dump(event))
            while data:
                data = data[os.write(fd, data) :]
            if settings.BUGSINK_INGEST_SPOOL_FSYNC:
                os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        os.rename(tmp, self._ready_prefix + name)

    def backlog_size(self) -> int:
        count = self._count_files()
        self._publish_count(count)
        return count

    def _count_files(self) -> int:
        return sum(
            1 for d in (self.ready, self.claimed) for n in os.listdir(d) if n.endswith(SUFFIX)
        )

    def approximate_backlog(self) -> int:
        """backlog_size() as counted by anyone in the last few seconds (cheap: one small read)."""
        try:
            with open(self._count, "rb") as f:
                age = time.time() - os.fstat(f.fileno()).st_mtime
                # abs(): after the clock was set back, a count from the "future" is not fresh.
                if abs(age) <= COUNT_FRESH_SECONDS:
                    return int(f.read())
        except (FileNotFoundError, ValueError):
            pass
        return self.backlog_size()

    def _publish_count(self, count: int) -> None:
        # Rewritten in place (creating files is what costs on a busy disk); fixed width, so a
        # reader sees the old or the new number (or, at worst, fails to parse and counts).
        fd = os.open(self._count, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, b"%20d" % count, 0)
            _date_now(fd)
        finally:
            os.close(fd)

    def claim(self, limit: int, *, newest: bool = False) -> list[SpooledEvent]:
        """Up to `limit` waiting events, oldest first (newest first with newest=True)."""
        events, waiting = self._claim_files(limit, newest)
        self._publish_count(waiting)
        return events

    def _claim_files(self, limit: int, newest: bool) -> tuple[list[SpooledEvent], int]:
        """The claim itself; also returns how many files waited (ready or claimed) before it."""
        in_claims = self._reclaim_stale()
        ready = sorted(n for n in os.listdir(self.ready) if n.endswith(SUFFIX))
        names = ready[::-1][:limit] if newest else ready[:limit]
        events = []
        now = time.time()
        for name in names:
            spool_id = name[: -len(SUFFIX)]
            target = self._claimed_path(spool_id)
            try:
                os.rename(self.ready / name, target)
                os.utime(target, (now, now))  # the claim's age, for _reclaim_stale
            except FileNotFoundError:
                continue  # another drain took it
            try:
                events.append(spool_format.load(spool_id, target.read_bytes()))
            except (ValueError, KeyError, TypeError) as e:
                # Unreadable (a bug or disk damage): set aside, never retried in a loop.
                logger.error("spooled file %s is unreadable (%s); moved to broken/", name, e)
                self.quarantine(spool_id, f"unreadable: {e}")
        return events, len(ready) + in_claims

    def _claimed_path(self, spool_id: str) -> Path:
        return self.claimed / f"{spool_id}.{current_owner()}{SUFFIX}"

    def ack(self, spool_ids) -> None:
        for spool_id in spool_ids:
            self._claimed_path(spool_id).unlink(missing_ok=True)

    def release(self, spool_ids) -> None:
        for spool_id in spool_ids:
            try:
                os.rename(self._claimed_path(spool_id), self.ready / (spool_id + SUFFIX))
            except FileNotFoundError:
                pass

    def quarantine(self, spool_id: str, error: str) -> None:
        """Set a claimed event aside in broken/ (never claimed again until restored)."""
        (self.broken / f"{spool_id}.error").write_text(error)
        try:
            os.rename(self._claimed_path(spool_id), self.broken / (spool_id + SUFFIX))
        except FileNotFoundError:  # no longer ours (put back as stale): nothing to set aside
            (self.broken / f"{spool_id}.error").unlink(missing_ok=True)

    def quarantined_count(self) -> int:
        return sum(1 for n in os.listdir(self.broken) if n.endswith(SUFFIX))

    def restore_quarantined(self) -> int:
        """Put every quarantined event back in the spool; returns how many."""
        restored = 0
        for name in os.listdir(self.broken):
            if name.endswith(SUFFIX):
                try:
                    os.rename(self.broken / name, self.ready / name)
                    restored += 1
                except FileNotFoundError:
                    continue
            (self.broken / (name.rsplit(".", 1)[0] + ".error")).unlink(missing_ok=True)
        return restored

    def _reclaim_stale(self) -> int:
        """Put back claims whose drain died; returns how many claims are still held."""
        now, limit = time.time(), settings.BUGSINK_INGEST_SPOOL_CLAIM_SECONDS
        held = 0
        owners_gone: dict[str, bool] = {}
        for entry in os.scandir(self.claimed):
            if not entry.name.endswith(SUFFIX):
                continue
            spool_id, _, owner = entry.name[: -len(SUFFIX)].partition(".")
            if owner and owner not in owners_gone:
                owners_gone[owner] = is_gone(owner)
            try:
                # abs(): a claim dated in the future (the clock was set back) must not be held
                # for as long as the step.
                if owners_gone.get(owner) or abs(now - entry.stat().st_mtime) > limit:
                    os.rename(entry.path, self.ready / (spool_id + SUFFIX))
                else:
                    held += 1
            except FileNotFoundError:
                pass
        return held

    # Wake-up marker: at most one drain task is waiting to start (see tasks.py).
    def request_wakeup(self) -> bool:
        """True if the caller must enqueue a drain (no drain is pending, or it looks lost).

        Staleness is the marker's distance from now either way: after the clock is stepped back a
        marker from the "future" would otherwise look fresh for as long as the step.
        """
        try:
            # The common case under load, and the cheapest check: a fresh marker is there.
            if abs(time.time() - os.stat(self._wake).st_mtime) <= WAKE_STALE_SECONDS:
                return False
        except FileNotFoundError:
            pass
        try:
            fd = os.open(self.wake_marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            try:
                if abs(time.time() - self.wake_marker.stat().st_mtime) <= WAKE_STALE_SECONDS:
                    return False
                _date_now(self.wake_marker)  # stale: renewed, and this caller enqueues
                return True
            except FileNotFoundError:
                return self.request_wakeup()  # a drain cleared it since the look above
        try:
            _date_now(fd)
        finally:
            os.close(fd)
        return True

    def clear_wakeup(self) -> None:
        self.wake_marker.unlink(missing_ok=True)
