"""Health endpoints for a load balancer, a container runtime or a systemd watchdog.

/health/live: the web process answers (no I/O). /health/ready: the databases answer, the worker's
heartbeat is fresh and the spool backlog is under its limit (events quarantined in the spool
are counted, not held against readiness); 200 when all hold, 503 otherwise, with
the figures as JSON either way.
"""

import logging

from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    checks = {
        "database": database_check(),
        "worker": worker_check(),
        "spool": spool_check(),
    }
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ready" if ok else "not ready", "checks": checks}, status=200 if ok else 503
    )


class SkipHealthChecks(logging.Filter):
    """Drops django.request's records about health endpoints (a 503 there is expected)."""

    def filter(self, record):
        request = getattr(record, "request", None)
        return not (request is not None and request.path_info.startswith("/health/"))


def database_check() -> dict:
    result = {"ok": True}
    for alias in settings.DATABASES:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as exc:  # any failure to answer means "not ready", with the reason
            result = {"ok": False, "error": f"{alias}: {exc}"}
            break
    return result


def worker_check() -> dict:
    if settings.TASKS_BACKEND_NAME == "db":
        return db_worker_check()
    if settings.TASKS_BACKEND_NAME != "snappea":
        return {"ok": True, "backend": settings.TASKS_BACKEND_NAME, "monitored": False}
    from snappea.status import foreman_status

    status = foreman_status()
    age = status.get("heartbeat_age_seconds")
    fresh = age is not None and age <= settings.BUGSINK_READY_MAX_HEARTBEAT_AGE
    return {
        "ok": status["state"] in ("running", "idle") and fresh,
        "state": status["state"],
        "heartbeat_age_seconds": age,
        "backlog": status.get("backlog"),
        "oldest_waiting_seconds": status.get("oldest_waiting_seconds"),
        "failed": status.get("failed"),
    }


def spool_check() -> dict:
    limit = settings.BUGSINK_READY_MAX_BACKLOG
    try:
        from bugsink_ingest.spool import get_spool

        spool = get_spool()
        backlog = spool.backlog_size()
        quarantined = spool.quarantined_count()
    except Exception as exc:  # the spool cannot be read: not ready, say why
        logger.warning("health: spool unreadable: %s", exc)
        return {"ok": False, "error": f"spool unreadable: {exc}", "limit": limit}
    # Quarantined events wait for a person, not for this node: shown, but the node stays ready.
    return {"ok": backlog < limit, "backlog": backlog, "limit": limit, "quarantined": quarantined}


def db_worker_check() -> dict:
    """django-tasks-db has no heartbeat: a due task waiting too long means its worker is not working."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    limit = settings.BUGSINK_READY_MAX_TASK_WAIT
    try:
        due = DBTaskResult.objects.ready()
        backlog = due.count()
        oldest = due.order_by("enqueued_at").values_list("enqueued_at", "run_after").first()
    except Exception as exc:  # the table cannot be read: not ready, say why
        return {"ok": False, "backend": "db", "error": f"task table unreadable: {exc}"}
    waited = None
    if oldest:
        enqueued_at, run_after = oldest
        since = (
            max(enqueued_at, run_after)
            if run_after and run_after <= timezone.now()
            else enqueued_at
        )
        waited = (timezone.now() - since).total_seconds()
    return {
        "ok": waited is None or waited <= limit,
        "backend": "db",
        "backlog": backlog,
        "oldest_waiting_seconds": waited,
        "limit_seconds": limit,
    }
