"""The Django Tasks task of retention (any Tasks backend runs it)."""

from bugsink_issues.compat import task


@task()
def enforce_retention(project_id: int):
    """Evict until a project is within its limits (e.g. after its cap was lowered)."""
    from django.db import transaction

    from bugsink_issues.lifecycle.retention import enforce
    from bugsink_issues.models import ProjectSettings

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
