"""The answers of Sentry's look-ups by short id and by event id."""

from bugsink_issues.api.schemas.answers import Answer
from bugsink_issues.api.schemas.events import EventDetailOut
from bugsink_issues.api.schemas.issues import IssueOut

__all__ = ["EventIdOut", "ShortIdOut"]


class ShortIdOut(Answer):
    organizationSlug: str
    projectSlug: str
    groupId: str
    shortId: str
    group: IssueOut


class EventIdOut(Answer):
    organizationSlug: str
    projectSlug: str
    groupId: str
    eventId: str
    event: EventDetailOut
