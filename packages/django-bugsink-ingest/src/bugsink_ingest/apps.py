from django.apps import AppConfig


class BugsinkIngestConfig(AppConfig):
    name = "bugsink_ingest"
    label = "bugsink_ingest"
    verbose_name = "Bugsink ingest"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from bugsink_ingest import checks, conf  # noqa: F401  (settings defaults, register checks)
