"""The core domain models. Import from here: `from bugsink_issues.models import Issue, Event`."""

from importlib.util import find_spec

from bugsink_issues.models.alerts import AlertChannel, AlertDelivery
from bugsink_issues.models.events import Event, EventAttachment, UserFeedback
from bugsink_issues.models.issues import Grouping, Issue, IssueHistory
from bugsink_issues.models.projects import ProjectSettings
from bugsink_issues.models.tags import IssueTagValue, Release, TagValue

# Teams and membership live in models/access.py (owned by the UI); import it when present.
if find_spec("bugsink_issues.models.access") is not None:
    from bugsink_issues.models.access import *  # noqa: F403

__all__ = [
    "AlertChannel",
    "AlertDelivery",
    "Event",
    "EventAttachment",
    "Grouping",
    "Issue",
    "IssueHistory",
    "IssueTagValue",
    "ProjectSettings",
    "Release",
    "TagValue",
    "UserFeedback",
]
