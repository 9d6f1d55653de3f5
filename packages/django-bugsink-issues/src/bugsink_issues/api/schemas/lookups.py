"""The answers of Sentry's look-ups by short id and by event id."""

from ninja import Schema

from bugsink_issues.api.schemas.events import EventDetailOut
from bugsink_issues.api.schemas.issues import IssueOut

__all__ = ["EventIdOut", "ShortIdOut"]


class ShortIdOut(Schema):
    organizationSlug: str
    projectSlug: str
    groupId: str
    shortId: str
    group: IssueOut


class EventIdOut(Schema):
    organizationSlug: str
    projectSlug: str
    groupId: str
    eventId: str
    event: EventDetailOut
