"""django-snappea alone in a usual Django site: its queue database and its backend; nothing of
the other two packages."""

from harness.packaging import SITE_APPS
from harness.settings import *  # noqa: F403
from harness.settings import TASKS_APPS, data_dir, sqlite_database

DATA = data_dir("PACKAGING_CHECK_DIR")
ROOT_URLCONF = "harness.packaging.urls"
INSTALLED_APPS = [*SITE_APPS, *TASKS_APPS, "snappea"]
DATABASES = {
    "default": sqlite_database(DATA / "main.sqlite3"),
    "snappea": sqlite_database(DATA / "snappea.sqlite3"),
}
DATABASE_ROUTERS = ["snappea.routers.SnappeaRouter"]
TASKS = {"default": {"BACKEND": "snappea.backend.SnappeaBackend"}}
