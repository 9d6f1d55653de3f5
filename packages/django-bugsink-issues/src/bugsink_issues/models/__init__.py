"""The core domain models. Import from here: `from bugsink_issues.models import Issue, Event`."""

from bugsink_issues.models.access import (
    Invitation,
    ProjectTeam,
    Team,
    TeamMembership,
    UserPreferences,
)
from bugsink_issues.models.alerts import AlertChannel, AlertDelivery
from bugsink_issues.models.api import ApiToken
from bugsink_issues.models.events import Event, EventAttachment, UserFeedback
from bugsink_issues.models.issues import Grouping, Issue, IssueHistory
from bugsink_issues.models.projects import ProjectSettings
from bugsink_issues.models.seen import IssueSeen
from bugsink_issues.models.tags import IssueTagValue, Release, TagValue

__all__ = [
    "AlertChannel",
    "AlertDelivery",
    "ApiToken",
    "Event",
    "EventAttachment",
    "Grouping",
    "Issue",
    "IssueHistory",
    "IssueSeen",
    "IssueTagValue",
    "Invitation",
    "ProjectSettings",
    "ProjectTeam",
    "Release",
    "TagValue",
    "Team",
    "TeamMembership",
    "UserFeedback",
    "UserPreferences",
]
