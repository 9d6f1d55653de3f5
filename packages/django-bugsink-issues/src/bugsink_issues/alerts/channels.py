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

from bugsink_issues.alerts.markup import markdown_text, plain_line, slack_text
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
    """Slack's `text`, in mrkdwn: the event's words are escaped (markup.slack_text)."""

    def body(self, ctx):
        lines = [f"*{slack_text(headline(ctx))}*"]
        if ctx["culprit"]:
            lines.append(slack_text(ctx["culprit"]))
        if ctx["url"]:
            lines.append(slack_text(ctx["url"]))
        return {"text": "\n".join(lines)}


class MattermostSender(WebhookSender):
    """Mattermost's Slack-compatible `text`, which it reads as Markdown with @-mentions."""

    def body(self, ctx):
        lines = [f"**{markdown_text(headline(ctx))}**"]
        if ctx["culprit"]:
            lines.append(markdown_text(ctx["culprit"]))
        if ctx["url"]:
            lines.append(ctx["url"])  # our own link, left for Mattermost to make clickable
        return {"text": "\n".join(lines)}


class DiscordSender(WebhookSender):
    """Markdown escaped (markup.markdown_text), and no mention of anyone or any role parsed."""

    def body(self, ctx):
        text = markdown_text(headline(ctx))
        embed = {"title": text[:256], "description": markdown_text(ctx["culprit"])[:4000]}
        if ctx["url"]:
            embed["url"] = ctx["url"]
        return {"content": text[:2000], "embeds": [embed], "allowed_mentions": {"parse": []}}


class TeamsSender(WebhookSender):
    """An Adaptive Card, as Microsoft Teams' Workflows webhooks expect.

    The event's words go in TextRuns of a RichTextBlock, which show text as it is: a TextBlock
    would read it as Markdown (links included).
    """

    def body(self, ctx):
        body: list[dict[str, Any]] = [_rich_text(headline(ctx), weight="Bolder")]
        if ctx["culprit"]:
            body.append(_rich_text(ctx["culprit"], isSubtle=True))
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


def _rich_text(text: str, **run: Any) -> dict[str, Any]:
    return {
        "type": "RichTextBlock",
        "inlines": [{"type": "TextRun", "text": plain_line(text), **run}],
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
            **_monitor_body(ctx),
            **_feedback_body(ctx),
        }


def _monitor_body(ctx: dict[str, Any]) -> dict[str, Any]:
    monitor = ctx.get("monitor")
    if monitor is None:
        return {}
    return {
        "monitor": {
            "slug": monitor.slug,
            "status": monitor.status,
            "last_checkin_at": monitor.last_checkin_at.isoformat()
            if monitor.last_checkin_at
            else None,
            "url": ctx["url"],
        }
    }


def _feedback_body(ctx: dict[str, Any]) -> dict[str, Any]:
    feedback = ctx.get("feedback")
    if feedback is None:
        return {}
    return {
        "feedback": {
            "name": feedback.name,
            "message": feedback.message,
            "page_url": feedback.url,
            "event_id": feedback.associated_event_id or None,
            "received_at": feedback.received_at.isoformat(),
            "url": ctx["url"],
        }
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
