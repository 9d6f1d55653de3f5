"""Settings of the ingest app (prefix BUGSINK_INGEST_), the one way the app reads them.

`BugsinkIngestConf` (django-appconf) puts the defaults into django.conf.settings; the app reads
every value through `ingest_settings`, which is typed and reads the live setting each time (so
`override_settings` works in tests). README.md lists and explains them.
"""

from __future__ import annotations

from os import PathLike
from typing import Generic, TypeVar

from appconf import AppConf  # type: ignore[import-untyped]  # appconf ships no type hints
from django.conf import settings

MiB = 1024 * 1024
T = TypeVar("T")


class BugsinkIngestConf(AppConf):  # type: ignore[misc]  # AppConf is untyped
    # Where the DSN points: scheme, host, port and an optional path prefix.
    BASE_URL = "http://127.0.0.1:8000"
    # Digest consumer as a dotted path; overrides register_consumer().
    CONSUMER = None
    # The spool implementation (dotted path to a class) and its options.
    SPOOL = "bugsink_ingest.spool.segments.SegmentSpool"
    SPOOL_DIR = None  # SegmentSpool: a directory of its own; required with that spool
    SPOOL_FSYNC = False  # file spools: fsync each event (survive power loss, not only a crash)
    SPOOL_DATABASE = "default"  # DatabaseSpool: the database alias holding the spool table
    SPOOL_BATCH_SIZE = 100  # events per consumer call
    SPOOL_CLAIM_SECONDS = (
        300  # DatabaseSpool: a claimed batch whose drain died is retried after this
    )
    SPOOL_POISON_ATTEMPTS = 3  # failures alone, while others go through, before quarantine
    # Fan-out: a drain that finds more than one batch waiting wakes another drain (still at most
    # one pending, so the number running is bounded by the Tasks workers). Off by default: on one
    # machine with SQLite the digest has one writer, so a second drain would only queue for the
    # write lock (and hold a second batch in memory); turn it on with PostgreSQL and several
    # workers (the DatabaseSpool's leases with SKIP LOCKED keep their claims disjoint).
    PARALLEL_DRAINS = False
    # The sweep: while events wait, a deferred task looks this often whether a drain is pending
    # and starts one if not (None or 0: no sweep).
    SWEEP_SECONDS = 15.0
    # Backpressure: answer 429 when this many events wait (None: no cap).
    MAX_BACKLOG = 100_000
    BACKPRESSURE_RETRY_AFTER = 30
    # Readiness (bugsink_ingest.health): not ready while this many events wait (None: MAX_BACKLOG).
    READY_MAX_BACKLOG = None
    # Limits, enforced while streaming (413 beyond them).
    MAX_COMPRESSED_BODY = 20 * MiB
    MAX_ENVELOPE_SIZE = 200 * MiB
    MAX_EVENT_SIZE = 1 * MiB
    MAX_ATTACHMENT_SIZE = 100 * MiB  # one attachment item (streamed to the spool, never held)
    MAX_ENVELOPE_ITEMS_SIZE = 10 * MiB  # an envelope's events, feedback, user reports together
    MAX_HEADER_LINE = 64 * 1024
    # Rate limits, events per minute (None: no limit). Per project and per key: the model fields
    # win; PROJECT_RATE_LIMIT_PER_MINUTE is the default for projects without one.
    RATE_LIMIT_PER_MINUTE = None  # installation-wide
    PROJECT_RATE_LIMIT_PER_MINUTE = None
    # SQLite file shared by the worker processes for the rate-limit counters (None: in SPOOL_DIR,
    # else a file in the temp dir named after this site's SECRET_KEY).
    RATE_LIMIT_DB = None
    # Redis URL (redis://host:6379/0) for counters shared by several hosts (None: the file above,
    # per machine). Needs the extra django-bugsink-ingest[redis].
    RATE_LIMIT_REDIS_URL = None
    # CORS: the allowed origin ("*" for any; SDK requests carry no credentials).
    CORS_ALLOW_ORIGIN = "*"
    # Seconds a looked-up key stays cached in each worker process (a disabled key stops working
    # within this time).
    KEY_CACHE_SECONDS = 5

    class Meta:
        prefix = "BUGSINK_INGEST"


class _Setting(Generic[T]):
    """One BUGSINK_INGEST_* setting, read from django.conf.settings at each access (a data
    descriptor: no failed attribute lookup first, which the request path would pay for)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = "BUGSINK_INGEST_" + name

    def __get__(self, instance: object, owner: type | None = None) -> T:
        return getattr(settings, self.key)  # type: ignore[no-any-return]

    def __set__(self, instance: object, value: T) -> None:
        raise AttributeError(f"{self.key} is a setting: change it in the settings module")


class IngestSettings:
    """The BUGSINK_INGEST_* settings with their types, read live from django.conf.settings."""

    BASE_URL: _Setting[str] = _Setting()
    CONSUMER: _Setting[str | None] = _Setting()
    SPOOL: _Setting[str] = _Setting()
    SPOOL_DIR: _Setting[str | PathLike[str] | None] = _Setting()
    SPOOL_FSYNC: _Setting[bool] = _Setting()
    SPOOL_DATABASE: _Setting[str] = _Setting()
    SPOOL_BATCH_SIZE: _Setting[int] = _Setting()
    SPOOL_CLAIM_SECONDS: _Setting[float] = _Setting()
    SPOOL_POISON_ATTEMPTS: _Setting[int] = _Setting()
    PARALLEL_DRAINS: _Setting[bool] = _Setting()
    SWEEP_SECONDS: _Setting[float | None] = _Setting()
    MAX_BACKLOG: _Setting[int | None] = _Setting()
    BACKPRESSURE_RETRY_AFTER: _Setting[int] = _Setting()
    READY_MAX_BACKLOG: _Setting[int | None] = _Setting()
    MAX_COMPRESSED_BODY: _Setting[int] = _Setting()
    MAX_ENVELOPE_SIZE: _Setting[int] = _Setting()
    MAX_EVENT_SIZE: _Setting[int] = _Setting()
    MAX_ATTACHMENT_SIZE: _Setting[int] = _Setting()
    MAX_ENVELOPE_ITEMS_SIZE: _Setting[int] = _Setting()
    MAX_HEADER_LINE: _Setting[int] = _Setting()
    RATE_LIMIT_PER_MINUTE: _Setting[int | None] = _Setting()
    PROJECT_RATE_LIMIT_PER_MINUTE: _Setting[int | None] = _Setting()
    RATE_LIMIT_DB: _Setting[str | PathLike[str] | None] = _Setting()
    RATE_LIMIT_REDIS_URL: _Setting[str | None] = _Setting()
    CORS_ALLOW_ORIGIN: _Setting[str] = _Setting()
    KEY_CACHE_SECONDS: _Setting[float] = _Setting()


ingest_settings = IngestSettings()
