from importlib.util import find_spec

from django.apps import AppConfig


class BugsinkIssuesConfig(AppConfig):
    name = "bugsink_issues"
    label = "bugsink_issues"
    verbose_name = "Bugsink issues"
    default_auto_field = "django.db.models.BigAutoField"
    # Read by bugsink_ingest's readiness registry: name -> dotted path of a check returning
    # {"ok": bool, ...} (see health.py).
    readiness_checks = {"database": "bugsink_issues.health.database_readiness"}

    def ready(self):
        from bugsink_issues import checks  # noqa: F401  (registers the checks)
        from bugsink_issues.alerts import receivers  # noqa: F401  (connects them)
        from bugsink_issues.digest import digest_batch

        # The hand-off module may be absent in an ingest version without it; checks.py says so.
        if find_spec("bugsink_ingest.handoff") is not None:
            from bugsink_ingest.handoff import register_consumer
            from bugsink_issues.digest.health import HEALTH_KINDS

            register_consumer(digest_batch, wants_attachments=True, kinds=HEALTH_KINDS)
