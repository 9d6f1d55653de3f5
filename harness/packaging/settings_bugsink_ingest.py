"""django-bugsink-ingest alone in a usual Django site: a spool and a consumer; neither snappea nor
the issues."""

from harness.packaging import SITE_APPS
from harness.settings import *  # noqa: F403
from harness.settings import TASKS_APPS, data_dir, sqlite_database

DATA = data_dir("PACKAGING_CHECK_DIR")
ROOT_URLCONF = "harness.packaging.urls"
INSTALLED_APPS = [*SITE_APPS, *TASKS_APPS, "bugsink_ingest"]
DATABASES = {"default": sqlite_database(DATA / "db.sqlite3")}
BUGSINK_INGEST_SPOOL_DIR = DATA / "spool"
BUGSINK_INGEST_CONSUMER = "harness.ingest_server.consumer.discard"
