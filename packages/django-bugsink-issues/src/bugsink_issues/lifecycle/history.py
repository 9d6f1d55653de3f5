"""Every change of an issue's state writes an IssueHistory row and sends its signal after commit."""

from django.db import transaction
from django.utils import timezone

from bugsink_issues.models import Issue, IssueHistory


def send_on_commit(signal, issue, **kwargs):
    transaction.on_commit(lambda: signal.send(sender=Issue, issue=issue, **kwargs))


def record(issue, kind, *, user=None, reason="", comment="", release="", event_id="", at=None):
    return IssueHistory.objects.create(
        issue=issue,
        kind=kind,
        created_at=at or timezone.now(),
        user=user if user is not None and getattr(user, "pk", None) else None,
        reason=reason[:255],
        comment=comment or "",
        release=release[:250],
        event_id=event_id,
    )
