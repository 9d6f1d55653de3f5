"""The deployment's own readiness checks (bugsink_ingest.health collects them from the apps;
urls.py mounts the views): the django-tasks-db and RQ workers, which no app of ours knows about.
The database check is bugsink_issues', the snappea foreman's is snappea's.
"""

from datetime import UTC

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


def rq_worker_readiness() -> dict:
    """RQ on Redis: at least one worker of the queue with a fresh heartbeat, a scheduler holding
    the queue's lock (it moves deferred tasks: the sweep, the drain's retries), no queued task
    waiting longer than BUGSINK_READY_MAX_TASK_WAIT and no deferred one overdue by as much."""
    import django_rq
    from rq.registry import ScheduledJobRegistry
    from rq.scheduler import RQScheduler

    from bugsink_site.rq_worker import Worker

    max_age = settings.SNAPPEA_READY_MAX_HEARTBEAT_AGE
    limit = settings.BUGSINK_READY_MAX_TASK_WAIT
    now = timezone.now()
    try:
        queue = django_rq.get_queue("default")
        redis = queue.connection
        heartbeats = [w.last_heartbeat for w in Worker.all(queue=queue) if w.last_heartbeat]
        backlog = queue.count
        oldest_id = next(iter(queue.get_job_ids(0, 0)), None)
        oldest = queue.fetch_job(oldest_id) if oldest_id else None
        scheduler_alive = bool(redis.exists(RQScheduler.get_locking_key(queue.name)))
        overdue = redis.zcount(ScheduledJobRegistry(queue=queue).key, 0, now.timestamp() - limit)
    except Exception as exc:  # Redis unreachable or unreadable: not ready, say why
        return {"ok": False, "backend": "rq", "error": f"Redis unreachable: {exc}"}
    ages = sorted((now - _aware(hb)).total_seconds() for hb in heartbeats)
    live = sum(1 for age in ages if age <= max_age)
    waited = None
    if oldest is not None and oldest.enqueued_at is not None:
        waited = (now - _aware(oldest.enqueued_at)).total_seconds()
    return {
        "ok": live > 0 and scheduler_alive and (waited is None or waited <= limit) and not overdue,
        "backend": "rq",
        "live_workers": live,
        "registered_workers": len(ages),
        "newest_heartbeat_seconds": ages[0] if ages else None,
        "max_heartbeat_age_seconds": max_age,
        "scheduler": scheduler_alive,
        "backlog": backlog,
        "oldest_waiting_seconds": waited,
        "overdue_deferred": overdue,
        "limit_seconds": limit,
    }


def _aware(moment):
    """RQ's timestamps are naive UTC in some versions."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
