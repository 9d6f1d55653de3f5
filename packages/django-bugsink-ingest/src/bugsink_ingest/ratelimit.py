"""Rate limits per key, per project and installation-wide, in fixed one-minute windows.

The counters live in a small SQLite file of their own (WAL, no fsync) shared by all worker
processes on the machine, never in the main DB. To keep the hot path cheap, each process counts in
memory and adds its counts to the shared file at most every SYNC_SECONDS; near a limit (within
NEAR of it) it syncs on every event, so the decision at the boundary is exact across processes.

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


_counters: _Counters | None = None


def _get_counters() -> _Counters:
    global _counters
    # The path is only recomputed when a setting it depends on changed (Path() costs per event).
    where = (ingest_settings.RATE_LIMIT_DB, ingest_settings.SPOOL_DIR, settings.SECRET_KEY)
    if _counters is None or _counters.where != where or _counters.pid != os.getpid():
        _counters = _Counters(str(db_path()), where)
    return _counters


def check_and_count(key: KeyInfo) -> Limited | None:
    """Count one event against every limit that applies, unless one of them is used up."""
    project_limit = key.project_limit or ingest_settings.PROJECT_RATE_LIMIT_PER_MINUTE
    candidates = [
        (f"k{key.key_id}", "key", key.key_limit),
        (f"p{key.project_id}", "project", project_limit),
        ("global", "organization", ingest_settings.RATE_LIMIT_PER_MINUTE),
    ]
    limits = [(name, scope, limit) for name, scope, limit in candidates if limit]
    if not limits:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    names = [name for name, _, _ in limits]
    with _lock:
        c = _get_counters()
        if window != c.window:
            c.window, c.shared, c.pending, c.synced_at = window, {}, {}, 0.0
        due = now - c.synced_at > SYNC_SECONDS or any(name not in c.shared for name in names)
        near = any(limit - _total(c, name) <= max(10, limit // 10) for name, _, limit in limits)
        if due or near:
            c.sync(names, now)
        for name, scope, limit in limits:
            if _total(c, name) >= limit:
                retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
                return Limited(scope, retry_after)
        for name in names:
            c.pending[name] = c.pending.get(name, 0) + 1
    return None


def _total(c: _Counters, name: str) -> int:
    return c.shared.get(name, 0) + c.pending.get(name, 0)
