"""Who has looked at an issue, and when (Sentry's `hasSeen` and `seenBy`)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["IssueSeen"]


class IssueSeenQuerySet(models.QuerySet):
    def mark(self, issue, user, at=None):
        """`user` has seen `issue` now (a no-op for anonymous callers and organization tokens)."""
        if user is None or not getattr(user, "pk", None):
            return
        self.update_or_create(
            issue_id=issue.pk, user_id=user.pk, defaults={"last_seen_at": at or timezone.now()}
        )

    def unmark(self, issue, user):
        if user is not None and getattr(user, "pk", None):
            self.filter(issue_id=issue.pk, user_id=user.pk).delete()

    def has_seen(self, issue, user):
        """Has `user` looked at `issue` since its last event?"""
        if user is None or not getattr(user, "pk", None):
            return False
        return self.filter(
            issue_id=issue.pk, user_id=user.pk, last_seen_at__gte=issue.last_seen
        ).exists()


class IssueSeen(models.Model):
    # db_index=False: the unique (issue, user) constraint leads with it.
    issue = models.ForeignKey(
        "bugsink_issues.Issue", on_delete=models.CASCADE, related_name="seen", db_index=False
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_seen_at = models.DateTimeField()

    objects = IssueSeenQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "user"], name="bi_issueseen_unique")
        ]
        verbose_name_plural = "issue seen"

    def __str__(self):
        return f"{self.user} saw {self.issue_id} at {self.last_seen_at}"
