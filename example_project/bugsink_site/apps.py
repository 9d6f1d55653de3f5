from django.apps import AppConfig


class BugsinkSiteConfig(AppConfig):
    """The reference deployment as an app: its `serve` command and its system checks."""

    name = "bugsink_site"
    label = "bugsink_site"
    verbose_name = "Bugsink reference deployment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from bugsink_site import checks  # noqa: F401  (registers the system checks)
