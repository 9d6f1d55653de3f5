"""What an alert says, per channel kind."""

import hashlib
import hmac
import json
import time

from bugsink_issues.conf import app_settings

TRIGGER_LABELS = {
    "new_issue": "New issue",
    "regression": "Regression",
    "unmute": "Unmuted",
    "test": "Test alert",
}


def issue_url(issue):
    base = app_settings.BASE_URL.rstrip("/")
    if not base or issue is None:
        return ""
    try:
        from django.urls import NoReverseMatch, reverse

        try:
            return base + reverse("bugsink_issues:issue", args=[issue.pk])
        except NoReverseMatch:
            return ""
    except ImportError:  # pragma: no cover
        return ""


def alert_context(channel, issue, trigger):
    project = channel.project
    return {
        "trigger": trigger,
        "trigger_label": TRIGGER_LABELS.get(trigger, trigger),
        "project": project,
        "issue": issue,
        "title": issue.title if issue else "Alerts from Bugsink reach this channel",
        "culprit": issue.culprit if issue else "",
        "url": issue_url(issue),
    }


def headline(ctx):
    return f"[{ctx['project'].name}] {ctx['trigger_label']}: {ctx['title']}"


def webhook_body(kind, ctx):
    text = headline(ctx)
    detail = ctx["culprit"]
    url = ctx["url"]
    if kind in ("slack", "mattermost"):
        lines = [f"*{text}*" if kind == "slack" else f"**{text}**"]
        if detail:
            lines.append(detail)
        if url:
            lines.append(url)
        return {"text": "\n".join(lines)}
    if kind == "discord":
        embed = {"title": text[:256], "description": detail[:4000]}
        if url:
            embed["url"] = url
        return {"content": text[:2000], "embeds": [embed]}
    if kind == "teams":
        body = [
            {"type": "TextBlock", "text": text, "weight": "Bolder", "wrap": True},
        ]
        if detail:
            body.append({"type": "TextBlock", "text": detail, "wrap": True, "isSubtle": True})
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        }
        if url:
            card["actions"] = [{"type": "Action.OpenUrl", "title": "Open issue", "url": url}]
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        }
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
            "url": url,
        },
    }


def signed_headers(secret, body: bytes, now=None):
    """X-Bugsink-Signature: sha256=HMAC(secret, "<timestamp>." + body); receivers should check
    the timestamp is recent to refuse replays."""
    timestamp = str(int(now if now is not None else time.time()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {"X-Bugsink-Timestamp": timestamp, "X-Bugsink-Signature": "sha256=" + digest.hexdigest()}


def encode(body) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()
