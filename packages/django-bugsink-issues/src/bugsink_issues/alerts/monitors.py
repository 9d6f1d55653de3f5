"""A cron monitor's alert (failed, missed, timed out) to every active channel of its project,
through the channels' own senders and rate caps (delivery.deliver), and to the users who chose the
project's alerts (subscriptions). Each sender reads the same context as an issue's alert; `issue`
is None and `monitor` names the monitor."""

from django.urls import NoReverseMatch, reverse

from bugsink_issues.alerts.delivery import deliver
from bugsink_issues.alerts.messages import TRIGGER_LABELS
from bugsink_issues.alerts.subscriptions import notify_subscribers
from bugsink_issues.conf import app_settings
from bugsink_issues.models import AlertChannel, Monitor, ProjectSettings

EXPLANATIONS = {
    "monitor_failed": "its last run reported an error",
    "monitor_missed": "no check-in came within the expected time and the margin",
    "monitor_timeout": "a run is in progress past its max runtime",
}


def monitors_url(project_id):
    base = app_settings.BASE_URL.rstrip("/")
    if not base:
        return ""
    try:
        return base + reverse("bugsink_issues:project_monitors", args=[project_id])
    except NoReverseMatch:  # the host did not mount the UI's URLs
        return ""


def monitor_context(channel, monitor, trigger):
    return {
        "trigger": trigger,
        "trigger_label": TRIGGER_LABELS.get(trigger, trigger),
        "project": channel.project,
        "issue": None,
        "monitor": monitor,
        "title": f"Monitor {monitor.slug}",
        "culprit": EXPLANATIONS.get(trigger, ""),
        "url": monitors_url(monitor.project_id),
    }


def send_monitor_alerts_now(monitor_id, trigger):
    monitor = Monitor.objects.filter(pk=monitor_id).select_related("project").first()
    if monitor is None or not app_settings.ALERTS_ENABLED:
        return []
    enabled = (
        ProjectSettings.objects.filter(project_id=monitor.project_id)
        .values_list("alerts_enabled", flat=True)
        .first()
    )
    if enabled is False:
        return []
    channels = AlertChannel.objects.filter(
        project_id=monitor.project_id, is_active=True
    ).select_related("project")
    deliveries = [
        deliver(channel, None, trigger, ctx=monitor_context(channel, monitor, trigger))
        for channel in channels
    ]
    return deliveries + notify_subscribers(
        monitor.project,
        trigger,
        context=lambda channel: monitor_context(channel, monitor, trigger),
    )
