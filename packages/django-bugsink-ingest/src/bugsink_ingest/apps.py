from typing import ClassVar

from django.apps import AppConfig


class BugsinkIngestConfig(AppConfig):
    name = "bugsink_ingest"
    label = "bugsink_ingest"
    verbose_name = "Bugsink ingest"
    default_auto_field = "django.db.models.BigAutoField"
    # Collected by bugsink_ingest.health from every app that declares some.
    readiness_checks: ClassVar[dict[str, str]] = {"spool": "bugsink_ingest.health.spool_readiness"}

    def ready(self) -> None:
        from bugsink_ingest import checks, conf  # noqa: F401  (settings defaults, register checks)
