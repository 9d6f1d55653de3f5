"""snappea's settings, each overridable in the host project's settings with the prefix SNAPPEA_."""

from appconf import AppConf
from django.conf import settings  # noqa: F401  (appconf reads the host settings through it)


class SnappeaConf(AppConf):
    # The database alias holding the queue; it must be a SQLite database of its own.
    DATABASE = "snappea"
    # Keep a result row per finished task so that get_result() works. Off: finished tasks vanish.
    RESULTS = False
    # How long result rows and failed task rows are kept (seconds).
    KEEP_RESULTS_FOR = 24 * 3600
    KEEP_FAILED_FOR = 7 * 24 * 3600
    # Enqueue inside a transaction of ON_COMMIT_DATABASE only when it commits (dropped on rollback).
    ENQUEUE_ON_COMMIT = False
    ON_COMMIT_DATABASE = "default"
    # The foreman.
    WORKERS = 4
    BATCH_SIZE = 100
    GRACE_PERIOD = 30.0
    HEARTBEAT_INTERVAL = 2.0
    # The foreman watches the wake-up file with inotify (Linux); where inotify is unavailable, or
    # INOTIFY is False, it looks at the file's modification time every POLL_INTERVAL seconds.
    INOTIFY = True
    POLL_INTERVAL = 0.05
    # Retries of a failing task: how many, and the first delay (doubled at each further attempt).
    MAX_RETRIES = 0
    RETRY_BACKOFF = 10.0
    # Status: a heartbeat older than DEAD_AFTER means the foreman is gone (or hung);
    # a task running longer than STUCK_AFTER means it is stuck.
    DEAD_AFTER = 30.0
    STUCK_AFTER = 600.0

    class Meta:
        prefix = "SNAPPEA"
