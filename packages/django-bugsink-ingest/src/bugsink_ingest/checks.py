"""System checks: settings that would make ingest fail at request time, or lose events silently."""

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils.module_loading import import_string


@register()
def check_ingest_settings(app_configs=None, **kwargs):
    problems = []
    spool_path = settings.BUGSINK_INGEST_SPOOL
    try:
        import_string(spool_path)
    except ImportError as e:
        problems.append(
            Error(
                f"BUGSINK_INGEST_SPOOL {spool_path!r} cannot be imported: {e}",
                id="bugsink_ingest.E001",
            )
        )
    if (
        spool_path.endswith("DatabaseSpool")
        and settings.BUGSINK_INGEST_SPOOL_DATABASE not in settings.DATABASES
    ):
        problems.append(
            Error(
                f"BUGSINK_INGEST_SPOOL_DATABASE {settings.BUGSINK_INGEST_SPOOL_DATABASE!r} is not in DATABASES.",
                id="bugsink_ingest.E002",
            )
        )
    if settings.BUGSINK_INGEST_CONSUMER:
        try:
            import_string(settings.BUGSINK_INGEST_CONSUMER)
        except ImportError as e:
            problems.append(
                Error(
                    f"BUGSINK_INGEST_CONSUMER cannot be imported: {e}",
                    hint="A dotted path to func(events) -> None.",
                    id="bugsink_ingest.E003",
                )
            )
    else:
        from bugsink_ingest.handoff import get_consumer

        if get_consumer() is None:
            problems.append(
                Warning(
                    "No ingest consumer: accepted events stay in the spool.",
                    hint="Install bugsink_issues, or set BUGSINK_INGEST_CONSUMER.",
                    id="bugsink_ingest.W001",
                )
            )
    for name in (
        "MAX_COMPRESSED_BODY",
        "MAX_ENVELOPE_SIZE",
        "MAX_EVENT_SIZE",
        "MAX_ATTACHMENT_SIZE",
        "MAX_HEADER_LINE",
    ):
        value = getattr(settings, f"BUGSINK_INGEST_{name}")
        if not isinstance(value, int) or value <= 0:
            problems.append(
                Error(
                    f"BUGSINK_INGEST_{name} must be a positive int of bytes.",
                    id="bugsink_ingest.E004",
                )
            )
    if settings.BUGSINK_INGEST_MAX_EVENT_SIZE > settings.BUGSINK_INGEST_MAX_ENVELOPE_SIZE:
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


@register()
def check_quarantine(app_configs=None, databases=None, **kwargs):
    """Events set aside by the drain wait for a person; say so wherever checks are shown."""
    from bugsink_ingest.spool import get_spool
    from bugsink_ingest.spool_database import DatabaseSpool

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
