"""The deployment's SQLite files get a WAL size limit and, when new, 8 KiB pages; a PostgreSQL main
database gets no PRAGMA."""

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
            mode = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            out[alias] = {"journal_size_limit": limit, "journal_mode": mode}
            out[alias + "_page_size"] = cursor.fetchone()[0]
print(json.dumps(out))
"""


def probe(tmp_path, **env_vars):
    return run_site_python(tmp_path, PROBE, **env_vars)


def test_every_sqlite_file_truncates_its_wal(tmp_path):
    seen = probe(tmp_path, BUGSINK_DATA_DIR=str(tmp_path / "data"), PROBE_CONNECT="1")
    assert set(seen["options"]) == {"default", "snappea", "cache"}  # cache: login throttling
    for alias in ("default", "snappea", "cache"):
        assert seen[alias] == {"journal_size_limit": 1048576, "journal_mode": "wal"}
        assert seen[alias + "_page_size"] == 8192  # a new file: several event rows fit in a page
        # The limit is added to the deployment's own PRAGMAs, not instead of them.
        assert "synchronous=NORMAL" in seen["options"][alias]["init_command"]


def test_an_existing_file_keeps_its_page_size(tmp_path):
    import sqlite3

    data = tmp_path / "data"
    data.mkdir()
    old = sqlite3.connect(data / "db.sqlite3")  # made by an earlier release: 4 KiB pages
    old.execute("PRAGMA page_size=4096")
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE t (x)")
    old.close()
    seen = probe(tmp_path, BUGSINK_DATA_DIR=str(data), PROBE_CONNECT="1")
    assert seen["default"]["journal_mode"] == "wal"
    assert seen["default_page_size"] == 4096 and seen["snappea_page_size"] == 8192


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
