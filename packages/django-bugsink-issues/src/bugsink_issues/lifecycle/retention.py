"""Retention: a per-project cap on stored events and an optional maximum age.

Eviction runs inside the digest's transaction in bounded batches (BUGSINK_ISSUES_RETENTION_EVICT_BATCH
rows at most), oldest first, never touching pinned events (the first event of every issue and the
events that changed its state). Issue.event_count (seen) never changes; stored counts stay exact.

An evicted event's attachments go with it (a cascade), and so their bytes go back to the project's
attachment quota, which is the sum of its stored attachments (digest/attachments.AttachmentQuota);
`enforce_and_report` says how many attachments and bytes went, and evictions that freed some are
logged.
"""

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import Count, F, Sum
from django.utils import timezone

from bugsink_issues.conf import app_settings
from bugsink_issues.models import Event, EventAttachment, Issue, ProjectSettings

logger = logging.getLogger(__name__)


@dataclass
class Evicted:
    """What one enforcement removed: events, and the attachments (and their bytes) with them."""

    events: int = 0
    attachments: int = 0
    attachment_bytes: int = 0

    def add(self, other: "Evicted") -> None:
        self.events += other.events
        self.attachments += other.attachments
        self.attachment_bytes += other.attachment_bytes


def max_events(project_settings):
    return project_settings.retention_max_events or app_settings.RETENTION_MAX_EVENTS


def max_age_days(project_settings):
    return project_settings.retention_max_age_days or app_settings.RETENTION_MAX_AGE_DAYS


def enforce(project_settings, now=None):
    """Evict what is over the cap or too old, at most one bounded batch. Returns events evicted."""
    return enforce_and_report(project_settings, now).events


def enforce_and_report(project_settings, now=None) -> Evicted:
    """As enforce(), and what went: events, attachments, attachment bytes."""
    now = now or timezone.now()
    budget = app_settings.RETENTION_EVICT_BATCH
    evicted = Evicted()
    over = project_settings.stored_event_count - max_events(project_settings)
    if over > 0:
        evicted.add(_evict(project_settings, min(over, budget)))
    age = max_age_days(project_settings)
    last_sweep = project_settings.last_age_sweep_at
    sweep_every = timedelta(seconds=app_settings.RETENTION_AGE_SWEEP_SECONDS)
    if age and budget > evicted.events and (last_sweep is None or now - last_sweep >= sweep_every):
        limit = budget - evicted.events
        aged = _evict(project_settings, limit, older_than=now - timedelta(days=age))
        evicted.add(aged)
        if aged.events < limit:  # done for now; otherwise continue with the next batch
            project_settings.last_age_sweep_at = now
            ProjectSettings.objects.filter(pk=project_settings.pk).update(last_age_sweep_at=now)
    if evicted.attachments:
        logger.info(
            "retention: project %s: %d events evicted, with %d attachments (%d bytes, back to "
            "the attachment quota)",
            project_settings.project_id,
            evicted.events,
            evicted.attachments,
            evicted.attachment_bytes,
        )
    return evicted


def evictable(project_id, older_than=None):
    """The project's events retention may evict, in the order it evicts them: oldest stored first
    (over the cap) or oldest by timestamp (past the maximum age)."""
    # is_pinned IN (false), not is_pinned=False: Django writes that as NOT "is_pinned", which
    # SQLite cannot seek on, so it read every event of the project through the (project,
    # is_pinned, id) index and sorted them: 66 ms per digest batch at 480,000 events.
    events = Event.objects.filter(project_id=project_id, is_pinned__in=[False])
    if older_than is not None:
        # Walks the (project, timestamp) index: finding nothing old costs nothing.
        return events.filter(timestamp__lt=older_than).order_by("timestamp")
    return events.order_by("id")  # the (project, is_pinned, id) index: a seek, then in order


def _evict(project_settings, limit, older_than=None):
    events = evictable(project_settings.project_id, older_than)
    victims = list(events.values_list("id", "issue_id")[:limit])
    if not victims:
        return Evicted()
    ids = [pk for pk, _ in victims]
    # Counted before the cascade takes them (one indexed look over the victims' attachments).
    freed = EventAttachment.objects.filter(event_id__in=ids).aggregate(
        n=Count("pk"), size=Sum("size")
    )
    # only("id"): the cascade needs the ids, not the payloads.
    Event.objects.filter(id__in=ids).only("id").delete()
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
    return Evicted(len(victims), freed["n"] or 0, freed["size"] or 0)


def limits_of(project_settings):
    """(max stored events, max age in days or None) in force for a project."""
    return max_events(project_settings), max_age_days(project_settings)


def tightened(before, after):
    """Do the limits `after` keep less than the limits `before` (a lower cap, a shorter age)?"""
    (events_before, age_before), (events_after, age_after) = before, after
    shorter = age_after is not None and (age_before is None or age_after < age_before)
    return events_after < events_before or shorter
