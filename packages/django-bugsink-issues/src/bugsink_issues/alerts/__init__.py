"""Alerts: email and webhooks (Slack, Discord, Mattermost, Microsoft Teams, signed JSON).

New issues, regressions and unmutes enqueue `alerts.tasks.send_issue_alerts` after the digest
commits (receivers.py). `send_test(channel)` sends a test message right away. Each kind of channel
has a sender (channels.py): subclass `AlertSender` (or `WebhookSender` for a JSON POST) and
`register_sender(kind, sender)` to change how a kind is delivered.
"""

from bugsink_issues.alerts.channels import AlertSender, WebhookSender, register_sender, sender_for
from bugsink_issues.alerts.delivery import send_test

__all__ = ["AlertSender", "WebhookSender", "register_sender", "send_test", "sender_for"]
