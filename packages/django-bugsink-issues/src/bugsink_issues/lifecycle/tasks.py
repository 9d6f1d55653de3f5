"""The Django Tasks task of retention (any Tasks backend runs it), and when it is enqueued."""

from django.db import transaction

from bugsink_issues.compat import task
from bugsink_issues.lifecycle.retention import enforce, limits_of, tightened
from bugsink_issues.models import ProjectSettings


@task()
def enforce_retention(project_id: int):
    """Evict until a project is within its limits (e.g. after its cap was lowered): each digest
    batch evicts only a bounded number, so a project far over a new cap would take many batches."""
    total = 0
    for _ in range(1000):  # bounded: each round is one short transaction
        with transaction.atomic():
            row = ProjectSettings.objects.select_for_update().filter(project_id=project_id).first()
            if row is None:
                return total
            row.last_age_sweep_at = None
            evicted = enforce(row)
        total += evicted
        if not evicted:
            break
    return total


def enforce_retention_after_change(project_settings, limits_before):
    """Enqueue the catch-up, once the change commits, if it tightened the project's limits."""
    if tightened(limits_before, limits_of(project_settings)):
        project_id = project_settings.project_id
        transaction.on_commit(lambda: enforce_retention.enqueue(project_id))
