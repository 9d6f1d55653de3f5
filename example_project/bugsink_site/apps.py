from django.apps import AppConfig, apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_migrate, post_save


class BugsinkSiteConfig(AppConfig):
    """The reference deployment as an app: its `serve` command, its system checks, its own
    readiness checks (see bugsink_ingest.health) and the glue of its account system."""

    name = "bugsink_site"
    label = "bugsink_site"
    verbose_name = "Bugsink reference deployment"
    default_auto_field = "django.db.models.BigAutoField"

    @property
    def readiness_checks(self) -> dict[str, str]:
        checks = {}
        if settings.TASKS_BACKEND_NAME == "db":
            checks["worker"] = "bugsink_site.health.db_worker_readiness"
        elif settings.TASKS_BACKEND_NAME == "rq":
            checks["worker"] = "bugsink_site.health.rq_worker_readiness"
        elif settings.TASKS_BACKEND_NAME == "immediate":
            checks["worker"] = "bugsink_site.health.no_worker_readiness"
        return checks

    def ready(self):
        if not settings.MFA_WEBAUTHN:
            from bugsink_site.accounts.lazy import defer_webauthn

            defer_webauthn()
        from allauth.account.signals import user_logged_in, user_signed_up

        from bugsink_site import checks  # noqa: F401  (registers the system checks)
        from bugsink_site.accounts import emails, signals

        user_signed_up.connect(signals.join_invited_team, dispatch_uid="bugsink_site_invited")
        post_save.connect(
            emails.on_user_saved, sender=get_user_model(), dispatch_uid="bugsink_site_user_email"
        )
        if apps.is_installed("allauth.socialaccount"):
            from bugsink_site.accounts import sso

            user_logged_in.connect(sso.join_teams_of_domain, dispatch_uid="bugsink_site_domain")
        # The cache (rate limits, used TOTP codes) lives in a table of its own: made by migrate.
        post_migrate.connect(
            create_cache_table, sender=apps.get_app_config("account"), dispatch_uid="bugsink_cache"
        )


def create_cache_table(sender, verbosity=1, **kwargs):
    """After any migrate: the cache table in whichever database the routers put it (a migrate of
    the main database alone must not leave logins failing on a missing table)."""
    from django.core.management import call_command

    for alias in settings.DATABASES:
        call_command("createcachetable", database=alias, verbosity=max(verbosity - 1, 0))
