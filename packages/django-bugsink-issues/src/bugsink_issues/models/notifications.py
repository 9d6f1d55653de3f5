"""Per-user alert e-mail: which projects' alerts reach a user's own address, and what was sent.

A project's alert channels (models.alerts) go to addresses and webhooks its admins set; these are
each user's own choice, for the projects they can see (alerts/subscriptions.py delivers them).
"""

from django.conf import settings
from django.db import models

from bugsink_issues.models.alerts import DeliveryStatus

__all__ = ["AlertSubscription", "SubscriptionDelivery"]


class AlertSubscription(models.Model):
    """A user has one project's alerts (issues, feedback, cron monitors) e-mailed to them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="bugsink_alert_subscriptions",
    )
    project = models.ForeignKey(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="bi_subscription_unique")
        ]

    def __str__(self):
        return f"{self.user} <- alerts of {self.project}"


class SubscriptionDelivery(models.Model):
    """One alert e-mailed to one subscriber; the hourly cap counts these (a week is kept)."""

    subscription = models.ForeignKey(
        AlertSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    issue = models.ForeignKey(
        "bugsink_issues.Issue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="bi_subdelivery_recent")
        ]
        verbose_name_plural = "subscription deliveries"

    def __str__(self):
        return f"{self.trigger} -> {self.subscription.user}: {self.status}"
