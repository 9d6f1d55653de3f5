"""Keeps snappea's tables in the queue database, and everything else out of it."""

SNAPPEA_DB_ALIAS = "snappea"


class SnappeaRouter:
    def db_for_read(self, model, **hints):
        return SNAPPEA_DB_ALIAS if model._meta.app_label == "snappea" else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == "snappea":
            return db == SNAPPEA_DB_ALIAS
        return False if db == SNAPPEA_DB_ALIAS else None
