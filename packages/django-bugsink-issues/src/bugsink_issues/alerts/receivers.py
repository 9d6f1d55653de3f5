"""New issues, regressions, unmutes and user feedback enqueue the alerts tasks (the signals are
sent on commit).

Connected by the AppConfig. Projects without an active channel (the common case in a busy digest)
skip the task entirely; the answer is cached briefly and dropped whenever a channel changes.
"""

import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from bugsink_issues import signals
from bugsink_issues.alerts.tasks import send_feedback_alerts, send_issue_alerts
from bugsink_issues.conf import app_settings
from bugsink_issues.models import AlertChannel, AlertSubscription

CHANNEL_CACHE_SECONDS = 5
_has_channels: dict[int, tuple[float, bool]] = {}  # project id -> (monotonic time, has channels)


def _alerted(project_id):
    """Whether the project has an active channel or a subscriber (cached briefly)."""
    cached = _has_channels.get(project_id)
    if cached is None or time.monotonic() - cached[0] > CHANNEL_CACHE_SECONDS:
        exists = (
            AlertChannel.objects.filter(project_id=project_id, is_active=True).exists()
            # or a user who has this project's alerts e-mailed (alerts/subscriptions.py)
            or AlertSubscription.objects.filter(project_id=project_id).exists()
        )
        cached = _has_channels[project_id] = (time.monotonic(), exists)
    return cached[1]


def _enqueue(trigger, *, system_only=False):
    def handler(sender, issue, user=None, **kwargs):
        if not app_settings.ALERTS_ENABLED or issue is None:
            return
        if system_only and user is not None:
            return  # a person did it by hand (a manual unmute): they know already
        if _alerted(issue.project_id):
            send_issue_alerts.enqueue(issue_id=issue.pk, trigger=trigger)

    handler.__name__ = f"enqueue_{trigger}_alerts"
    return handler


_on_created = receiver(signals.issue_created, dispatch_uid="bugsink_issues_alert_new")(
    _enqueue("new_issue")
)
_on_regressed = receiver(signals.issue_regressed, dispatch_uid="bugsink_issues_alert_regr")(
    _enqueue("regression")
)
_on_unmuted = receiver(signals.issue_unmuted, dispatch_uid="bugsink_issues_alert_unmute")(
    _enqueue("unmute", system_only=True)
)


@receiver(signals.feedback_received, dispatch_uid="bugsink_issues_alert_feedback")
def _on_feedback(sender, feedback, **kwargs):
    if app_settings.ALERTS_ENABLED and app_settings.ALERT_ON_FEEDBACK:
        if _alerted(feedback.project_id):
            send_feedback_alerts.enqueue(feedback_id=feedback.pk)


@receiver(post_save, sender=AlertChannel, dispatch_uid="bugsink_issues_ch_save")
@receiver(post_delete, sender=AlertChannel, dispatch_uid="bugsink_issues_ch_del")
@receiver(post_save, sender=AlertSubscription, dispatch_uid="bugsink_issues_sub_save")
@receiver(post_delete, sender=AlertSubscription, dispatch_uid="bugsink_issues_sub_del")
def _forget_channel_cache(sender, instance, **kwargs):
    _has_channels.pop(instance.project_id, None)
