"""Retention: a per-project cap on stored events and an optional maximum age.

Eviction runs inside the digest's transaction in bounded batches (BUGSINK_ISSUES_RETENTION_EVICT_BATCH
rows at most), oldest first, never touching pinned events (the first event of every issue and the
events that changed its state). Issue.event_count (seen) never changes; stored counts stay exact.
"""

from collections import Counter
from datetime import timedelta

from django.db import connection
from django.db.models import F
from django.utils import timezone

from bugsink_issues.conf import app_settings
from bugsink_issues.models import Event, Issue, ProjectSettings


def max_events(project_settings):
    return project_settings.retention_max_events or app_settings.RETENTION_MAX_EVENTS


def max_age_days(project_settings):
    return project_settings.retention_max_age_days or app_settings.RETENTION_MAX_AGE_DAYS


def enforce(project_settings, now=None):
    """Evict what is over the cap or too old, at most one bounded batch. Returns events evicted."""
    now = now or timezone.now()
    budget = app_settings.RETENTION_EVICT_BATCH
    evicted = 0
    over = project_settings.stored_event_count - max_events(project_settings)
    if over > 0:
        evicted += _evict(project_settings, min(over, budget))
    age = max_age_days(project_settings)
    last_sweep = project_settings.last_age_sweep_at
    sweep_every = timedelta(seconds=app_settings.RETENTION_AGE_SWEEP_SECONDS)
    if age and budget > evicted and (last_sweep is None or now - last_sweep >= sweep_every):
        limit = budget - evicted
        aged = _evict(project_settings, limit, older_than=now - timedelta(days=age))
        evicted += aged
        if aged < limit:  # done for now; otherwise continue with the next batch
            project_settings.last_age_sweep_at = now
            ProjectSettings.objects.filter(pk=project_settings.pk).update(last_age_sweep_at=now)
    return evicted


def _evict(project_settings, limit, older_than=None):
    events = Event.objects.filter(project_id=project_settings.project_id, is_pinned=False)
    if older_than is not None:
        # Walks the (project, timestamp) index: finding nothing old costs nothing.
        events = events.filter(timestamp__lt=older_than).order_by("timestamp")
    else:
        events = events.order_by("id")  # the (project, is_pinned, id) index: oldest stored first
    victims = list(events.values_list("id", "issue_id")[:limit])
    if not victims:
        return 0
    # only("id"): the cascade needs the ids, not the payloads.
    Event.objects.filter(id__in=[pk for pk, _ in victims]).only("id").delete()
    # One executemany, not an UPDATE query built per issue (up to a batch's worth of issues).
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {connection.ops.quote_name(Issue._meta.db_table)} "
            "SET stored_event_count = stored_event_count - %s "
            "WHERE id = %s",
            [(n, issue_id) for issue_id, n in Counter(i for _, i in victims).items()],
        )
    ProjectSettings.objects.filter(pk=project_settings.pk).update(
        stored_event_count=F("stored_event_count") - len(victims)
    )
    project_settings.stored_event_count -= len(victims)
    return len(victims)


def limits_of(project_settings):
    """(max stored events, max age in days or None) in force for a project."""
    return max_events(project_settings), max_age_days(project_settings)


def tightened(before, after):
    """Do the limits `after` keep less than the limits `before` (a lower cap, a shorter age)?"""
    (events_before, age_before), (events_after, age_after) = before, after
    shorter = age_after is not None and (age_before is None or age_after < age_before)
    return events_after < events_before or shorter
