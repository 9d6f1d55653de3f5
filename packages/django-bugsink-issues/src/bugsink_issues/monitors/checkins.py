"""Check-ins into monitors: `record_check_ins(project_id, spooled)`, called by the digest inside
its transaction with the batch's `check_in` items of one project.

A check-in names its monitor by `monitor_slug`; one that carries a `monitor_config` creates the
monitor or updates its schedule (an upsert, as the SDKs' `monitor` decorator and `sentry-cli
monitors run` send it on every run); one without creates a monitor with no schedule (shown, but
never missed). A run is two check-ins with one `check_in_id` (in_progress, then ok or error), or
one alone. Redelivery is harmless: a check-in id is stored once per monitor, and a finished
check-in is never reopened by its in_progress coming again.
"""

import logging
import uuid
from datetime import datetime
from typing import Any

import orjson
from django.db import connections, router
from django.db.models import Q

from bugsink_issues.conf import app_settings
from bugsink_issues.digest.bulk_insert import insert_returning_pks, update_by_pk
from bugsink_issues.models.monitors import CheckIn, CheckInStatus, Monitor, MonitorStatus
from bugsink_issues.monitors.schedule import InvalidConfig, parse_config, schedule_of
from bugsink_issues.monitors.transitions import Transition, announce

logger = logging.getLogger(__name__)
SENT_STATUSES = {CheckInStatus.IN_PROGRESS, CheckInStatus.OK, CheckInStatus.ERROR}
FINISHED = {CheckInStatus.OK, CheckInStatus.ERROR, CheckInStatus.TIMEOUT}


def _parsed(spooled) -> dict[str, Any] | None:
    try:
        body = orjson.loads(spooled.payload)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        logger.warning("check-in %s is not a JSON object; dropped", spooled.event_id)
        return None
    slug, status = body.get("monitor_slug"), body.get("status")
    if not isinstance(slug, str) or not slug.strip() or len(slug) > 128:
        logger.warning("check-in %s names no usable monitor_slug; dropped", spooled.event_id)
        return None
    if status not in SENT_STATUSES:
        logger.warning("check-in %s has status %r; dropped", spooled.event_id, status)
        return None
    return body


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def record_check_ins(project_id: int, spooled: list) -> list[Transition]:
    """Store the check-ins (oldest first); returns the monitors' transitions (alerted on commit)."""
    transitions: list[Transition] = []
    parsed = [(item, body) for item in spooled if (body := _parsed(item)) is not None]
    # The batch's monitors and its check-ins stored before, each in one look, not one per item.
    touched: dict[str, Monitor] = {
        m.slug: m
        for m in Monitor.objects.select_for_update().filter(
            project_id=project_id, slug__in={body["monitor_slug"].strip() for _, body in parsed}
        )
    }
    known: dict[tuple[int, str], CheckIn] = {
        (c.monitor_id, c.check_in_id): c
        for c in CheckIn.objects.filter(
            monitor__in=list(touched.values()),
            check_in_id__in={_check_in_id(body) for _, body in parsed} - {""},
        )
    }
    for item, body in parsed:
        monitor = _upsert_monitor(project_id, body, touched)
        transition = _record(monitor, body, item.received_at, known)
        if transition:
            transitions.append(transition)
    # Once per batch, not per check-in: the new check-ins in one insert, the monitors in one
    # update, and trimming only for the monitors past their cap (one count for all).
    insert_returning_pks([c for c in known.values() if c.pk is None])
    update_by_pk(list(touched.values()), ["status", "last_checkin_at", "next_expected_at"])
    trim_over_cap(list(touched.values()))
    announce(transitions)
    return transitions


def _upsert_monitor(project_id: int, body: dict[str, Any], known: dict[str, Monitor]) -> Monitor:
    slug = body["monitor_slug"].strip()
    fields: dict[str, Any] = {}
    if "monitor_config" in body:
        try:
            fields = parse_config(body["monitor_config"])
        except InvalidConfig as exc:
            logger.warning(
                "monitor %r of project %s: %s; schedule unchanged", slug, project_id, exc
            )
    monitor = known.get(slug)
    created = False
    if monitor is None:
        monitor, created = Monitor.objects.select_for_update().get_or_create(
            project_id=project_id, slug=slug, defaults=fields
        )
        known[slug] = monitor
    if not created and fields:
        changed = [name for name, value in fields.items() if getattr(monitor, name) != value]
        for name in changed:
            setattr(monitor, name, fields[name])
        if changed:
            monitor.save(update_fields=changed)
    return monitor


def _check_in_id(body: dict[str, Any]) -> str:
    return (_text(body.get("check_in_id"), 64).replace("-", "").lower() or "")[:32]


def _record(
    monitor: Monitor,
    body: dict[str, Any],
    received_at: datetime,
    known: dict[tuple[int, str], CheckIn],
) -> Transition | None:
    """`known`: the batch's check-ins so far (stored, or new in this batch and not inserted yet),
    by (monitor id, check-in id)."""
    status = body["status"]
    check_in_id = _check_in_id(body) or uuid.uuid4().hex
    duration = body.get("duration")
    if not isinstance(duration, (int, float)) or isinstance(duration, bool) or duration < 0:
        duration = None
    existing = known.get((monitor.pk, check_in_id))
    finished = status != CheckInStatus.IN_PROGRESS
    if existing is None:  # inserted with the batch's others (record_check_ins)
        known[(monitor.pk, check_in_id)] = CheckIn(
            monitor=monitor,
            check_in_id=check_in_id,
            status=status,
            started_at=received_at,
            finished_at=received_at if finished else None,
            duration=duration,
            environment=_text(body.get("environment"), 64),
            release=_text(body.get("release"), 250),
        )
        # A new run: the next one is due from here on.
        schedule = schedule_of(monitor)
        monitor.next_expected_at = schedule.next_after(received_at) if schedule else None
    elif existing.status in FINISHED or not finished:
        return None  # redelivered, or a late close of a run already timed out: nothing new
    else:
        existing.status, existing.finished_at, existing.duration = status, received_at, duration
        if existing.pk is not None:  # stored before this batch
            existing.save(update_fields=["status", "finished_at", "duration"])
    before = monitor.status
    if status == CheckInStatus.ERROR:
        monitor.status = MonitorStatus.FAILING
    elif status == CheckInStatus.OK or before == MonitorStatus.MISSED:
        monitor.status = MonitorStatus.OK  # a run that came (or started) after a miss
    if monitor.last_checkin_at is None or received_at >= monitor.last_checkin_at:
        monitor.last_checkin_at = received_at
    return Transition(monitor, before, monitor.status) if monitor.status != before else None


def trim_over_cap(monitors: list[Monitor]) -> int:
    """trim() each of the monitors that has more than MONITOR_CHECKINS_KEPT check-ins: one
    grouped count for all of them (in SQL of its own: compiling the ORM's aggregate cost more
    than running it, once per batch of check-ins)."""
    if not monitors:
        return 0
    meta = CheckIn._meta
    connection = connections[router.db_for_write(CheckIn)]
    quote = connection.ops.quote_name
    column = quote(meta.get_field("monitor").column)
    sql = (
        f"SELECT {column} FROM {quote(meta.db_table)} WHERE {column} IN "
        f"({', '.join(['%s'] * len(monitors))}) GROUP BY {column} HAVING COUNT(*) > %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [m.pk for m in monitors] + [app_settings.MONITOR_CHECKINS_KEPT])
        over = [row[0] for row in cursor.fetchall()]
    by_pk = {m.pk: m for m in monitors}
    return sum(trim(by_pk[pk]) for pk in over)


def trim(monitor: Monitor) -> int:
    """Keep the monitor's newest MONITOR_CHECKINS_KEPT check-ins; returns how many went."""
    kept = app_settings.MONITOR_CHECKINS_KEPT
    rows = CheckIn.objects.filter(monitor=monitor)
    # The newest one not kept (one indexed look; none: nothing to trim), then it and all older.
    cutoff = rows.order_by("-started_at", "-pk").values_list("started_at", "pk")[kept : kept + 1]
    if not cutoff:
        return 0
    ((started_at, pk),) = cutoff
    deleted, _ = rows.filter(
        Q(started_at__lt=started_at) | Q(started_at=started_at, pk__lte=pk)
    ).delete()
    return deleted
