from django.apps import AppConfig
from django.conf import settings


class BugsinkSiteConfig(AppConfig):
    """The reference deployment as an app: its `serve` command, its system checks, and its own
    readiness checks (see bugsink_ingest.health)."""

    name = "bugsink_site"
    label = "bugsink_site"
    verbose_name = "Bugsink reference deployment"
    default_auto_field = "django.db.models.BigAutoField"

    @property
    def readiness_checks(self) -> dict[str, str]:
        checks = {}
        if settings.TASKS_BACKEND_NAME == "db":
            checks["worker"] = "bugsink_site.health.db_worker_readiness"
        elif settings.TASKS_BACKEND_NAME == "immediate":
            checks["worker"] = "bugsink_site.health.no_worker_readiness"
        return checks

    def ready(self):
        from bugsink_site import checks  # noqa: F401  (registers the system checks)
