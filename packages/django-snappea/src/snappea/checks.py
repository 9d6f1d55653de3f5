"""System checks: every way to misconfigure the queue, caught at `manage.py check`."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from snappea.routers import SnappeaRouter, queue_alias

ROUTER_PATH = "snappea.routers.SnappeaRouter"


@register(Tags.compatibility)  # reads settings only, so not Tags.database (that needs --database)
def check_queue_database(app_configs=None, **kwargs):
    alias = queue_alias()
    errors = []
    databases = getattr(settings, "DATABASES", {})
    if alias not in databases:
        errors.append(
            Error(
                f"The queue database alias {alias!r} (SNAPPEA_DATABASE) is not in DATABASES.",
                hint=(
                    f"Add DATABASES[{alias!r}] = {{'ENGINE': 'django.db.backends.sqlite3', "
                    "'NAME': BASE_DIR / 'snappea.sqlite3'}: a SQLite file of its own, so that "
                    "enqueueing never waits for the main database."
                ),
                id="snappea.E001",
            )
        )
        return errors
    if alias == "default":
        errors.append(
            Error(
                "The queue database must not be the 'default' database.",
                hint="Give snappea its own alias and SQLite file (SNAPPEA_DATABASE = 'snappea').",
                id="snappea.E002",
            )
        )
    engine = databases[alias].get("ENGINE", "")
    if not engine.endswith("sqlite3"):
        errors.append(
            Error(
                f"The queue database {alias!r} uses {engine!r}; snappea needs SQLite.",
                hint=(
                    "snappea's speed comes from one local SQLite file (WAL, file-based wake-ups, "
                    "a file lock for its single foreman); these do not exist on a server database. "
                    "Use 'django.db.backends.sqlite3', or another Django Tasks backend for a "
                    "server database."
                ),
                id="snappea.E003",
            )
        )
    elif str(databases[alias].get("NAME", "")) in ("", ":memory:") or "mode=memory" in str(
        databases[alias].get("NAME", "")
    ):
        errors.append(
            Error(
                f"The queue database {alias!r} is in memory; the foreman runs in another process.",
                hint="Give it a file name, e.g. BASE_DIR / 'snappea.sqlite3'.",
                id="snappea.E004",
            )
        )
    else:
        directory = Path(str(databases[alias].get("NAME", ""))).parent
        if not directory.is_dir():
            errors.append(
                Error(
                    f"The directory of the queue database {alias!r} ({directory}) does not exist.",
                    hint="Create it, or point DATABASES[...]['NAME'] at an existing directory.",
                    id="snappea.E012",
                )
            )
    routers = list(getattr(settings, "DATABASE_ROUTERS", []))
    if not any(r == ROUTER_PATH or isinstance(r, SnappeaRouter) for r in routers):
        errors.append(
            Error(
                "snappea's router is missing from DATABASE_ROUTERS.",
                hint=f"Add {ROUTER_PATH!r} to DATABASE_ROUTERS so the queue's tables live in the "
                f"{alias!r} database and nothing else does.",
                id="snappea.E005",
            )
        )
    elif routers and routers[0] not in (ROUTER_PATH,) and not isinstance(routers[0], SnappeaRouter):
        errors.append(
            Warning(
                "snappea's router is not first in DATABASE_ROUTERS; an earlier router may send "
                "snappea's tables elsewhere.",
                hint=f"Put {ROUTER_PATH!r} first.",
                id="snappea.W001",
            )
        )
    return errors


@register(Tags.compatibility)
def check_settings(app_configs=None, **kwargs):
    errors = []
    for name in ("WORKERS", "BATCH_SIZE"):
        value = getattr(settings, f"SNAPPEA_{name}")
        if not isinstance(value, int) or value < 1:
            errors.append(
                Error(f"SNAPPEA_{name} must be a whole number of at least 1.", id="snappea.E006")
            )
    for name in (
        "GRACE_PERIOD",
        "HEARTBEAT_INTERVAL",
        "POLL_INTERVAL",
        "RETRY_BACKOFF",
        "DEAD_AFTER",
        "STUCK_AFTER",
        "KEEP_FAILED_FOR",
        "KEEP_RESULTS_FOR",
    ):
        value = getattr(settings, f"SNAPPEA_{name}")
        if not isinstance(value, int | float) or value < 0:
            errors.append(
                Error(f"SNAPPEA_{name} must be a number >= 0 (seconds).", id="snappea.E007")
            )
    if not isinstance(settings.SNAPPEA_MAX_RETRIES, int) or settings.SNAPPEA_MAX_RETRIES < 0:
        errors.append(Error("SNAPPEA_MAX_RETRIES must be a whole number >= 0.", id="snappea.E008"))
    if settings.SNAPPEA_DEAD_AFTER <= settings.SNAPPEA_HEARTBEAT_INTERVAL:
        errors.append(
            Error(
                "SNAPPEA_DEAD_AFTER must be longer than SNAPPEA_HEARTBEAT_INTERVAL, or every "
                "healthy foreman looks dead between two heartbeats.",
                id="snappea.E009",
            )
        )
    if settings.SNAPPEA_ENQUEUE_ON_COMMIT and settings.SNAPPEA_ON_COMMIT_DATABASE not in getattr(
        settings, "DATABASES", {}
    ):
        errors.append(
            Error(
                f"SNAPPEA_ON_COMMIT_DATABASE {settings.SNAPPEA_ON_COMMIT_DATABASE!r} is not in DATABASES.",
                id="snappea.E010",
            )
        )
    return errors


def check_backend(backend):
    """Called by SnappeaBackend.check(): the Tasks side of the configuration."""
    from django.apps import apps

    errors = []
    if not apps.is_installed("snappea"):
        errors.append(
            Error(
                f"TASKS[{backend.alias!r}] uses SnappeaBackend but 'snappea' is not in INSTALLED_APPS.",
                hint="Add 'snappea' to INSTALLED_APPS (its tables and the runsnappea command).",
                id="snappea.E011",
            )
        )
    return errors
