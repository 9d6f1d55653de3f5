from django.apps import AppConfig
from django.db.backends.signals import connection_created


class SnappeaConfig(AppConfig):
    name = "snappea"
    label = "snappea"
    verbose_name = "Snappea task queue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from snappea import checks  # noqa: F401  (registers the system checks)
        from snappea.conf import SnappeaConf  # noqa: F401  (puts the SNAPPEA_ defaults in place)
        from snappea.sqlite import tune_queue_connection

        connection_created.connect(tune_queue_connection, dispatch_uid="snappea-tune-connection")
