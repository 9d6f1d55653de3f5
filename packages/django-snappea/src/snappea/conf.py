"""snappea's settings: their defaults (here and nowhere else) and the one way to read them.

Every setting is SNAPPEA_<NAME> in the host project's settings; SnappeaConf (django-appconf) puts
the defaults below in place. Two kinds:

- queue-wide (SnappeaSettings): the queue database, the foreman, status and readiness;
- per backend (BackendSettings: RESULTS, ENQUEUE_ON_COMMIT, ON_COMMIT_DATABASE): a key of the same
  name in TASKS[alias]["OPTIONS"] wins over SNAPPEA_<NAME> for that backend, in the backend and in
  the foreman alike.

Reading a value checks its type (ImproperlyConfigured says what is wrong); the system checks
(checks.py) run the same readers and report every bad value at once.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

# django-appconf ships no type information.
from appconf import AppConf  # type: ignore[import-untyped]
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class SnappeaConf(AppConf):  # type: ignore[misc]  # AppConf is untyped (see its import)
    # The database alias holding the queue; it must be a SQLite database of its own.
    DATABASE = "snappea"
    # Keep a result row per finished task so that get_result() works. Off: finished tasks vanish.
    RESULTS = False
    # How long result rows and failed task rows are kept (seconds).
    KEEP_RESULTS_FOR = 24 * 3600
    KEEP_FAILED_FOR = 7 * 24 * 3600
    # Enqueue inside a transaction of ON_COMMIT_DATABASE only when it commits (dropped on rollback).
    ENQUEUE_ON_COMMIT = False
    ON_COMMIT_DATABASE = "default"
    # The foreman.
    WORKERS = 4
    BATCH_SIZE = 100
    GRACE_PERIOD = 30.0
    HEARTBEAT_INTERVAL = 2.0
    # The foreman watches the wake-up file with inotify (Linux); where inotify is unavailable, or
    # INOTIFY is False, it looks at the file's modification time every POLL_INTERVAL seconds.
    INOTIFY = True
    POLL_INTERVAL = 0.05
    # Retries of a failing task: how many, and the first delay (doubled at each further attempt).
    MAX_RETRIES = 0
    RETRY_BACKOFF = 10.0
    # Status: a heartbeat older than DEAD_AFTER means the foreman is gone (or hung);
    # a task running longer than STUCK_AFTER means it is stuck.
    DEAD_AFTER = 30.0
    STUCK_AFTER = 600.0
    # Readiness (health.foreman_readiness): not ready once the heartbeat is older than
    # READY_MAX_HEARTBEAT_AGE, or a due task has waited longer than READY_MAX_TASK_WAIT (seconds).
    READY_MAX_HEARTBEAT_AGE = 30.0
    READY_MAX_TASK_WAIT = 60.0

    class Meta:
        prefix = "SNAPPEA"


# -- kinds of value -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kind(Generic[T]):
    """What a setting must be: its check id, the requirement in words, and the conversion (None
    for a value that does not qualify)."""

    check_id: str
    requirement: str
    convert: Callable[[object], T | None]
    placeholder: T  # stands in for a bad value while the checks collect every problem

    def parse(self, label: str, value: object) -> T:
        converted = self.convert(value)
        if converted is None:
            raise ImproperlyConfigured(f"{label} must be {self.requirement}.")
        return converted


def _whole(value: object, least: int) -> int | None:
    # bool is an int to Python, not a count to a reader of settings.
    if isinstance(value, int) and not isinstance(value, bool) and value >= least:
        return value
    return None


def _seconds(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


COUNT = Kind("snappea.E006", "a whole number of at least 1", lambda v: _whole(v, 1), 1)
SECONDS = Kind("snappea.E007", "a number >= 0 (seconds)", _seconds, 0.0)
RETRIES = Kind("snappea.E008", "a whole number >= 0", lambda v: _whole(v, 0), 0)
FLAG = Kind("snappea.E013", "True or False", lambda v: v if isinstance(v, bool) else None, False)
ALIAS = Kind(
    "snappea.E014", "a database alias (a string)", lambda v: v if isinstance(v, str) else None, ""
)


@dataclass(frozen=True, slots=True)
class SettingProblem:
    check_id: str
    message: str


class _Read(Protocol):
    def __call__(self, name: str, kind: Kind[T]) -> T: ...


def _raw(name: str) -> object:
    # SnappeaConf put every default in place, so the attribute always exists.
    return getattr(settings, f"SNAPPEA_{name}")


class _Reader:
    """Reads OPTIONS[NAME] where the backend's OPTIONS has it, else SNAPPEA_<NAME>."""

    def __init__(self, options: Mapping[str, object] | None = None, alias: str = "") -> None:
        self.options = options or {}
        self.alias = alias

    def __call__(self, name: str, kind: Kind[T]) -> T:
        if name in self.options:
            return kind.parse(f"TASKS[{self.alias!r}]['OPTIONS'][{name!r}]", self.options[name])
        return kind.parse(f"SNAPPEA_{name}", _raw(name))


class _CollectingReader(_Reader):
    """Like _Reader, but notes each bad value and carries on, so that the system checks report
    every problem at once."""

    def __init__(self, options: Mapping[str, object] | None = None, alias: str = "") -> None:
        super().__init__(options, alias)
        self.problems: list[SettingProblem] = []

    def __call__(self, name: str, kind: Kind[T]) -> T:
        try:
            return super().__call__(name, kind)
        except ImproperlyConfigured as exc:
            self.problems.append(SettingProblem(kind.check_id, str(exc)))
            return kind.placeholder


# -- queue-wide settings --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnappeaSettings:
    database: str
    workers: int
    batch_size: int
    grace_period: float
    heartbeat_interval: float
    inotify: bool
    poll_interval: float
    max_retries: int
    retry_backoff: float
    keep_failed_for: float
    keep_results_for: float
    dead_after: float
    stuck_after: float
    ready_max_heartbeat_age: float
    ready_max_task_wait: float

    @classmethod
    def read(cls, read: _Read) -> "SnappeaSettings":
        return cls(
            database=read("DATABASE", ALIAS),
            workers=read("WORKERS", COUNT),
            batch_size=read("BATCH_SIZE", COUNT),
            grace_period=read("GRACE_PERIOD", SECONDS),
            heartbeat_interval=read("HEARTBEAT_INTERVAL", SECONDS),
            inotify=read("INOTIFY", FLAG),
            poll_interval=read("POLL_INTERVAL", SECONDS),
            max_retries=read("MAX_RETRIES", RETRIES),
            retry_backoff=read("RETRY_BACKOFF", SECONDS),
            keep_failed_for=read("KEEP_FAILED_FOR", SECONDS),
            keep_results_for=read("KEEP_RESULTS_FOR", SECONDS),
            dead_after=read("DEAD_AFTER", SECONDS),
            stuck_after=read("STUCK_AFTER", SECONDS),
            ready_max_heartbeat_age=read("READY_MAX_HEARTBEAT_AGE", SECONDS),
            ready_max_task_wait=read("READY_MAX_TASK_WAIT", SECONDS),
        )


def snappea_settings() -> SnappeaSettings:
    """The queue-wide settings as they are now (read afresh: override_settings works)."""
    return SnappeaSettings.read(_Reader())


def queue_alias() -> str:
    """SNAPPEA_DATABASE alone: it is read on every query routed to the queue."""
    return ALIAS.parse("SNAPPEA_DATABASE", _raw("DATABASE"))


# -- per-backend settings -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackendSettings:
    results: bool
    enqueue_on_commit: bool
    on_commit_database: str

    @classmethod
    def read(cls, read: _Read) -> "BackendSettings":
        return cls(
            results=read("RESULTS", FLAG),
            enqueue_on_commit=read("ENQUEUE_ON_COMMIT", FLAG),
            on_commit_database=read("ON_COMMIT_DATABASE", ALIAS),
        )


# The OPTIONS keys a snappea backend reads (Django Tasks' own QUEUES is not one: it sits beside).
BACKEND_OPTIONS = frozenset({"RESULTS", "ENQUEUE_ON_COMMIT", "ON_COMMIT_DATABASE"})


def backend_settings(
    alias: str, options: Mapping[str, object]
) -> tuple[BackendSettings, list[SettingProblem]]:
    """A backend's settings (its OPTIONS where they say, the SNAPPEA_ settings elsewhere) and the
    problems found in them: the backend reports those at `manage.py check` and refuses to enqueue
    until they are fixed, rather than fail while Django builds it."""
    reader = _CollectingReader(options, alias)
    return BackendSettings.read(reader), reader.problems


def backend_settings_for(alias: str) -> BackendSettings:
    """The settings of the backend TASKS[alias], as the foreman sees a task's backend."""
    return BackendSettings.read(_Reader(tasks_options(alias), alias))


def tasks_options(alias: str) -> Mapping[str, object]:
    tasks: Mapping[str, Mapping[str, object]] = getattr(settings, "TASKS", {})
    options = tasks.get(alias, {}).get("OPTIONS", {})
    return options if isinstance(options, Mapping) else {}


def settings_problems() -> list[SettingProblem]:
    """Every queue-wide setting that has a value of the wrong kind (for the system checks)."""
    reader = _CollectingReader()
    SnappeaSettings.read(reader)
    return reader.problems
