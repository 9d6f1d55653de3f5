from django.db import models
from django.utils import timezone

from bugsink_issues.models.fields import MicrosecondsField


class Release(models.Model):
    """A release of a project: made by the first event that names it, or through the web API
    (sentry-cli `releases new`) before any event. Ordered within its package
    (lifecycle/releases.py): by semver when every release of the package parses, else by
    creation."""

    project = models.ForeignKey(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="releases"
    )
    version = models.CharField(max_length=250)
    # "myshop" of "myshop@1.2.0"; "" for a version without a package. Only releases of one package
    # compare.
    package = models.CharField(max_length=250, blank=True)
    # The first and last event of the release; null until an event names it.
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    # When the release became known (its first event, or its creation through the API).
    date_created = models.DateTimeField(default=timezone.now)
    # From the web API (sentry-cli `releases new` / `finalize`); null: not said.
    date_started = models.DateTimeField(null=True, blank=True)
    date_released = models.DateTimeField(null=True, blank=True)
    ref = models.CharField(max_length=250, blank=True)
    url = models.URLField(max_length=500, blank=True)
    # Zero-padded semver for ordering, empty when the version is not semver (see releases.py).
    semver_sort_key = models.CharField(max_length=200, blank=True)
    # The position in the package's release order, 1 = oldest (recomputed on insert).
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="bi_release_unique")
        ]
        indexes = [
            models.Index(fields=["project", "package", "sort_order"], name="bi_release_pkg_order")
        ]

    def __str__(self):
        return self.version


class TagValue(models.Model):
    """A tag key and value as seen in a project (e.g. browser = "Chrome 120")."""

    # db_index=False: the unique (project, key, value) constraint leads with it.
    project = models.ForeignKey("bugsink_ingest.Project", on_delete=models.CASCADE, db_index=False)
    key = models.CharField(max_length=64)
    value = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "key", "value"], name="bi_tagvalue_unique")
        ]

    def __str__(self):
        return f"{self.key}={self.value}"


class IssueTagValue(models.Model):
    """How many events of an issue carried a tag value (exact, counted at digest)."""

    # db_index=False: the unique (issue, tag_value) constraint leads with it.
    issue = models.ForeignKey(
        "bugsink_issues.Issue", on_delete=models.CASCADE, related_name="tag_values", db_index=False
    )
    tag_value = models.ForeignKey(TagValue, on_delete=models.CASCADE, related_name="+")
    # Copied from TagValue so the issue page lists keys without a join.
    key = models.CharField(max_length=64)
    count = models.PositiveBigIntegerField(default=0)
    # Seven-plus rows per issue: 8-byte integers instead of 26-character SQLite text each.
    first_seen = MicrosecondsField()
    last_seen = MicrosecondsField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "tag_value"], name="bi_issuetag_unique")
        ]
        indexes = [models.Index(fields=["issue", "key", "-count"], name="bi_issuetag_key")]

    def __str__(self):
        return f"{self.tag_value}: {self.count}"
