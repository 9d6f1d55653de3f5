"""Alerts: email and webhooks (Slack, Discord, Mattermost, Microsoft Teams, signed JSON).

New issues, regressions and unmutes enqueue `tasks.send_issue_alerts` after the digest commits (the
signals are sent on commit). `send_test(channel)` sends a test message right away.
"""

import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from bugsink_issues import signals
from bugsink_issues.conf import app_settings

CHANNEL_CACHE_SECONDS = 5
_has_channels = {}  # project id -> (monotonic time checked, has active channels)

TRIGGER_FLAGS = {
    "new_issue": "on_new_issue",
    "regression": "on_regression",
    "unmute": "on_unmute",
}


def send_test(channel):
    """Send a test alert to `channel` now (not rate-limited); returns the AlertDelivery."""
    from bugsink_issues.alerts.delivery import deliver

    return deliver(channel, None, "test", rate_limited=False)


def send_issue_alerts_now(issue_id, trigger):
    """Deliver to every active channel of the issue's project that wants this trigger."""
    from bugsink_issues.alerts.delivery import deliver
    from bugsink_issues.models import AlertChannel, Issue, ProjectSettings

    issue = Issue.objects.filter(pk=issue_id).select_related("project").first()
    if issue is None or not app_settings.ALERTS_ENABLED:
        return []
    enabled = (
        ProjectSettings.objects.filter(project_id=issue.project_id)
        .values_list("alerts_enabled", flat=True)
        .first()
    )
    if enabled is False:
        return []
    channels = AlertChannel.objects.filter(
        project_id=issue.project_id, is_active=True, **{TRIGGER_FLAGS[trigger]: True}
    )
    return [deliver(channel, issue, trigger) for channel in channels]


def _enqueue(trigger):
    def handler(sender, issue, **kwargs):
        if not app_settings.ALERTS_ENABLED or issue is None:
            return
        from bugsink_issues.alerts.tasks import send_issue_alerts
        from bugsink_issues.models import AlertChannel

        # Skip the task entirely for projects without channels (the common case in a busy digest);
        # the answer is cached briefly and dropped whenever a channel changes.
        cached = _has_channels.get(issue.project_id)
        if cached is None or time.monotonic() - cached[0] > CHANNEL_CACHE_SECONDS:
            exists = AlertChannel.objects.filter(
                project_id=issue.project_id, is_active=True
            ).exists()
            cached = _has_channels[issue.project_id] = (time.monotonic(), exists)
        if cached[1]:
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
    _enqueue("unmute")
)


@receiver(post_save, sender="bugsink_issues.AlertChannel", dispatch_uid="bugsink_issues_ch_save")
@receiver(post_delete, sender="bugsink_issues.AlertChannel", dispatch_uid="bugsink_issues_ch_del")
def _forget_channel_cache(sender, instance, **kwargs):
    _has_channels.pop(instance.project_id, None)
