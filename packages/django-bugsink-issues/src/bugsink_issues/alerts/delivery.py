"""Deliver one alert to one channel, with the rate caps, and record the outcome."""

from datetime import timedelta

from django.utils import timezone

from bugsink_issues.alerts import messages
from bugsink_issues.alerts.channels import sender_for
from bugsink_issues.alerts.outbound import DeliveryFailed, RefusedTarget
from bugsink_issues.alerts.subscriptions import notify_subscribers
from bugsink_issues.conf import app_settings
from bugsink_issues.models import AlertChannel, AlertDelivery, Issue, ProjectSettings
from bugsink_issues.models.alerts import DeliveryStatus

COUNTED = [DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.REFUSED]

TRIGGER_FLAGS = {
    "new_issue": "on_new_issue",
    "regression": "on_regression",
    "unmute": "on_unmute",
}


def send_test(channel):
    """Send a test alert to `channel` now (not rate-limited); returns the AlertDelivery."""
    return deliver(channel, None, "test", rate_limited=False)


def send_issue_alerts_now(issue_id, trigger):
    """Deliver to every active channel of the issue's project that wants this trigger."""
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
    deliveries = [deliver(channel, issue, trigger) for channel in channels]
    # And each user who chose this project's alerts, at their own address.
    return deliveries + notify_subscribers(issue.project, trigger, issue=issue)


def _over_rate(channel, now):
    since = now - timedelta(hours=1)
    recent = AlertDelivery.objects.filter(created_at__gte=since, status__in=COUNTED)
    if recent.count() >= app_settings.ALERT_RATE_GLOBAL_PER_HOUR:
        return "global alert rate cap reached"
    per_project = (
        ProjectSettings.objects.filter(project_id=channel.project_id)
        .values_list("alert_rate_per_hour", flat=True)
        .first()
    ) or app_settings.ALERT_RATE_PER_PROJECT_PER_HOUR
    if recent.filter(channel__project_id=channel.project_id).count() >= per_project:
        return "project alert rate cap reached"
    return None


def deliver(channel, issue, trigger, *, rate_limited=True, ctx=None):
    """Send one alert; returns the AlertDelivery with its outcome (never raises on a failure).
    `ctx`: the alert's context when it is not an issue's (a monitor's, alerts/monitors.py)."""
    now = timezone.now()
    delivery = AlertDelivery(channel=channel, issue=issue, trigger=trigger)
    over = _over_rate(channel, now) if rate_limited else None
    if over:
        delivery.status, delivery.error, delivery.finished_at = (
            DeliveryStatus.RATE_LIMITED,
            over,
            now,
        )
        delivery.save()
        return delivery
    ctx = ctx or messages.alert_context(channel, issue, trigger)
    try:
        delivery.response_code = sender_for(channel.kind).send(channel, ctx)
        delivery.status = DeliveryStatus.SENT
    except RefusedTarget as exc:
        delivery.status, delivery.error = DeliveryStatus.REFUSED, str(exc)
    except DeliveryFailed as exc:
        delivery.status, delivery.error = DeliveryStatus.FAILED, str(exc)
        delivery.response_code = exc.status
    except Exception as exc:  # a mail server error must be recorded, not raised
        delivery.status, delivery.error = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"
    delivery.error = delivery.error[:2000]
    delivery.finished_at = timezone.now()
    delivery.save()
    return delivery
