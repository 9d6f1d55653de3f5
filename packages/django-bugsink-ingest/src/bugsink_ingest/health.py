"""Liveness and readiness of a site, for a load balancer, a container runtime or a watchdog.

Each installed app contributes readiness checks by declaring them on its AppConfig:

    class MyAppConfig(AppConfig):
        readiness_checks = {"queue": "myapp.health.queue_readiness"}

A check is a zero-argument callable returning a dict with at least "ok": bool, plus whatever
figures explain it. The registry collects the declarations of every installed app once per
process (a name declared twice is an error); a check that raises counts as
`{"ok": False, "error": "..."}`. Mount the views with

    path("health/", include("bugsink_ingest.health_urls"))

`GET health/live`: 200 {"status": "ok"} while the process answers (no I/O). `GET health/ready`:
{"status": "ready" | "not ready", "checks": {name: result}}, 200 when every check is ok, else
503. Never cached, GET only. `SkipHealthChecks` keeps django.request from logging (and an error
reporter from sending) the 503s, which are answers, not errors.
"""

import logging
from collections.abc import Callable, Mapping
from functools import lru_cache

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bugsink_ingest.conf import ingest_settings

logger = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Mapping[str, object]]


def declared_checks() -> dict[str, tuple[str, str]]:
    """name -> (app label, dotted path), from every installed app's `readiness_checks`."""
    declared: dict[str, tuple[str, str]] = {}
    for config in apps.get_app_configs():
        for name, path in (getattr(config, "readiness_checks", None) or {}).items():
            if name in declared:
                raise ImproperlyConfigured(
                    f"The readiness check {name!r} is declared by both {declared[name][0]!r} "
                    f"and {config.label!r}: names must be unique."
                )
            declared[name] = (config.label, path)
    return declared


def _unavailable(error: Exception) -> ReadinessCheck:
    def check() -> Mapping[str, object]:
        raise error

    return check


@lru_cache(maxsize=1)
def readiness_checks() -> dict[str, ReadinessCheck]:
    """The declared checks, imported (once per process; cache_clear() after changing apps)."""
    checks: dict[str, ReadinessCheck] = {}
    for name, (_, path) in declared_checks().items():
        try:
            checks[name] = import_string(path)
        except ImportError as e:  # reported by the check, and by system check bugsink_ingest.E006
            checks[name] = _unavailable(e)
    return checks


def run_readiness_checks() -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {}
    for name, check in readiness_checks().items():
        try:
            result = dict(check())
            if not isinstance(result.get("ok"), bool):
                raise TypeError(f"returned no 'ok': bool ({result!r})")
        except Exception as e:  # not ready, and why
            logger.warning("readiness check %s failed: %s", name, e)
            result = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        results[name] = result
    return results


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    checks = run_readiness_checks()
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ready" if ok else "not ready", "checks": checks}, status=200 if ok else 503
    )


class SkipHealthChecks(logging.Filter):
    """Drops log records about requests to these views (LOGGING filter for django.request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        match = getattr(getattr(record, "request", None), "resolver_match", None)
        return getattr(match, "func", None) not in (live, ready)


def spool_readiness() -> dict[str, object]:
    """Ingest's check: the backlog under BUGSINK_INGEST_READY_MAX_BACKLOG (default MAX_BACKLOG).
    Quarantined events wait for a person, not for this node: counted, not held against it."""
    limit = ingest_settings.READY_MAX_BACKLOG or ingest_settings.MAX_BACKLOG
    try:
        from bugsink_ingest.spool import get_spool

        spool = get_spool()
        backlog = spool.backlog_size()
        quarantined = spool.quarantined_count()
    except Exception as e:  # the spool cannot be read: not ready, say why
        logger.warning("health: spool unreadable: %s", e)
        return {"ok": False, "error": f"spool unreadable: {e}", "limit": limit}
    ok = limit is None or backlog < limit
    return {"ok": ok, "backlog": backlog, "limit": limit, "quarantined": quarantined}
