"""The scale-out path for end-to-end tests: a fresh PostgreSQL database, and the environment that
switches the deployment to it and to django-tasks-db or RQ."""

import os

from harness.postgres_server import fresh_database

POSTGRES_URL = os.environ.get("BUGSINK_TEST_POSTGRES", "")


def fresh_postgres_database():
    """A database of its own on the BUGSINK_TEST_POSTGRES server, dropped afterwards."""
    return fresh_database(POSTGRES_URL, "bugsink_e2e_")


def scale_out_env(database_url: str, redis_url: str | None = None) -> dict:
    """The scale-out path, by environment only: PostgreSQL and django-tasks-db's db_worker, or
    with a redis_url RQ's worker on that Redis."""
    if redis_url:
        return {"DATABASE_URL": database_url, "BUGSINK_TASKS_BACKEND": "rq", "REDIS_URL": redis_url}
    return {"DATABASE_URL": database_url, "BUGSINK_TASKS_BACKEND": "db"}
