"""System checks: settings that would make ingest fail at request time, or lose events silently."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.spool.base import SPOOL_METHODS

SIZE_LIMITS = (
    "MAX_COMPRESSED_BODY",
    "MAX_ENVELOPE_SIZE",
    "MAX_EVENT_SIZE",
    "MAX_ATTACHMENT_SIZE",
    "MAX_ENVELOPE_ITEMS_SIZE",
    "MAX_HEADER_LINE",
)


@register()
def check_ingest_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    problems: list[CheckMessage] = [*_spool_problems(), *_consumer_problems()]
    for name in SIZE_LIMITS:
        value = getattr(ingest_settings, name)
        if not isinstance(value, int) or value <= 0:
            problems.append(
                Error(
                    f"BUGSINK_INGEST_{name} must be a positive int of bytes.",
                    id="bugsink_ingest.E004",
                )
            )
    if ingest_settings.MAX_EVENT_SIZE > ingest_settings.MAX_ENVELOPE_SIZE:
        problems.append(
            Warning(
                "BUGSINK_INGEST_MAX_EVENT_SIZE exceeds MAX_ENVELOPE_SIZE.", id="bugsink_ingest.W002"
            )
        )
    if not getattr(settings, "TASKS", None):
        problems.append(
            Warning(
                "No TASKS setting: the spool is drained by Django's default tasks backend.",
                hint="Configure a Tasks backend that runs tasks (snappea, django-tasks-db, ...).",
                id="bugsink_ingest.W003",
            )
        )
    return problems


def _spool_problems() -> list[CheckMessage]:
    path = ingest_settings.SPOOL
    try:
        spool_class = import_string(path)
    except ImportError as e:
        return [
            Error(
                f"BUGSINK_INGEST_SPOOL {path!r} cannot be imported: {e}", id="bugsink_ingest.E001"
            )
        ]
    missing = [name for name in SPOOL_METHODS if not callable(getattr(spool_class, name, None))]
    if missing:
        return [
            Error(
                f"BUGSINK_INGEST_SPOOL {path!r} is not a spool: it lacks {', '.join(missing)}.",
                hint="A spool implements bugsink_ingest.spool.Spool.",
                id="bugsink_ingest.E001",
            )
        ]
    from bugsink_ingest.spool.database import DatabaseSpool
    from bugsink_ingest.spool.segments import SegmentSpool

    problems: list[CheckMessage] = []
    if (
        issubclass(spool_class, DatabaseSpool)
        and ingest_settings.SPOOL_DATABASE not in settings.DATABASES
    ):
        problems.append(
            Error(
                f"BUGSINK_INGEST_SPOOL_DATABASE {ingest_settings.SPOOL_DATABASE!r} is not in DATABASES.",
                id="bugsink_ingest.E002",
            )
        )
    if issubclass(spool_class, SegmentSpool) and not ingest_settings.SPOOL_DIR:
        problems.append(
            Error(
                "BUGSINK_INGEST_SPOOL_DIR is not set: the spool would have no place of this "
                "site's own to keep acknowledged events in.",
                hint="Set it to a directory of this site on a disk that survives a reboot, e.g. "
                "BUGSINK_INGEST_SPOOL_DIR = BASE_DIR / 'spool' (not the temp dir: other sites "
                "and temp cleaners share it).",
                id="bugsink_ingest.E005",
            )
        )
    from bugsink_ingest.tasks import sweep_unavailable_reason

    try:
        reason = sweep_unavailable_reason()
    except Exception:
        reason = None  # TASKS itself is wrong: Django's own tasks checks say so
    if reason:
        problems.append(
            Warning(
                f"No spool sweep: {reason}. Events whose drain was lost (its enqueue failed, its "
                "worker was killed) wait until the next event arrives.",
                hint="Use a Tasks backend that supports run_after (snappea, django-tasks-db), or "
                "set BUGSINK_INGEST_SWEEP_SECONDS = None and run `manage.py bugsink_drain_spool` "
                "from a timer.",
                id="bugsink_ingest.W005",
            )
        )
    return problems


def _consumer_problems() -> list[CheckMessage]:
    if ingest_settings.CONSUMER:
        try:
            import_string(ingest_settings.CONSUMER)
        except ImportError as e:
            return [
                Error(
                    f"BUGSINK_INGEST_CONSUMER cannot be imported: {e}",
                    hint="A dotted path to func(events) -> None.",
                    id="bugsink_ingest.E003",
                )
            ]
        return []
    from bugsink_ingest.handoff import get_consumer

    if get_consumer() is None:
        return [
            Warning(
                "No ingest consumer: accepted events stay in the spool.",
                hint="Install bugsink_issues, or set BUGSINK_INGEST_CONSUMER.",
                id="bugsink_ingest.W001",
            )
        ]
    return []


@register()
def check_quarantine(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """Events set aside by the drain wait for a person; say so wherever checks are shown."""
    from bugsink_ingest.spool import get_spool
    from bugsink_ingest.spool.database import DatabaseSpool

    try:
        spool = get_spool()
        if isinstance(spool, DatabaseSpool) and spool.alias not in (databases or ()):
            return []  # Django's rule: a check touches only the databases it was given
        count = spool.quarantined_count()
    except Exception:
        return []  # a spool that cannot be opened fails loudly at ingest; nothing to count here
    if not count:
        return []
    return [
        Warning(
            f"{count} events are quarantined in the ingest spool: the digest failed for each of "
            "them alone, again and again, while other events went through.",
            hint="Fix the cause (logged as an ERROR when each was set aside), then run "
            "`manage.py bugsink_drain_spool --retry-quarantined`.",
            id="bugsink_ingest.W004",
        )
    ]


@register()
def check_readiness_declarations(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Every app's readiness_checks must name unique checks that can be imported."""
    from django.core.exceptions import ImproperlyConfigured

    from bugsink_ingest.health import declared_checks

    try:
        declared = declared_checks()
    except ImproperlyConfigured as e:
        return [Error(str(e), id="bugsink_ingest.E006")]
    problems: list[CheckMessage] = []
    for name, (label, path) in declared.items():
        try:
            check = import_string(path)
        except ImportError as e:
            check, error = None, f"cannot be imported: {e}"
        else:
            error = "" if callable(check) else "is not callable"
        if error:
            problems.append(
                Error(
                    f"The readiness check {name!r} of {label!r} ({path}) {error}.",
                    hint="readiness_checks maps a name to the dotted path of a function of no "
                    "arguments that returns a dict with 'ok'.",
                    id="bugsink_ingest.E006",
                )
            )
    return problems
