"""Small files a spool directory keeps beside its events: the drain wake-up marker, the sweep
marker and the published backlog count.

Each is dated by this process's clock (an explicit utime), which the processes reading it compare
with, not by the file system's: another host's on a network mount, the real one under libfaketime.
Ages count either way (abs()): after the clock was set back, a date from the "future" must not
look fresh for as long as the step.
"""

import os
import time
from pathlib import Path

WAKE_STALE_SECONDS = 60
# A published backlog count older than this is counted afresh (no drain is running to publish it).
COUNT_FRESH_SECONDS = 5


def date_now(target: int | str) -> None:
    """Date a file (fd or path) by this process's clock."""
    now = time.time()
    os.utime(target, (now, now))


def _age(mtime: float) -> float:
    return abs(time.time() - mtime)


class WakeMarker:
    """Exists while a drain task is enqueued and has not started yet."""

    def __init__(self, path: Path):
        self.path = str(path)

    def request(self) -> bool:
        """True if the caller must enqueue a drain (no drain is pending, or it looks lost)."""
        try:
            # The common case under load, and the cheapest check: a fresh marker is there.
            if _age(os.stat(self.path).st_mtime) <= WAKE_STALE_SECONDS:
                return False
        except FileNotFoundError:
            pass
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            try:
                if _age(os.stat(self.path).st_mtime) <= WAKE_STALE_SECONDS:
                    return False
                date_now(self.path)  # stale: renewed, and this caller enqueues
                return True
            except FileNotFoundError:
                return self.request()  # a drain cleared it since the look above
        try:
            date_now(fd)
        finally:
            os.close(fd)
        return True

    def clear(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class SweepMarker:
    """Names the one live sweep chain (its token) and when it last ran (the file's date)."""

    def __init__(self, path: Path):
        self.path = str(path)

    def request(self, stale_seconds: float) -> str | None:
        try:
            if _age(os.stat(self.path).st_mtime) <= stale_seconds:
                return None
        except FileNotFoundError:
            pass
        token = os.urandom(8).hex()
        # Written aside and renamed over: a reader sees the old token or the new one, whole.
        tmp = f"{self.path}.{token}"
        with open(tmp, "w") as f:
            f.write(token)
            date_now(f.fileno())
        os.replace(tmp, self.path)
        return token

    def _token(self) -> str | None:
        try:
            with open(self.path) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def renew(self, token: str) -> bool:
        if self._token() != token:
            return False
        try:
            date_now(self.path)
        except FileNotFoundError:
            return False
        return True

    def end(self, token: str) -> None:
        if self._token() == token:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


class PublishedCount:
    """The backlog as last counted by anyone, so the request path need not count it itself."""

    def __init__(self, path: Path):
        self.path = str(path)

    def read(self) -> int | None:
        """The count if it was published within COUNT_FRESH_SECONDS, else None."""
        try:
            with open(self.path, "rb") as f:
                if _age(os.fstat(f.fileno()).st_mtime) <= COUNT_FRESH_SECONDS:
                    return int(f.read())
        except (FileNotFoundError, ValueError):
            pass
        return None

    def publish(self, count: int) -> None:
        # Rewritten in place (creating files is what costs on a busy disk); fixed width, so a
        # reader sees the old or the new number (or, at worst, fails to parse and counts).
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, b"%20d" % count, 0)
            date_now(fd)
        finally:
            os.close(fd)
