"""Deliver one alert to one channel, with the rate caps, and record the outcome."""

from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from bugsink_issues.alerts import messages
from bugsink_issues.alerts.outbound import DeliveryFailed, RefusedTarget, post
from bugsink_issues.conf import app_settings
from bugsink_issues.models import AlertDelivery, ProjectSettings
from bugsink_issues.models.alerts import ChannelKind, DeliveryStatus

COUNTED = [DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.REFUSED]


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


def deliver(channel, issue, trigger, *, rate_limited=True):
    """Send one alert; returns the AlertDelivery with its outcome (never raises on a failure)."""
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
    ctx = messages.alert_context(channel, issue, trigger)
    try:
        if channel.kind == ChannelKind.EMAIL:
            _send_email(channel, ctx)
        else:
            body = messages.encode(messages.webhook_body(channel.kind, ctx))
            headers = (
                messages.signed_headers(channel.secret, body)
                if channel.kind == ChannelKind.WEBHOOK and channel.secret
                else {}
            )
            delivery.response_code = post(channel.target.strip(), body, headers)
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


def email_recipients(channel):
    return [a.strip() for a in channel.target.replace(";", ",").split(",") if a.strip()]


def _send_email(channel, ctx):
    recipients = email_recipients(channel)
    if not recipients:
        raise DeliveryFailed("no recipients")
    text = render_to_string("bugsink_issues/alerts/issue_alert.txt", ctx)
    html = render_to_string("bugsink_issues/alerts/issue_alert.html", ctx)
    message = EmailMultiAlternatives(
        subject=messages.headline(ctx)[:200],
        body=text,
        from_email=app_settings.ALERT_FROM_EMAIL,
        to=recipients,
    )
    message.attach_alternative(html, "text/html")
    message.send()
