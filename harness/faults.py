"""Faults to inject into a running deployment: kill -9, SQLite locks, a paused foreman, clock jumps.

Each fault is a plain function on the deployment's process tree or files; the chaos run records when
it began and when the deployment had recovered (replacement process up, answers flowing again).
"""

import os
import signal
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from harness import procstats


def processes(root_pid: int, role: str) -> list[int]:
    return [s.pid for s in procstats.sample_tree(root_pid) if s.role == role]


def wait_for_processes(root_pid, role, count, exclude=(), timeout=30.0) -> float | None:
    """Seconds until `count` processes of `role` (none of them in `exclude`) run; None on timeout."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        pids = [p for p in processes(root_pid, role) if p not in exclude]
        if len(pids) >= count:
            return time.monotonic() - t0
        time.sleep(0.02)
    return None


def kill9(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
        return True
    except ProcessLookupError:
        return False


@contextmanager
def paused(pid: int):
    """SIGSTOP a process (it holds its locks and files but does nothing), SIGCONT on exit."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass


@contextmanager
def read_transaction(db_path: Path, table: str):
    """An open read transaction: its snapshot keeps every later WAL frame from being checkpointed."""
    conn = sqlite3.connect(str(db_path), timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        yield conn
        conn.execute("COMMIT")
    finally:
        conn.close()


@contextmanager
def write_lock(db_path: Path):
    """Hold SQLite's write lock (BEGIN IMMEDIATE), as a long UI action or a backup script might."""
    conn = sqlite3.connect(str(db_path), timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def wal_bytes(db_path: Path) -> int:
    try:
        return os.stat(f"{db_path}-wal").st_size
    except FileNotFoundError:
        return 0


# --- the clock ------------------------------------------------------------------------------------


def libfaketime_library() -> Path | None:
    """libfaketime's preload library: the PyPI `libfaketime` package ships one; Debian's too."""
    try:
        import libfaketime

        vendor = Path(libfaketime.__file__).parent / "vendor" / "libfaketime" / "src"
        found = sorted(vendor.glob("libfaketime.so*"))
        if found:
            return found[0]
    except ImportError:
        pass
    for candidate in (
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    ):
        if os.path.exists(candidate):
            return Path(candidate)
    return None


class ServerClock:
    """The wall clock every server process sees, moved at will through libfaketime.

    The processes start with LD_PRELOAD and FAKETIME_TIMESTAMP_FILE; writing an offset such as
    "+2h" to that file moves their wall clock (time(), datetime.now()) at once. Monotonic clocks
    stay real (DONT_FAKE_MONOTONIC), as on a host whose NTP daemon steps the clock.
    """

    def __init__(self, directory: Path):
        self.library = libfaketime_library()
        self.offset_file = Path(directory) / "faketime-offset"
        self.offset_file.write_text("+0\n")

    @property
    def available(self) -> bool:
        return self.library is not None

    def env(self) -> dict[str, str]:
        if not self.available:
            return {}
        return {
            "LD_PRELOAD": str(self.library),
            "FAKETIME_TIMESTAMP_FILE": str(self.offset_file),
            # re-read the offset file at most once a second: cheap, and a jump shows within 1 s
            "FAKETIME_CACHE_DURATION": "1",
            "DONT_FAKE_MONOTONIC": "1",
        }

    def set_offset(self, offset: str):
        self.offset_file.write_text(offset + "\n")
