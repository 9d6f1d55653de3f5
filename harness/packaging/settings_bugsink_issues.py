"""django-bugsink-issues with django-bugsink-ingest, its one declared sibling: the UI's apps, the
digest as the ingest consumer; not snappea."""

from harness.packaging import SITE_APPS
from harness.settings import *  # noqa: F403
from harness.settings import TASKS_APPS, data_dir, sqlite_database

DATA = data_dir("PACKAGING_CHECK_DIR")
ROOT_URLCONF = "harness.packaging.urls"
INSTALLED_APPS = [*SITE_APPS, *TASKS_APPS, "bugsink_ingest", "bugsink_issues"]
DATABASES = {"default": sqlite_database(DATA / "db.sqlite3")}
BUGSINK_INGEST_SPOOL_DIR = DATA / "spool"
