"""Django's database cache in its own SQLite file (the "cache" alias), when settings define one."""

from django.conf import settings

CACHE_ALIAS = "cache"
CACHE_APP_LABEL = "django_cache"  # the app label of DatabaseCache's table


def _cache_alias():
    return CACHE_ALIAS if CACHE_ALIAS in settings.DATABASES else None


class CacheRouter:
    def db_for_read(self, model, **hints):
        return _cache_alias() if model._meta.app_label == CACHE_APP_LABEL else None

    db_for_write = db_for_read

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        alias = _cache_alias()
        if alias is None:
            return None
        if app_label == CACHE_APP_LABEL:
            return db == alias
        return False if db == alias else None
