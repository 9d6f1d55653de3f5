"""Keeps snappea's tables in the queue database, and everything else out of it."""

from django.db.models import Model

from snappea.conf import queue_alias


def _is_snappea(model: type[Model] | Model) -> bool:
    return model._meta.app_label == "snappea"


class SnappeaRouter:
    def db_for_read(self, model: type[Model], **hints: object) -> str | None:
        return queue_alias() if _is_snappea(model) else None

    db_for_write = db_for_read

    def allow_relation(self, obj1: Model, obj2: Model, **hints: object) -> bool | None:
        # Rows in the queue database never point at rows elsewhere (no cross-file foreign keys).
        if _is_snappea(obj1) != _is_snappea(obj2):
            return False
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: object
    ) -> bool | None:
        if app_label == "snappea":
            return db == queue_alias()
        return False if db == queue_alias() else None
