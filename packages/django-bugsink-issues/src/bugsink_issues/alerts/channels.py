"""How an alert reaches each kind of channel: one sender per `AlertChannel.kind`.

A sender turns the alert's context (messages.alert_context) into a delivery: an email, or a JSON POST
through the hardened client of outbound.py. `sender_for(kind)` is the one factory the delivery uses;
`register_sender(kind, sender)` replaces the sender of a kind (a host routing email through its own
service, say). Failures are raised as outbound.DeliveryFailed or outbound.RefusedTarget; the delivery
records them.
"""

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from bugsink_issues.alerts.messages import encode, headline, signed_headers
from bugsink_issues.alerts.outbound import DeliveryFailed, post
from bugsink_issues.alerts.targets import email_addresses
from bugsink_issues.conf import app_settings
from bugsink_issues.models.alerts import AlertChannel, ChannelKind


class AlertSender:
    """Sends one alert to one channel. Subclass it and register an instance for a kind."""

    def send(self, channel: AlertChannel, ctx: dict[str, Any]) -> int | None:
        """Deliver the alert; return the HTTP status of the answer (None when there is none)."""
        raise NotImplementedError


class EmailSender(AlertSender):
    """HTML and text, to the channel's comma- or semicolon-separated addresses."""

    def send(self, channel, ctx):
        recipients = email_recipients(channel)
        if not recipients:
            raise DeliveryFailed("no recipients")
        message = EmailMultiAlternatives(
            subject=headline(ctx)[:200],
            body=render_to_string("bugsink_issues/alerts/issue_alert.txt", ctx),
            from_email=app_settings.ALERT_FROM_EMAIL,
            to=recipients,
        )
        message.attach_alternative(
            render_to_string("bugsink_issues/alerts/issue_alert.html", ctx), "text/html"
        )
        message.send()
        return None


def email_recipients(channel: AlertChannel) -> list[str]:
    return email_addresses(channel.target)


class WebhookSender(AlertSender):
    """A JSON POST to the channel's URL. Subclasses say what the body is (and extra headers)."""

    def body(self, ctx: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def headers(self, channel: AlertChannel, body: bytes) -> dict[str, str]:
        return {}

    def send(self, channel, ctx):
        body = encode(self.body(ctx))
        return post(channel.target.strip(), body, self.headers(channel, body))


class SlackSender(WebhookSender):
    emphasis = "*"  # Slack's bold

    def body(self, ctx):
        lines = [f"{self.emphasis}{headline(ctx)}{self.emphasis}"]
        if ctx["culprit"]:
            lines.append(ctx["culprit"])
        if ctx["url"]:
            lines.append(ctx["url"])
        return {"text": "\n".join(lines)}


class MattermostSender(SlackSender):
    emphasis = "**"  # Markdown's bold


class DiscordSender(WebhookSender):
    def body(self, ctx):
        text = headline(ctx)
        embed = {"title": text[:256], "description": ctx["culprit"][:4000]}
        if ctx["url"]:
            embed["url"] = ctx["url"]
        return {"content": text[:2000], "embeds": [embed]}


class TeamsSender(WebhookSender):
    """An Adaptive Card, as Microsoft Teams' Workflows webhooks expect."""

    def body(self, ctx):
        body: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": headline(ctx), "weight": "Bolder", "wrap": True},
        ]
        if ctx["culprit"]:
            body.append(
                {"type": "TextBlock", "text": ctx["culprit"], "wrap": True, "isSubtle": True}
            )
        card: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        }
        if ctx["url"]:
            card["actions"] = [{"type": "Action.OpenUrl", "title": "Open issue", "url": ctx["url"]}]
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        }


class JSONWebhookSender(WebhookSender):
    """The issue as plain JSON, for receivers of one's own."""

    def body(self, ctx):
        issue = ctx["issue"]
        return {
            "event": ctx["trigger"],
            "project": {"id": ctx["project"].pk, "name": ctx["project"].name},
            "issue": None
            if issue is None
            else {
                "id": issue.pk,
                "title": issue.title,
                "culprit": issue.culprit,
                "level": issue.level,
                "status": issue.status,
                "event_count": issue.event_count,
                "first_seen": issue.first_seen.isoformat(),
                "last_seen": issue.last_seen.isoformat(),
                "url": ctx["url"],
            },
        }


class SignedJSONWebhookSender(JSONWebhookSender):
    """JSON signed with the channel's secret (X-Bugsink-Signature), when it has one."""

    def headers(self, channel, body):
        return signed_headers(channel.secret, body) if channel.secret else {}


_SENDERS: dict[str, AlertSender] = {
    ChannelKind.EMAIL: EmailSender(),
    ChannelKind.SLACK: SlackSender(),
    ChannelKind.MATTERMOST: MattermostSender(),
    ChannelKind.DISCORD: DiscordSender(),
    ChannelKind.TEAMS: TeamsSender(),
    ChannelKind.WEBHOOK: SignedJSONWebhookSender(),
}
# A row whose kind no sender knows (written outside the forms) still gets the plain JSON.
_FALLBACK = JSONWebhookSender()


def sender_for(kind: str) -> AlertSender:
    return _SENDERS.get(kind, _FALLBACK)


def register_sender(kind: str, sender: AlertSender) -> None:
    """Use `sender` for channels of `kind` from now on (call it from an AppConfig.ready())."""
    _SENDERS[kind] = sender
