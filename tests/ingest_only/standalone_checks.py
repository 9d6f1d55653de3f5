"""Run only by test_standalone.py, in a subprocess with DJANGO_SETTINGS_MODULE pointing at
tests.ingest_only.settings (its name keeps the main run from collecting it)."""

import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

from tests.ingest_only.consumer import KEPT


def test_settings_are_the_ingest_only_ones():
    assert settings.ROOT_URLCONF == "tests.ingest_only.urls"
    assert "bugsink_issues" not in settings.INSTALLED_APPS
    assert "snappea" not in settings.INSTALLED_APPS


@pytest.mark.django_db
def test_create_project_ingest_and_hand_off_alone():
    out = StringIO()
    call_command("bugsink_create_project", "Standalone", stdout=out)
    dsn = out.getvalue().strip().splitlines()[-1]
    assert dsn.startswith("https://") and "@errors.example.org/errors/" in dsn
    key, project_id = dsn.split("//")[1].split("@")[0], dsn.rsplit("/", 1)[1]
    body = b'{"event_id":"%s"}\n{"type":"event"}\n{"message":"standalone"}\n' % (b"a" * 32)
    response = Client().post(
        f"/errors/api/{project_id}/envelope/?sentry_key={key}", body, content_type="text/plain"
    )
    assert response.status_code == 200, response.content
    assert [(e.event_id, e.payload) for e in KEPT] == [("a" * 32, b'{"message":"standalone"}')]
    assert "snappea" not in sys.modules and "bugsink_issues" not in sys.modules


def test_checks_pass_and_warn_without_a_consumer():
    call_command("check", "--fail-level", "WARNING")
    from bugsink_ingest.checks import check_ingest_settings

    with override_settings(BUGSINK_INGEST_CONSUMER=None):
        assert "bugsink_ingest.W001" in [c.id for c in check_ingest_settings()]
