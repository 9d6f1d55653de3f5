"""Memory and CPU of a process tree, read from /proc (Linux only).

PSS (proportional set size) splits pages shared between processes (the Gunicorn workers share the
master's pre-fork memory) fairly, so the PSS of all processes adds up to what the deployment really
costs; RSS counts shared pages once per process and overstates a forking server.
"""

import os
import threading
import time
from dataclasses import dataclass, field

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class ProcSample:
    pid: int
    role: str
    rss_kib: int
    pss_kib: int
    cpu_seconds: float  # user + system since the process started


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def children_of(pid: int) -> list[int]:
    """Direct children of pid, across all its threads."""
    kids = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return []
    for tid in tids:
        text = _read(f"/proc/{pid}/task/{tid}/children")
        if text:
            kids.extend(int(p) for p in text.split())
    return kids


def process_tree(root_pid: int) -> list[int]:
    """root_pid and all its descendants (breadth first)."""
    seen, queue = [], [root_pid]
    while queue:
        pid = queue.pop(0)
        if pid in seen or not os.path.exists(f"/proc/{pid}"):
            continue
        seen.append(pid)
        queue.extend(children_of(pid))
    return seen


def role_of(pid: int) -> str:
    """A short name for what the process does, from its arguments (not substrings of them: the
    supervisor's own arguments name the commands it runs)."""
    raw = _read(f"/proc/{pid}/cmdline") or ""
    args = [a for a in raw.split("\0") if a]
    if not args:
        return "?"
    if {"bugsink_site.supervisor", "bugsink_site.shared_image", "serve"} & set(args):
        return "supervisor"
    if "runsnappea" in args:
        return "foreman"
    if "db_worker" in args:
        return "db_worker"
    if _is_gunicorn(args):
        parent = parent_pid(pid)
        parent_args = (_read(f"/proc/{parent}/cmdline") or "").split("\0") if parent else []
        return "gunicorn worker" if _is_gunicorn(parent_args) else "gunicorn master"
    return os.path.basename(args[0])


def _is_gunicorn(args: list[str]) -> bool:
    # `python -m gunicorn ...`, the gunicorn script, or a title set by setproctitle
    return bool(args) and (
        "gunicorn" in args[:3]
        or os.path.basename(args[0]) == "gunicorn"
        or any(os.path.basename(a) == "gunicorn" for a in args[:2])
        or args[0].startswith("gunicorn:")
    )


def parent_pid(pid: int) -> int | None:
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    # the command name (field 2) may contain spaces and parentheses: split after the last ')'
    return int(stat.rsplit(")", 1)[1].split()[1])


def cpu_seconds(pid: int) -> float | None:
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # after the ')': state(0) ppid(1) ... utime(11) stime(12)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_kib(pid: int) -> tuple[int, int] | None:
    """(RSS, PSS) in KiB from smaps_rollup."""
    text = _read(f"/proc/{pid}/smaps_rollup")
    if not text:
        return None
    rss = pss = 0
    for line in text.splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def sample_tree(root_pid: int) -> list[ProcSample]:
    samples = []
    for pid in process_tree(root_pid):
        mem = memory_kib(pid)
        cpu = cpu_seconds(pid)
        if mem is None or cpu is None:
            continue  # exited between listing and reading
        samples.append(ProcSample(pid, role_of(pid), mem[0], mem[1], cpu))
    return samples


@dataclass
class TreeMonitor:
    """Samples a process tree in a background thread: peak memory, CPU per process."""

    root_pid: int
    interval: float = 0.25
    peak_rss_kib: int = 0
    peak_pss_kib: int = 0
    history: list[tuple[float, int, int]] = field(default_factory=list)  # (t, rss, pss) totals
    _first: dict[int, ProcSample] = field(default_factory=dict)
    _last: dict[int, ProcSample] = field(default_factory=dict)
    peak_rss_by_process: dict[int, tuple[str, int]] = field(
        default_factory=dict
    )  # pid: (role, KiB)
    _at_start: set[int] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _started_at: float = 0.0
    _stopped_at: float = 0.0

    def start(self) -> "TreeMonitor":
        self._started_at = time.monotonic()
        self._take()
        self._thread = threading.Thread(target=self._run, name="procstats", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> "TreeMonitor":
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        self._take()
        self._stopped_at = time.monotonic()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            self._take()

    def _take(self):
        samples = sample_tree(self.root_pid)
        if not self._first:
            self._at_start = {s.pid for s in samples}
        rss = sum(s.rss_kib for s in samples)
        pss = sum(s.pss_kib for s in samples)
        self.peak_rss_kib = max(self.peak_rss_kib, rss)
        self.peak_pss_kib = max(self.peak_pss_kib, pss)
        self.history.append((time.monotonic(), rss, pss))
        for s in samples:
            if s.rss_kib > self.peak_rss_by_process.get(s.pid, ("", 0))[1]:
                self.peak_rss_by_process[s.pid] = (s.role, s.rss_kib)
            self._first.setdefault(s.pid, s)
            self._last[s.pid] = s

    def cpu_by_process(self) -> list[tuple[int, str, float, float]]:
        """(pid, role, CPU seconds used in the window, share of one core) for every process seen."""
        wall = max(self._stopped_at - self._started_at, 1e-9)
        rows = []
        for pid, last in self._last.items():
            # a process born during the window (a restarted worker) counts from zero
            base = self._first[pid].cpu_seconds if pid in self._at_start else 0.0
            used = last.cpu_seconds - base
            rows.append((pid, last.role, used, used / wall))
        return sorted(rows, key=lambda r: (r[1], r[0]))


def idle_memory(root_pid: int) -> tuple[int, int, list[ProcSample]]:
    """(total RSS, total PSS, per process) right now, in KiB."""
    samples = sample_tree(root_pid)
    return sum(s.rss_kib for s in samples), sum(s.pss_kib for s in samples), samples


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"
