"""An alert for user feedback, to every active channel of its project through the channels' own
senders and rate caps (delivery.deliver), and to the users who chose the project's alerts. The context is an issue's alert's, with `feedback` set:
the title says who wrote, the second line is what they wrote; the link goes to the issue's Feedback
tab, or to the project's Feedback page when the feedback names no stored event."""

from django.urls import NoReverseMatch, reverse

from bugsink_issues.alerts.delivery import deliver
from bugsink_issues.alerts.messages import TRIGGER_LABELS
from bugsink_issues.alerts.subscriptions import notify_subscribers
from bugsink_issues.conf import app_settings
from bugsink_issues.models import AlertChannel, ProjectSettings, UserFeedback

TRIGGER = "feedback"
MESSAGE_SHOWN = 500  # characters of the feedback in the alert; the UI has all of it


def feedback_url(feedback):
    base = app_settings.BASE_URL.rstrip("/")
    if not base:
        return ""
    try:
        if feedback.issue_id:
            path = reverse("bugsink_issues:issue", args=[feedback.issue_id]) + "?tab=feedback"
        else:
            path = reverse("bugsink_issues:project_feedback", args=[feedback.project_id])
    except NoReverseMatch:  # the host did not mount the UI's URLs
        return ""
    return base + path


def feedback_context(channel, feedback):
    issue = feedback.issue
    message = " ".join(feedback.message.split())
    if len(message) > MESSAGE_SHOWN:
        message = message[: MESSAGE_SHOWN - 1] + "…"
    about = f" on {issue.title}" if issue else ""
    return {
        "trigger": TRIGGER,
        "trigger_label": TRIGGER_LABELS[TRIGGER],
        "project": channel.project,
        "issue": issue,
        "feedback": feedback,
        "title": f"{feedback.name or 'A user'} wrote{about}"[:300],
        "culprit": message,
        "url": feedback_url(feedback),
    }


def send_feedback_alerts_now(feedback_id):
    feedback = (
        UserFeedback.objects.filter(pk=feedback_id).select_related("issue", "project").first()
    )
    if feedback is None or not app_settings.ALERTS_ENABLED:
        return []
    enabled = (
        ProjectSettings.objects.filter(project_id=feedback.project_id)
        .values_list("alerts_enabled", flat=True)
        .first()
    )
    if enabled is False:
        return []
    channels = AlertChannel.objects.filter(
        project_id=feedback.project_id, is_active=True
    ).select_related("project")
    deliveries = [
        deliver(channel, feedback.issue, TRIGGER, ctx=feedback_context(channel, feedback))
        for channel in channels
    ]
    return deliveries + notify_subscribers(
        feedback.project,
        TRIGGER,
        issue=feedback.issue,
        context=lambda channel: feedback_context(channel, feedback),
    )
