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
