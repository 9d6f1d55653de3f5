"""The readiness contribution: every configured database answers SELECT 1, or the first that
cannot is named; the check never raises."""

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.utils import ConnectionHandler, load_backend
from django.test import override_settings
from django.utils.module_loading import import_string

from bugsink_issues.health import database_readiness


@pytest.mark.django_db(databases="__all__")
def test_every_database_answers():
    assert set(settings.DATABASES) == {"default", "snappea"}
    assert database_readiness() == {"ok": True}


def test_the_app_config_names_the_check():
    config = apps.get_app_config("bugsink_issues")
    assert config.readiness_checks == {"database": "bugsink_issues.health.database_readiness"}
    assert import_string(config.readiness_checks["database"]) is database_readiness


@pytest.fixture
def unreachable_alias(tmp_path):
    """A configured database whose SQLite file lies in a directory that does not exist: in
    settings.DATABASES (overridden) and in `connections`, as a connection made for the test."""
    alias = "unreachable"
    sqlite = "django.db.backends.sqlite3"
    # configure_settings fills in every key a connection needs (it insists on a default too).
    configured = ConnectionHandler().configure_settings(
        {
            "default": {"ENGINE": sqlite, "NAME": ":memory:"},
            alias: {"ENGINE": sqlite, "NAME": str(tmp_path / "missing" / "db.sqlite3")},
        }
    )[alias]
    connections[alias] = load_backend(sqlite).DatabaseWrapper(configured, alias)
    try:
        yield alias, {**settings.DATABASES, alias: configured}
    finally:
        connections[alias].close()
        del connections[alias]


@pytest.mark.django_db(databases="__all__")
def test_an_unreachable_database_is_named_and_nothing_raises(unreachable_alias):
    alias, databases = unreachable_alias
    with pytest.warns(UserWarning, match="Overriding setting DATABASES"):
        with override_settings(DATABASES=databases):
            result = database_readiness()
    assert result == {"ok": False, "error": f"{alias}: unable to open database file"}
