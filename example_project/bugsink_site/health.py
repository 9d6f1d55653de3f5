"""The deployment's own readiness checks (bugsink_ingest.health collects them from the apps;
urls.py mounts the views): the django-tasks-db worker, which no app of ours knows about.

INTERIM, until the merge: the database and snappea foreman checks, which bugsink_issues and
snappea declare on their own AppConfigs from then on (apps.py adds these only while no other app
declares the name).
"""

from django.conf import settings
from django.db import connections
from django.utils import timezone


def db_worker_readiness() -> dict:
    """django-tasks-db has no heartbeat: a due task waiting too long means its worker is not working."""
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


def no_worker_readiness() -> dict:
    """BUGSINK_TASKS_BACKEND=immediate: tasks run inside the request, no worker to watch."""
    return {"ok": True, "backend": "immediate", "monitored": False}


def database_readiness() -> dict:
    """INTERIM (bugsink_issues.health.database_readiness after the merge)."""
    for alias in settings.DATABASES:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as exc:  # any failure to answer means "not ready", with the reason
            return {"ok": False, "error": f"{alias}: {exc}"}
    return {"ok": True}


def snappea_readiness() -> dict:
    """INTERIM (snappea.health.foreman_readiness after the merge)."""
    from snappea.status import foreman_status

    status = foreman_status()
    age = status.get("heartbeat_age_seconds")
    fresh = age is not None and age <= settings.SNAPPEA_READY_MAX_HEARTBEAT_AGE
    return {
        "ok": status["state"] in ("running", "idle") and fresh,
        "state": status["state"],
        "heartbeat_age_seconds": age,
        "backlog": status.get("backlog"),
        "oldest_waiting_seconds": status.get("oldest_waiting_seconds"),
        "failed": status.get("failed"),
    }
