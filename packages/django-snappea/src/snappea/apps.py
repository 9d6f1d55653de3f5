from django.apps import AppConfig


class SnappeaConfig(AppConfig):
    name = "snappea"
    label = "snappea"
    verbose_name = "Snappea task queue"
    default_auto_field = "django.db.models.BigAutoField"
