"""The deployment's SQLite files get a WAL size limit; a PostgreSQL main database gets no PRAGMA."""

import json

from tests.e2e.test_site_config import run_site_python

# Opens both databases the way the deployment does and reports what SQLite says.
PROBE = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "bugsink_site.settings"
import django
django.setup()
from django.conf import settings
from django.db import connections
out = {"options": {a: settings.DATABASES[a].get("OPTIONS", {}) for a in settings.DATABASES}}
if os.environ.get("PROBE_CONNECT"):
    for alias in settings.DATABASES:
        with connections[alias].cursor() as cursor:
            cursor.execute("PRAGMA journal_size_limit")
            limit = cursor.fetchone()[0]
            cursor.execute("PRAGMA journal_mode")
            out[alias] = {"journal_size_limit": limit, "journal_mode": cursor.fetchone()[0]}
print(json.dumps(out))
"""


def probe(tmp_path, **env_vars):
    return run_site_python(tmp_path, PROBE, **env_vars)


def test_every_sqlite_file_truncates_its_wal(tmp_path):
    seen = probe(tmp_path, BUGSINK_DATA_DIR=str(tmp_path / "data"), PROBE_CONNECT="1")
    assert set(seen["options"]) == {"default", "snappea", "cache"}  # cache: login throttling
    for alias in ("default", "snappea", "cache"):
        assert seen[alias] == {"journal_size_limit": 1048576, "journal_mode": "wal"}
        # The limit is added to the deployment's own PRAGMAs, not instead of them.
        assert "synchronous=NORMAL" in seen["options"][alias]["init_command"]


def test_postgres_gets_no_sqlite_pragma(tmp_path):
    seen = probe(
        tmp_path,
        BUGSINK_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL="postgres://u:p@db:5432/bugsink",
        BUGSINK_TASKS_BACKEND="immediate",
    )
    assert set(seen["options"]) == {"default"}
    assert "init_command" not in seen["options"]["default"]
    assert "PRAGMA" not in json.dumps(seen["options"])
