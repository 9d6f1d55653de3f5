"""Who holds a FileSpool claim, and whether that process still runs.

A claim's file name carries an owner token: pid, the process's start time (field 22 of
/proc/<pid>/stat, so a reused pid is told apart) and a short hash of the boot id and pid namespace
(a claim from another container or an earlier boot is judged by its age only). A claim whose owner
is gone goes back to the spool at once instead of after BUGSINK_INGEST_SPOOL_CLAIM_SECONDS.
"""

import hashlib
import os
from functools import lru_cache

_cached: tuple[int, str] | None = None


def current_owner() -> str:
    """The token of this process (recomputed after a fork)."""
    global _cached
    pid = os.getpid()
    if _cached is None or _cached[0] != pid:
        _cached = (pid, f"{pid}-{_start_ticks(pid) or 0}-{_pid_space()}")
    return _cached[1]


def is_gone(owner: str) -> bool:
    """True only when sure that the process named by `owner` no longer runs."""
    try:
        pid_text, start, space = owner.split("-")
        pid = int(pid_text)
    except ValueError:
        return False
    if space != _pid_space():
        return False  # another machine, container or boot: the pid means nothing here
    if start != "0":
        return _start_ticks(pid) != start  # gone, a zombie, or the pid now names another process
    try:  # no /proc (not Linux): the pid alone, reuse not detected (the age rule remains)
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return False


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot; None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
    fields = stat[stat.rindex(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):  # field 3, the state: dead but not yet reaped
        return None
    return fields[19].decode()  # field 22


@lru_cache(maxsize=1)
def _pid_space() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as f:
            boot = f.read().strip()
    except OSError:
        boot = b""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return hashlib.blake2b(b"%s:%d" % (boot, namespace), digest_size=4).hexdigest()
