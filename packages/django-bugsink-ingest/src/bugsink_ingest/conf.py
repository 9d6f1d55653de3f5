"""Settings of the ingest app (django-appconf, prefix BUGSINK_INGEST_). README.md lists them."""

from appconf import AppConf
from django.conf import settings  # noqa: F401  (appconf needs settings imported first)

MiB = 1024 * 1024


class BugsinkIngestConf(AppConf):
    # Where the DSN points: scheme, host, port and an optional path prefix.
    BASE_URL = "http://127.0.0.1:8000"
    # Digest consumer as a dotted path; overrides register_consumer().
    CONSUMER = None
    # The spool implementation (dotted path to a class) and its options.
    SPOOL = "bugsink_ingest.spool_segments.SegmentSpool"
    SPOOL_DIR = None  # SegmentSpool/FileSpool: a directory; None means <tempdir>/bugsink-spool
    SPOOL_FSYNC = False  # file spools: fsync each event (survive power loss, not only a crash)
    SPOOL_DATABASE = "default"  # DatabaseSpool: the database alias holding the spool table
    SPOOL_BATCH_SIZE = 100  # events per consumer call
    SPOOL_CLAIM_SECONDS = 300  # a claimed batch whose drain died is retried after this
    SPOOL_POISON_ATTEMPTS = 3  # failures alone, while others go through, before quarantine
    # Backpressure: answer 429 when this many events wait (None: no cap).
    MAX_BACKLOG = 100_000
    BACKPRESSURE_RETRY_AFTER = 30
    # Limits, enforced while streaming (413 beyond them).
    MAX_COMPRESSED_BODY = 20 * MiB
    MAX_ENVELOPE_SIZE = 200 * MiB
    MAX_EVENT_SIZE = 1 * MiB
    MAX_ATTACHMENT_SIZE = 100 * MiB
    MAX_HEADER_LINE = 64 * 1024
    # Rate limits, events per minute (None: no limit). Per project and per key: the model fields
    # win; PROJECT_RATE_LIMIT_PER_MINUTE is the default for projects without one.
    RATE_LIMIT_PER_MINUTE = None  # installation-wide
    PROJECT_RATE_LIMIT_PER_MINUTE = None
    # SQLite file shared by the worker processes for the rate-limit counters (None: in SPOOL_DIR
    # or the temp dir).
    RATE_LIMIT_DB = None
    # CORS: the allowed origin ("*" for any; SDK requests carry no credentials).
    CORS_ALLOW_ORIGIN = "*"
    # Seconds a looked-up key stays cached in each worker process (a disabled key stops working
    # within this time).
    KEY_CACHE_SECONDS = 5

    class Meta:
        prefix = "BUGSINK_INGEST"
