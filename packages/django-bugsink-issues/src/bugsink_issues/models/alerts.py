from django.core.exceptions import ValidationError
from django.db import models


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack"
    DISCORD = "discord", "Discord"
    MATTERMOST = "mattermost", "Mattermost"
    TEAMS = "teams", "Microsoft Teams"
    WEBHOOK = "webhook", "Generic webhook (JSON, HMAC-signed)"


class AlertChannel(models.Model):
    """Where a project's alerts go."""

    project = models.ForeignKey(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="alert_channels"
    )
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=200, blank=True)
    # Email: comma-separated addresses. Webhooks: the URL.
    target = models.TextField()
    # Generic webhook: HMAC-SHA256 key for the X-Bugsink-Signature header.
    secret = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    on_new_issue = models.BooleanField(default=True)
    on_regression = models.BooleanField(default=True)
    on_unmute = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.name or f"{self.get_kind_display()} for {self.project}"

    def clean(self):
        # Refused when saved through a form (the UI's, the admin's), with the reason, rather
        # than at the first alert. Imported here: the alerts package imports these models.
        from bugsink_issues.alerts.targets import target_problem

        problem = target_problem(self.kind, self.target)
        if problem:
            raise ValidationError({"target": problem})


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    RATE_LIMITED = "rate_limited"
    REFUSED = "refused"  # the target was not allowed (private address, bad scheme)


class AlertDelivery(models.Model):
    """One attempt to alert one channel; failures are kept so the UI can show them."""

    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="deliveries")
    issue = models.ForeignKey(
        "bugsink_issues.Issue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "new_issue", "regression", "unmute" or "test".
    trigger = models.CharField(max_length=16)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["channel", "-created_at"], name="bi_delivery_channel"),
            models.Index(fields=["status", "-created_at"], name="bi_delivery_status"),
        ]
        verbose_name_plural = "alert deliveries"

    def __str__(self):
        return f"{self.trigger} -> {self.channel}: {self.status}"
