"""Keeps snappea's tables in the queue database, and everything else out of it."""

from django.conf import settings


def queue_alias() -> str:
    return getattr(settings, "SNAPPEA_DATABASE", "snappea")


class SnappeaRouter:
    def db_for_read(self, model, **hints):
        return queue_alias() if model._meta.app_label == "snappea" else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        # Rows in the queue database never point at rows elsewhere (no cross-file foreign keys).
        if (obj1._meta.app_label == "snappea") != (obj2._meta.app_label == "snappea"):
            return False
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == "snappea":
            return db == queue_alias()
        return False if db == queue_alias() else None
