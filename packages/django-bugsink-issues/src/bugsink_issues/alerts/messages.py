"""What an alert says: its context, headline and the signature of signed webhooks."""

import hashlib
import hmac
import json
import time

from django.urls import NoReverseMatch, reverse

from bugsink_issues.conf import app_settings

TRIGGER_LABELS = {
    "new_issue": "New issue",
    "regression": "Regression",
    "unmute": "Unmuted",
    "test": "Test alert",
    "monitor_failed": "Monitor failed",
    "monitor_missed": "Monitor missed",
    "monitor_timeout": "Monitor timed out",
    "feedback": "User feedback",
}


def issue_url(issue):
    base = app_settings.BASE_URL.rstrip("/")
    if not base or issue is None:
        return ""
    try:
        return base + reverse("bugsink_issues:issue", args=[issue.pk])
    except NoReverseMatch:  # the host did not mount the UI's URLs
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


def signed_headers(secret, body: bytes, now=None):
    """X-Bugsink-Signature: sha256=HMAC(secret, "<timestamp>." + body); receivers should check
    the timestamp is recent to refuse replays."""
    timestamp = str(int(now if now is not None else time.time()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {"X-Bugsink-Timestamp": timestamp, "X-Bugsink-Signature": "sha256=" + digest.hexdigest()}


def encode(body) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()
