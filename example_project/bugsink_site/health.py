"""The deployment's own readiness checks (bugsink_ingest.health collects them from the apps;
urls.py mounts the views): the django-tasks-db worker, which no app of ours knows about.
The database check is bugsink_issues', the snappea foreman's is snappea's.
"""

from django.conf import settings
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
