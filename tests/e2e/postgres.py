"""The scale-out path for end-to-end tests: a fresh PostgreSQL database, and the environment that
switches the deployment to it and to django-tasks-db or RQ."""

import contextlib
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

from harness.postgres_server import drop_database

POSTGRES_URL = os.environ.get("BUGSINK_TEST_POSTGRES", "")


@contextlib.contextmanager
def fresh_postgres_database():
    """A database of its own on the BUGSINK_TEST_POSTGRES server, dropped afterwards."""
    import psycopg

    name = f"bugsink_e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))
    finally:
        drop_database(POSTGRES_URL, name)


def scale_out_env(database_url: str, redis_url: str | None = None) -> dict:
    """The scale-out path, by environment only: PostgreSQL and django-tasks-db's db_worker, or
    with a redis_url RQ's worker on that Redis."""
    if redis_url:
        return {"DATABASE_URL": database_url, "BUGSINK_TASKS_BACKEND": "rq", "REDIS_URL": redis_url}
    return {"DATABASE_URL": database_url, "BUGSINK_TASKS_BACKEND": "db"}
