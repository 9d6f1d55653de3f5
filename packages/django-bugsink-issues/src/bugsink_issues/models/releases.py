"""What the web API records about releases beyond the Release rows: deploys and commits.

An installation has one organization, so a release version names one release across projects
(Sentry's model): deploys and commits belong to the version; each project that has the release has
its own Release row (models/tags.py), which is what visibility goes through.
"""

from django.db import models
from django.utils import timezone

__all__ = ["Deploy", "ReleaseCommit"]


class Deploy(models.Model):
    """A release deployed to an environment (sentry-cli `deploys new`)."""

    version = models.CharField(max_length=250, db_index=True)
    environment = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500, blank=True)
    date_started = models.DateTimeField(null=True, blank=True)
    date_finished = models.DateTimeField(default=timezone.now)
    # The projects the deploy was made for (those of the release the caller could see).
    projects = models.ManyToManyField("bugsink_ingest.Project", related_name="+")

    class Meta:
        ordering = ["-date_finished", "-id"]

    def __str__(self):
        return f"{self.version} to {self.environment}"


class ReleaseCommit(models.Model):
    """A commit of a release (sentry-cli `set-commits`: explicit refs, or the local git log)."""

    version = models.CharField(max_length=250)
    # The order the client sent them in: newest first, as git log gives them.
    position = models.PositiveIntegerField(default=0)
    commit_id = models.CharField(max_length=64)
    repository = models.CharField(max_length=200, blank=True)
    # A ref's starting point (`--commit repo@from..to`); empty for commits from the log.
    previous_commit_id = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    author_email = models.CharField(max_length=200, blank=True)
    timestamp = models.DateTimeField(null=True, blank=True)
    patch_set = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "repository", "commit_id"], name="bi_releasecommit_unique"
            )
        ]

    def __str__(self):
        return f"{self.version}: {self.commit_id[:12]}"
