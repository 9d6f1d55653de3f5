"""The readiness registry: checks collected from every app's AppConfig, run, and answered."""

import logging

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, modify_settings, override_settings

from bugsink_ingest import health, spool
from harness.compat import TASKS_APPS
from tests.ingest.readiness_app.apps import STATE
from tests.ingest.test_spool import make_event

APP = "tests.ingest.readiness_app"
# Ingest and the tiny app alone: what other apps declare is theirs to test.
APPS = ["django.contrib.contenttypes", "django.contrib.auth", *TASKS_APPS, "bugsink_ingest", APP]


@pytest.fixture
def site(tmp_path):
    """A site with ingest and a tiny app of its own that declares two readiness checks."""
    STATE.update(queue_ok=True, broker_down=True)
    with override_settings(
        INSTALLED_APPS=APPS,
        ROOT_URLCONF="tests.ingest.health_site_urls",
        BUGSINK_INGEST_SPOOL_DIR=tmp_path / "spool",
    ):
        health.readiness_checks.cache_clear()
        spool._spool_for.cache_clear()
        yield Client()
    health.readiness_checks.cache_clear()
    spool._spool_for.cache_clear()


def test_ready_collects_every_apps_checks_and_a_raising_one_is_not_ready(site):
    response = site.get("/ops/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"] == {
        "spool": {"ok": True, "backlog": 0, "limit": 100_000, "quarantined": 0},
        "queue": {"ok": True, "depth": 3},
        "broker": {"ok": False, "error": "ConnectionError: broker unreachable"},
    }
    STATE["broker_down"] = False
    response = site.get("/ops/health/ready")
    assert (response.status_code, response.json()["status"]) == (200, "ready")
    STATE["queue_ok"] = False
    assert site.get("/ops/health/ready").status_code == 503


def test_live_and_ready_are_get_only_and_never_cached(site):
    live = site.get("/ops/health/live")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert "no-cache" in live["Cache-Control"] and "max-age=0" in live["Cache-Control"]
    assert "no-cache" in site.get("/ops/health/ready")["Cache-Control"]
    assert site.post("/ops/health/ready").status_code == 405
    assert site.post("/ops/health/live").status_code == 405


def test_the_spool_check_holds_the_backlog_against_readiness_not_the_quarantine(site):
    STATE["broker_down"] = False
    s = spool.get_spool()
    for i in range(3):
        s.write(make_event(i))
    (first, *_) = s.claim(1)
    s.quarantine(first.spool_id, "RuntimeError: digest bug")
    with override_settings(BUGSINK_INGEST_READY_MAX_BACKLOG=3):
        ok = site.get("/ops/health/ready").json()["checks"]["spool"]
        assert ok == {"ok": True, "backlog": 2, "limit": 3, "quarantined": 1}
    with override_settings(BUGSINK_INGEST_READY_MAX_BACKLOG=2):
        response = site.get("/ops/health/ready")
        assert response.status_code == 503
        assert response.json()["checks"]["spool"]["ok"] is False
    # Unset, the limit is where ingest starts refusing events.
    with override_settings(BUGSINK_INGEST_READY_MAX_BACKLOG=None, BUGSINK_INGEST_MAX_BACKLOG=2):
        assert site.get("/ops/health/ready").json()["checks"]["spool"]["limit"] == 2


def test_a_check_name_declared_twice_or_not_importable_is_a_system_check_error(site):
    with modify_settings(INSTALLED_APPS={"append": f"{APP}.clash.apps.ClashConfig"}):
        errors = [m for m in run_checks() if m.id == "bugsink_ingest.E006"]
        assert len(errors) == 1 and "'spool'" in errors[0].msg
        health.readiness_checks.cache_clear()
        with pytest.raises(ImproperlyConfigured, match="declared by both"):
            health.readiness_checks()
    health.readiness_checks.cache_clear()
    with modify_settings(INSTALLED_APPS={"append": f"{APP}.clash.apps.MissingConfig"}):
        errors = [m for m in run_checks() if m.id == "bugsink_ingest.E006"]
        assert len(errors) == 1 and "no_such_check" in errors[0].msg
        health.readiness_checks.cache_clear()
        result = health.run_readiness_checks()["missing"]
        assert result["ok"] is False and "no_such_check" in result["error"]
    health.readiness_checks.cache_clear()


def test_django_request_records_about_the_health_views_are_filtered(site, caplog):
    handler_filter = health.SkipHealthChecks()
    with caplog.at_level(logging.WARNING, logger="django.request"):
        site.get("/ops/health/ready")  # 503: django.request logs it
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert handler_filter.filter(record) is False
    other = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "x", (), None)
    assert handler_filter.filter(other) is True
