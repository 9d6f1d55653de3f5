"""System checks: every way to misconfigure the queue, caught at `manage.py check`."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from snappea.conf import (
    BACKEND_OPTIONS,
    BackendSettings,
    SettingProblem,
    queue_alias,
    settings_problems,
    snappea_settings,
)
from snappea.routers import SnappeaRouter

ROUTER_PATH = "snappea.routers.SnappeaRouter"


@register(Tags.compatibility)  # reads settings only, so not Tags.database (that needs --database)
def check_queue_database(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[CheckMessage]:
    try:
        alias = queue_alias()
    except ImproperlyConfigured:
        return []  # check_settings reports it
    errors: list[CheckMessage] = []
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
def check_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[CheckMessage]:
    errors: list[CheckMessage] = [
        Error(problem.message, id=problem.check_id) for problem in settings_problems()
    ]
    if errors:
        return errors  # the checks below compare values that must first be of the right kind
    conf = snappea_settings()
    if conf.dead_after <= conf.heartbeat_interval:
        errors.append(
            Error(
                "SNAPPEA_DEAD_AFTER must be longer than SNAPPEA_HEARTBEAT_INTERVAL, or every "
                "healthy foreman looks dead between two heartbeats.",
                id="snappea.E009",
            )
        )
    if conf.ready_max_heartbeat_age <= conf.heartbeat_interval:
        errors.append(
            Error(
                "SNAPPEA_READY_MAX_HEARTBEAT_AGE must be longer than SNAPPEA_HEARTBEAT_INTERVAL, "
                "or every healthy foreman looks not ready between two heartbeats.",
                id="snappea.E015",
            )
        )
    return errors


class CheckedBackend(Protocol):
    """What check_backend() reads of a SnappeaBackend."""

    @property
    def alias(self) -> str: ...
    @property
    def options(self) -> Mapping[str, object]: ...
    @property
    def backend_settings(self) -> BackendSettings: ...
    @property
    def settings_problems(self) -> Sequence[SettingProblem]: ...


def check_backend(backend: CheckedBackend) -> list[CheckMessage]:
    """Called by SnappeaBackend.check(): the Tasks side of the configuration."""
    errors: list[CheckMessage] = [
        Error(problem.message, id=problem.check_id) for problem in backend.settings_problems
    ]
    if not apps.is_installed("snappea"):
        errors.append(
            Error(
                f"TASKS[{backend.alias!r}] uses SnappeaBackend but 'snappea' is not in INSTALLED_APPS.",
                hint="Add 'snappea' to INSTALLED_APPS (its tables and the runsnappea command).",
                id="snappea.E011",
            )
        )
    unknown = sorted(set(backend.options) - BACKEND_OPTIONS)
    if unknown:
        errors.append(
            Warning(
                f"TASKS[{backend.alias!r}]['OPTIONS'] has keys snappea does not read: "
                f"{', '.join(map(repr, unknown))}.",
                hint=(
                    f"A backend's OPTIONS may set {', '.join(sorted(BACKEND_OPTIONS))}; the "
                    "foreman's settings (workers, retries, ...) are SNAPPEA_ settings."
                ),
                id="snappea.W002",
            )
        )
    conf = backend.backend_settings
    if (
        not backend.settings_problems
        and conf.enqueue_on_commit
        and conf.on_commit_database not in getattr(settings, "DATABASES", {})
    ):
        errors.append(
            Error(
                f"TASKS[{backend.alias!r}] enqueues on commit of the database "
                f"{conf.on_commit_database!r} (ON_COMMIT_DATABASE), which is not in DATABASES.",
                hint="Name a database of DATABASES in SNAPPEA_ON_COMMIT_DATABASE or "
                "OPTIONS['ON_COMMIT_DATABASE'].",
                id="snappea.E010",
            )
        )
    return errors
