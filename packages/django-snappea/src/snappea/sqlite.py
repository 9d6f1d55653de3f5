"""The queue's SQLite file: connection tuning, and the files the foreman keeps beside it."""

from pathlib import Path

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from snappea.conf import queue_alias


def tune_queue_connection(
    sender: object, connection: BaseDatabaseWrapper, **kwargs: object
) -> None:
    """connection_created receiver: WAL, NORMAL sync and a busy timeout on every queue connection."""
    if connection.alias != queue_alias() or connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Django's OPTIONS["timeout"] wins when given; otherwise wait rather than fail on a lock.
        if "timeout" not in connection.settings_dict.get("OPTIONS", {}):
            cursor.execute("PRAGMA busy_timeout=20000")


def queue_db_path() -> Path:
    """The queue database file (the test database's when the test runner has switched to it)."""
    name = connections[queue_alias()].settings_dict["NAME"]
    return Path(str(name)).resolve()


def wake_file_path() -> Path:
    return Path(str(queue_db_path()) + ".wake")


def lock_file_path() -> Path:
    return Path(str(queue_db_path()) + ".foreman.lock")
