"""Rate limits per key, per project and installation-wide, in fixed one-minute windows.

The counters live in a small SQLite file of their own (WAL, no fsync) shared by all worker
processes on the machine, never in the main DB. To keep the hot path cheap, each process counts in
memory and adds its counts to the shared file at most every SYNC_SECONDS. A request whose events
could bring a limit within a tenth of itself (at least 10 events) is decided in one write
transaction against the shared counts, so the boundary is exact across processes.

Every event a request carries is charged (an envelope of 200 events is 200, not one request): the
first ones that fit are let through, the rest are refused and counted as dropped, per project
(`dropped_count`). Feedback and user reports are charged like events: each becomes a stored row
as an event does, so a flood of them costs the same.

The file is BUGSINK_INGEST_RATE_LIMIT_DB, else `ratelimits.sqlite3` in the spool directory, else
(a spool without a directory) a file in the temp dir named after this site's SECRET_KEY: private
to the site (two sites' key and project ids would otherwise count against each other), and one
minute of counts is all a lost file costs.
"""

import os
import random
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.crypto import salted_hmac

from bugsink_ingest.auth import KeyInfo
from bugsink_ingest.conf import ingest_settings

WINDOW_SECONDS = 60
SYNC_SECONDS = 0.1
_lock = threading.Lock()


@dataclass(frozen=True)
class Limited:
    scope: str  # "key" | "project" | "organization" (installation-wide, Sentry's word)
    retry_after: int


@dataclass(frozen=True)
class Charge:
    """What the limits let through of a request's events: the first `allowed` of them; `limited`
    is the limit that held the others back (None when all may be stored)."""

    allowed: int
    limited: Limited | None


def db_path() -> Path:
    if ingest_settings.RATE_LIMIT_DB:
        return Path(ingest_settings.RATE_LIMIT_DB)
    if ingest_settings.SPOOL_DIR:
        return Path(ingest_settings.SPOOL_DIR) / "ratelimits.sqlite3"
    site = salted_hmac(
        "bugsink_ingest.ratelimit", "counters", secret=settings.SECRET_KEY, algorithm="sha256"
    )
    return Path(tempfile.gettempdir()) / f"bugsink-ratelimits-{site.hexdigest()[:16]}.sqlite3"


class _Counters:
    """One process's view: shared counts as of the last sync, plus its own unsynced counts."""

    def __init__(self, path: str, where: tuple[object, ...]):
        # where: the settings the path came from (compared per event instead of the path)
        self.path, self.pid, self.where = path, os.getpid(), where
        self.window = -1
        self.shared: dict[str, int] = {}
        self.pending: dict[str, int] = {}
        self.synced_at = 0.0
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")  # counters, not data
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS counters (scope TEXT, window INTEGER, n INTEGER, "
            "PRIMARY KEY (scope, window)) WITHOUT ROWID"
        )

    def sync(self, names: Iterable[str], now: float) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO counters VALUES (?, ?, ?) "
                "ON CONFLICT(scope, window) DO UPDATE SET n = n + excluded.n",
                [(name, self.window, n) for name, n in self.pending.items() if n],
            )
            wanted = set(names) | set(self.pending)
            marks = ",".join("?" * len(wanted))
            rows = conn.execute(
                f"SELECT scope, n FROM counters WHERE window = ? AND scope IN ({marks})",
                (self.window, *wanted),
            ).fetchall()
            if random.random() < 0.01:
                conn.execute("DELETE FROM counters WHERE window < ?", (self.window - 1,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.shared = {name: 0 for name in wanted} | dict(rows)
        self.pending = {}
        self.synced_at = now

    def reserve(self, limits: list[tuple[str, str, int]], n: int, now: float) -> int:
        """Charge up to n events to the shared counts in one write transaction (adding this
        process's pending counts); returns how many fit under every limit."""
        names = [name for name, _, _ in limits]
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            marks = ",".join("?" * len(names))
            rows: dict[str, int] = dict(
                conn.execute(
                    f"SELECT scope, n FROM counters WHERE window = ? AND scope IN ({marks})",
                    (self.window, *names),
                ).fetchall()
            )
            room = min(
                limit - rows.get(name, 0) - self.pending.get(name, 0) for name, _, limit in limits
            )
            allowed = max(0, min(n, room))
            writes = dict(self.pending)
            for name in names:
                writes[name] = writes.get(name, 0) + allowed
            conn.executemany(
                "INSERT INTO counters VALUES (?, ?, ?) "
                "ON CONFLICT(scope, window) DO UPDATE SET n = n + excluded.n",
                [(name, self.window, count) for name, count in writes.items() if count],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.shared.update({name: rows.get(name, 0) + writes[name] for name in names})
        self.pending = {}
        self.synced_at = now
        return allowed


_counters: _Counters | None = None


def _get_counters() -> _Counters:
    global _counters
    # The path is only recomputed when a setting it depends on changed (Path() costs per event).
    where = (ingest_settings.RATE_LIMIT_DB, ingest_settings.SPOOL_DIR, settings.SECRET_KEY)
    if _counters is None or _counters.where != where or _counters.pid != os.getpid():
        _counters = _Counters(str(db_path()), where)
    return _counters


def check_and_count(key: KeyInfo, n: int = 1) -> Charge:
    """Charge up to n events to every limit that applies: as many as all of them have room for
    (the first ones of the request), the rest refused and counted as dropped."""
    project_limit = key.project_limit or ingest_settings.PROJECT_RATE_LIMIT_PER_MINUTE
    candidates = [
        (f"k{key.key_id}", "key", key.key_limit),
        (f"p{key.project_id}", "project", project_limit),
        ("global", "organization", ingest_settings.RATE_LIMIT_PER_MINUTE),
    ]
    limits = [(name, scope, limit) for name, scope, limit in candidates if limit]
    if not limits or n <= 0:
        return Charge(n, None)
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    names = [name for name, _, _ in limits]
    with _lock:
        c = _get_counters()
        if window != c.window:
            c.window, c.shared, c.pending, c.synced_at = window, {}, {}, 0.0
        due = now - c.synced_at > SYNC_SECONDS or any(name not in c.shared for name in names)
        if due:
            c.sync(names, now)
        near = any(limit - _total(c, name) - n <= max(10, limit // 10) for name, _, limit in limits)
        if near:
            # Close to a limit (or this request could cross it): decide against the shared
            # counts in one write transaction, so processes deciding at once never overshoot.
            allowed = c.reserve(limits, n, now)
        else:
            allowed = n
            for name in names:
                c.pending[name] = c.pending.get(name, 0) + n
        if allowed < n:
            dropped = f"dropped:p{key.project_id}"
            c.pending[dropped] = c.pending.get(dropped, 0) + n - allowed
            c.sync(names, now)  # at once: what was dropped is counted where everyone sees it
    if allowed == n:
        return Charge(n, None)
    _, scope, _ = min(limits, key=lambda entry: entry[2] - _total(c, entry[0]))
    retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
    return Charge(allowed, Limited(scope, retry_after))


def dropped_count(project_id: int) -> int:
    """Events of the project refused by a limit in the current window (all processes, as of the
    last sync of each)."""
    counters = _get_counters()
    window = int(time.time() // WINDOW_SECONDS)
    row = counters.conn.execute(
        "SELECT n FROM counters WHERE window = ? AND scope = ?", (window, f"dropped:p{project_id}")
    ).fetchone()
    return int(row[0]) if row else 0


def _total(c: _Counters, name: str) -> int:
    return c.shared.get(name, 0) + c.pending.get(name, 0)
