"""The core domain models. Import from here: `from bugsink_issues.models import Issue, Event`."""

# fulltext is not a model (the full-text index's tables); importing it connects its post_migrate hook.
from bugsink_issues.models import fulltext  # noqa: F401
from bugsink_issues.models.access import (
    Invitation,
    ProjectTeam,
    Team,
    TeamMembership,
    UserPreferences,
)
from bugsink_issues.models.alerts import AlertChannel, AlertDelivery
from bugsink_issues.models.api import ApiToken
from bugsink_issues.models.artifacts import ArtifactBundle, ArtifactFile, DebugFile
from bugsink_issues.models.events import Event, EventAttachment, EventAttachmentChunk, UserFeedback
from bugsink_issues.models.health import (
    ClientReportCount,
    HealthReceipt,
    ReleaseHealthBucket,
    ReleaseHealthFigures,
    ReleaseHealthUser,
    SessionState,
)
from bugsink_issues.models.issues import Grouping, Issue, IssueHistory
from bugsink_issues.models.monitors import CheckIn, Monitor, MonitorCheckChain
from bugsink_issues.models.notifications import AlertSubscription, SubscriptionDelivery
from bugsink_issues.models.projects import ProjectSettings
from bugsink_issues.models.releases import Deploy, ReleaseCommit
from bugsink_issues.models.seen import IssueSeen
from bugsink_issues.models.tags import IssueTagValue, Release, TagValue
from bugsink_issues.models.volume import IssueDayCount

__all__ = [
    "AlertChannel",
    "AlertDelivery",
    "AlertSubscription",
    "ApiToken",
    "ArtifactBundle",
    "ArtifactFile",
    "CheckIn",
    "ClientReportCount",
    "DebugFile",
    "Deploy",
    "Event",
    "EventAttachment",
    "EventAttachmentChunk",
    "Grouping",
    "HealthReceipt",
    "Issue",
    "IssueDayCount",
    "IssueHistory",
    "IssueSeen",
    "IssueTagValue",
    "Invitation",
    "Monitor",
    "MonitorCheckChain",
    "ProjectSettings",
    "ProjectTeam",
    "Release",
    "ReleaseCommit",
    "ReleaseHealthBucket",
    "ReleaseHealthFigures",
    "ReleaseHealthUser",
    "SessionState",
    "SubscriptionDelivery",
    "TagValue",
    "Team",
    "TeamMembership",
    "UserFeedback",
    "UserPreferences",
]
