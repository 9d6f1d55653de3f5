"""Rate limits per key, per project and installation-wide, in fixed one-minute windows.

The counters live in a small SQLite file of their own (WAL, no fsync), shared by all worker
processes on the machine: one short write transaction per accepted event, never the main DB.
"""

import os
import random
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

WINDOW_SECONDS = 60
_local = threading.local()


@dataclass(frozen=True)
class Limited:
    scope: str  # "key" | "project" | "organization" (installation-wide, Sentry's word)
    retry_after: int


def db_path() -> Path:
    if settings.BUGSINK_INGEST_RATE_LIMIT_DB:
        return Path(settings.BUGSINK_INGEST_RATE_LIMIT_DB)
    base = settings.BUGSINK_INGEST_SPOOL_DIR or Path(tempfile.gettempdir()) / "bugsink-spool"
    return Path(base) / "ratelimits.sqlite3"


def _connection() -> sqlite3.Connection:
    path = str(db_path())
    conn = getattr(_local, "conn", None)
    if conn is None or _local.path != path or _local.pid != os.getpid():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")  # counters, not data: losing one on a crash is fine
        conn.execute(
            "CREATE TABLE IF NOT EXISTS counters (scope TEXT, window INTEGER, n INTEGER, "
            "PRIMARY KEY (scope, window)) WITHOUT ROWID"
        )
        _local.conn, _local.path, _local.pid = conn, path, os.getpid()
    return conn


def check_and_count(key) -> Limited | None:
    """Count one event against every limit that applies, unless one is already used up."""
    project_limit = key.project_limit or settings.BUGSINK_INGEST_PROJECT_RATE_LIMIT_PER_MINUTE
    limits = [
        (f"k{key.key_id}", "key", key.key_limit),
        (f"p{key.project_id}", "project", project_limit),
        ("global", "organization", settings.BUGSINK_INGEST_RATE_LIMIT_PER_MINUTE),
    ]
    limits = [x for x in limits if x[2]]
    if not limits:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
    conn = _connection()
    conn.execute("BEGIN IMMEDIATE")
    try:
        for name, scope, limit in limits:
            row = conn.execute(
                "SELECT n FROM counters WHERE scope=? AND window=?", (name, window)
            ).fetchone()
            if row and row[0] >= limit:
                conn.execute("ROLLBACK")
                return Limited(scope, retry_after)
        conn.executemany(
            "INSERT INTO counters VALUES (?, ?, 1) ON CONFLICT(scope, window) DO UPDATE SET n=n+1",
            [(name, window) for name, _, _ in limits],
        )
        if random.random() < 0.001:
            conn.execute("DELETE FROM counters WHERE window < ?", (window - 1,))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return None
