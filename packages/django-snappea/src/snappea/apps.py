from typing import ClassVar

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class SnappeaConfig(AppConfig):
    name = "snappea"
    label = "snappea"
    verbose_name = "Snappea task queue"
    default_auto_field = "django.db.models.BigAutoField"
    # Found by a readiness registry that collects checks from app configs: name -> dotted path of
    # a function returning {"ok": bool, ...}.
    readiness_checks: ClassVar[dict[str, str]] = {"worker": "snappea.health.foreman_readiness"}

    def ready(self) -> None:
        # checks: snappea's system checks; conf: the SNAPPEA_ defaults; compat: the Tasks API, whose
        # import registers the check that runs each backend's check() (on Django 6.x nothing else
        # may import django.tasks before `manage.py check` runs).
        from snappea import checks, compat, conf  # noqa: F401
        from snappea.sqlite import tune_queue_connection

        connection_created.connect(tune_queue_connection, dispatch_uid="snappea-tune-connection")
