"""A segment's .acks file: the offsets of its records that are done.

A drain works on a segment while it holds an exclusive flock on the segment's .acks file (the
`AckLog`); the kernel drops a killed drain's lock at once, so its claims come back at the next
claim, with no timer.
"""

import fcntl
import os
from array import array

from bugsink_ingest.spool.segments.framing import OFFSET_SIZE


class AckLog:
    def __init__(self, fd: int):
        self.fd = fd

    @classmethod
    def lock(cls, path: str) -> "AckLog | None":
        """The log of `path`, locked by this object; None if another drain holds it."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None  # another drain (thread or process) works on this segment
        size = os.fstat(fd).st_size
        if size % OFFSET_SIZE:  # cut short: it never counted, and must not skew the rest
            os.ftruncate(fd, size - size % OFFSET_SIZE)
        return cls(fd)

    def append(self, offsets: "array[int]") -> None:
        os.write(self.fd, offsets.tobytes())

    def read_from(self, position: int) -> bytes:
        return os.pread(self.fd, 1 << 30, position)

    def close(self) -> None:
        os.close(self.fd)


def read_acks(path: str, position: int) -> bytes:
    """What an .acks file holds from `position` on, without its lock (counting)."""
    try:
        with open(path, "rb") as f:
            f.seek(position)
            return f.read()
    except FileNotFoundError:
        return b""
