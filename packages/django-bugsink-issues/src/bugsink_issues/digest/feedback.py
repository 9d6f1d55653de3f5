"""User feedback: the `feedback` item (event-shaped) and old-style user reports (also submitted
through the web API: submit_report)."""

import uuid
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from bugsink_issues.digest import storage
from bugsink_issues.digest.normalize import clean_text, normalize_event, parse_payload
from bugsink_issues.models import Event, UserFeedback
from bugsink_issues.signals import feedback_received


def _text(value, limit):
    return clean_text(str(value or "")[:limit])


def report_fields(report):
    """The UserFeedback fields of an old-style user report (`event_id`, `name`, `email`,
    `comments`), as the SDKs post it and as the web API takes it."""
    return {
        "associated_event_id": _text(report.get("event_id"), 64).replace("-", "").lower(),
        "name": _text(report.get("name"), 255),
        "email": _text(report.get("email"), 255),
        "message": _text(report.get("comments"), 10_000),
        "url": "",
    }


def feedback_row(spooled):
    """A UserFeedback (unsaved) for a spooled feedback item or user report."""
    raw, problem = parse_payload(spooled.payload)
    problems = [{"path": "", "problem": problem}] if problem else []
    if spooled.kind == "user_report":
        report = raw if isinstance(raw, dict) else {}
        if raw is not None and not isinstance(raw, dict):
            problems.append({"path": "", "problem": "user report is not a JSON object"})
        fields = report_fields(report)
        stored = report if report else {"_unparseable": spooled.payload.decode("utf-8", "replace")}
    else:
        normalized = normalize_event(
            raw, event_id=spooled.event_id, received_at=spooled.received_at
        )
        problems += normalized.problems
        stored = normalized.data
        contexts = stored["contexts"] if isinstance(stored.get("contexts"), dict) else {}
        context = contexts["feedback"] if isinstance(contexts.get("feedback"), dict) else {}
        fields = {
            "associated_event_id": _text(context.get("associated_event_id"), 64)
            .replace("-", "")
            .lower(),
            "name": _text(context.get("name"), 255),
            "email": _text(context.get("contact_email"), 255),
            "message": _text(context.get("message"), 10_000),
            "url": _text(context.get("url"), 1000),
        }
    blob, _ = storage.compress(storage.dump_json(stored))
    return UserFeedback(
        project_id=spooled.project_id,
        feedback_id=spooled.event_id,
        received_at=spooled.received_at,
        payload=blob,
        problems=problems,
        **fields,
    )


def store_feedback(project_id, rows):
    """Insert new feedback (idempotent) and link it to its event when that is already stored."""
    existing = set(
        UserFeedback.objects.filter(
            project_id=project_id, feedback_id__in=[r.feedback_id for r in rows]
        ).values_list("feedback_id", flat=True)
    )
    fresh = {r.feedback_id: r for r in rows if r.feedback_id not in existing}
    targets = {r.associated_event_id for r in fresh.values() if r.associated_event_id}
    events = {
        e.event_id: e
        for e in Event.objects.filter(project_id=project_id, event_id__in=targets).only(
            "id", "event_id", "issue_id"
        )
    }
    for row in fresh.values():
        event = events.get(row.associated_event_id)
        if event is not None:
            row.event_id, row.issue_id = event.pk, event.issue_id
    UserFeedback.objects.bulk_create(fresh.values())
    for row in fresh.values():  # alerts (alerts/receivers.py), once the rows are committed
        transaction.on_commit(partial(feedback_received.send, sender=UserFeedback, feedback=row))


def link_waiting_feedback(project_id, events_by_id):
    """Feedback that arrived before its event gets linked when the event is stored."""
    waiting = UserFeedback.objects.filter(
        project_id=project_id, associated_event_id__in=list(events_by_id), event__isnull=True
    )
    for row in waiting:
        event = events_by_id[row.associated_event_id]
        UserFeedback.objects.filter(pk=row.pk).update(event=event.pk, issue=event.issue_id)


# A report can be sent again (a retry, a correction) for this long; later it is final.
REPORT_MUTABLE_FOR = timedelta(minutes=5)


class ReportFinal(ValueError):
    """The event has a report from this address that can no longer be changed."""


@transaction.atomic
def submit_report(project_id, report, *, now=None):
    """Store a user report (a dict as report_fields reads it) for an event of the project, linked
    to the event if it is stored. A report for the same event from the same address within
    REPORT_MUTABLE_FOR replaces the earlier one; after that, ReportFinal. Returns the row."""
    now = now or timezone.now()
    fields = report_fields(report)
    earlier = (
        UserFeedback.objects.select_for_update()
        .filter(
            project_id=project_id,
            associated_event_id=fields["associated_event_id"],
            email__iexact=fields["email"],
        )
        .order_by("-received_at", "-id")
        .first()
    )
    if earlier is not None and now - earlier.received_at > REPORT_MUTABLE_FOR:
        raise ReportFinal("Feedback for this event cannot be modified.")
    row = earlier or UserFeedback(project_id=project_id, feedback_id=uuid.uuid4().hex)
    for name, value in fields.items():
        setattr(row, name, value)
    row.received_at, row.problems = now, []
    row.payload, _ = storage.compress(storage.dump_json(dict(report)))
    event = (
        Event.objects.filter(project_id=project_id, event_id=fields["associated_event_id"])
        .only("id", "issue_id")
        .first()
    )
    if event is not None:
        row.event_id, row.issue_id = event.pk, event.issue_id
    row.save()
    return row
