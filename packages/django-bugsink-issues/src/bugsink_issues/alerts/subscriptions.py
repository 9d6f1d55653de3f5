"""Alerts e-mailed to each user who chose a project's alerts (models.notifications): an issue's
(new, regressed, unmuted), a cron monitor's (failed, missed, timed out) and user feedback.

Sent beside the project's channels, through the same e-mail sender (a host that registered its own
sender for e-mail gets these too), to the user's own address, only while the user can still see the
project. Each subscriber has the project's hourly cap of their own; what was sent is kept a week.
"""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from bugsink_issues.alerts import messages
from bugsink_issues.alerts.channels import sender_for
from bugsink_issues.alerts.outbound import DeliveryFailed, RefusedTarget
from bugsink_issues.conf import app_settings
from bugsink_issues.models import AlertChannel, ProjectSettings
from bugsink_issues.models.access import visible_projects
from bugsink_issues.models.alerts import ChannelKind, DeliveryStatus
from bugsink_issues.models.notifications import AlertSubscription, SubscriptionDelivery

__all__ = ["notify_subscribers", "subscriber_channel"]

COUNTED = [DeliveryStatus.SENT, DeliveryStatus.FAILED]
KEPT = timedelta(days=7)


def notify_subscribers(
    project, trigger, *, issue=None, context: Callable[[AlertChannel], dict] | None = None
) -> list[SubscriptionDelivery]:
    """E-mail the alert to every subscriber of `project` who may still see it. `context`: the
    alert's context for a channel when it is not an issue's (a monitor's, feedback's)."""
    subscriptions = AlertSubscription.objects.filter(
        project_id=project.pk, user__is_active=True
    ).select_related("user")
    if context is None:

        def context(channel):
            return messages.alert_context(channel, issue, trigger)

    return [
        _deliver(subscription, project, issue, trigger, context)
        for subscription in subscriptions
        if subscription.user.email
        and visible_projects(subscription.user).filter(pk=project.pk).exists()
    ]


def subscriber_channel(subscription: AlertSubscription, project) -> AlertChannel:
    """The subscriber's address as an (unsaved) e-mail channel, what the e-mail sender takes."""
    return AlertChannel(
        project=project,
        kind=ChannelKind.EMAIL,
        name=f"alerts of {subscription.user.get_username()}",
        target=subscription.user.email,
    )


def _hourly_cap(project_id) -> int:
    return (
        ProjectSettings.objects.filter(project_id=project_id)
        .values_list("alert_rate_per_hour", flat=True)
        .first()
    ) or app_settings.ALERT_RATE_PER_PROJECT_PER_HOUR


def _deliver(subscription, project, issue, trigger, context) -> SubscriptionDelivery:
    now = timezone.now()
    subscription.deliveries.filter(created_at__lt=now - KEPT).delete()
    delivery = SubscriptionDelivery(subscription=subscription, issue=issue, trigger=trigger)
    sent_last_hour = subscription.deliveries.filter(
        created_at__gte=now - timedelta(hours=1), status__in=COUNTED
    ).count()
    if sent_last_hour >= _hourly_cap(project.pk):
        delivery.status, delivery.error = DeliveryStatus.RATE_LIMITED, "hourly cap reached"
        delivery.save()
        return delivery
    channel = subscriber_channel(subscription, project)
    try:
        sender_for(ChannelKind.EMAIL).send(channel, context(channel))
        delivery.status = DeliveryStatus.SENT
    except RefusedTarget as exc:
        delivery.status, delivery.error = DeliveryStatus.REFUSED, str(exc)
    except DeliveryFailed as exc:
        delivery.status, delivery.error = DeliveryStatus.FAILED, str(exc)
    except Exception as exc:  # a mail server error is recorded, not raised (as for channels)
        delivery.status, delivery.error = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"
    delivery.error = delivery.error[:2000]
    delivery.save()
    return delivery
