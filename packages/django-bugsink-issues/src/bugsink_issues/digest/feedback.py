"""User feedback: the `feedback` item (event-shaped) and old-style user reports."""

from functools import partial

from django.db import transaction

from bugsink_issues.digest import storage
from bugsink_issues.digest.normalize import clean_text, normalize_event, parse_payload
from bugsink_issues.models import Event, UserFeedback
from bugsink_issues.signals import feedback_received


def _text(value, limit):
    return clean_text(str(value or "")[:limit])


def feedback_row(spooled):
    """A UserFeedback (unsaved) for a spooled feedback item or user report."""
    raw, problem = parse_payload(spooled.payload)
    problems = [{"path": "", "problem": problem}] if problem else []
    if spooled.kind == "user_report":
        report = raw if isinstance(raw, dict) else {}
        if raw is not None and not isinstance(raw, dict):
            problems.append({"path": "", "problem": "user report is not a JSON object"})
        fields = {
            "associated_event_id": _text(report.get("event_id"), 64).replace("-", "").lower(),
            "name": _text(report.get("name"), 255),
            "email": _text(report.get("email"), 255),
            "message": _text(report.get("comments"), 10_000),
            "url": "",
        }
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
