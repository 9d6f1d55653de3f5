"""Waking the foreman: enqueuers touch a file; the foreman watches it (inotify, else polling).

Touching a file is one cheap system call and needs no socket, no port and no broker; inotify turns
it into a wake-up within microseconds. Where inotify is missing the foreman looks at the file's
modification time every SNAPPEA_POLL_INTERVAL seconds (a sleep between looks, never a busy loop).
"""

import ctypes
import ctypes.util
import os
import select
import struct
import sys
import time
from pathlib import Path

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_IGNORED = 0x00008000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_EVENT_HEADER = struct.Struct("iIII")


def wake_foreman(path: Path) -> None:
    """Tell the foreman that there is new work (or a new run_after to sleep until)."""
    try:
        os.utime(path)
    except FileNotFoundError:
        try:
            path.touch()
        except OSError:
            pass  # the foreman still finds the task at its next heartbeat
    except OSError:
        pass


def _load_libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1  # noqa: B018  (raises AttributeError where it is missing)
    except (OSError, AttributeError):
        return None
    return libc


class WakeWatcher:
    """Waits until the wake-up file is touched, a control fd is readable, or a timeout passes."""

    def __init__(
        self, path: Path, control_fd: int, poll_interval: float, use_inotify: bool = True
    ) -> None:
        self.path = path
        self.control_fd = control_fd
        self.poll_interval = poll_interval
        path.touch(exist_ok=True)
        self._libc = _load_libc() if use_inotify else None
        self._inotify_fd: int | None = None
        self._last_stat = self._stat()
        if self._libc is not None:
            fd: int = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
            if fd >= 0:
                self._inotify_fd = fd
                self._add_watch()

    @property
    def uses_inotify(self) -> bool:
        return self._inotify_fd is not None

    def _add_watch(self) -> None:
        if self._libc is None or self._inotify_fd is None:
            return
        self.path.touch(exist_ok=True)
        mask = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF
        watch: int = self._libc.inotify_add_watch(self._inotify_fd, os.fsencode(self.path), mask)
        if watch < 0:
            os.close(self._inotify_fd)  # fall back to polling
            self._inotify_fd = None

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
            return (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            return None

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True when woken by the file (not by the control fd)."""
        timeout = max(0.0, timeout)
        if self._inotify_fd is not None:
            ready, _, _ = select.select([self._inotify_fd, self.control_fd], [], [], timeout)
            return self._inotify_fd in ready and self._drain_inotify()
        deadline = time.monotonic() + timeout
        while True:
            current = self._stat()
            if current != self._last_stat:
                self._last_stat = current
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            ready, _, _ = select.select(
                [self.control_fd], [], [], min(remaining, self.poll_interval)
            )
            if ready:
                return False

    def _drain_inotify(self) -> bool:
        if self._inotify_fd is None:
            return False
        rewatch = False
        while True:
            try:
                data = os.read(self._inotify_fd, 65536)
            except BlockingIOError:
                break
            offset = 0
            while offset + _EVENT_HEADER.size <= len(data):
                _wd, mask, _cookie, name_len = _EVENT_HEADER.unpack_from(data, offset)
                offset += _EVENT_HEADER.size + name_len
                if mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED):
                    rewatch = True
        if rewatch:
            self._add_watch()
        return True

    def close(self) -> None:
        if self._inotify_fd is not None:
            os.close(self._inotify_fd)
            self._inotify_fd = None
