"""Uploaded artifacts: artifact bundles (source maps and minified sources, from sentry-cli and the
bundler plugins), release files (the older per-release upload) and debug files.

File contents live in the blob store on disk (bugsink_issues.artifacts.store), named by their sha1;
these rows index them: by debug id, and by release, dist and URL, which is how the digest finds the
source map of a JavaScript frame (digest/sourcemaps.py).
"""

from django.db import models
from django.utils import timezone

__all__ = ["ArtifactBundle", "ArtifactFile", "ArtifactKind", "DebugFile"]


class ArtifactKind(models.TextChoices):
    MINIFIED_SOURCE = "minified_source", "Minified source"
    SOURCE_MAP = "source_map", "Source map"
    SOURCE = "source", "Source"
    INDEXED_RAM_BUNDLE = "indexed_ram_bundle", "Indexed RAM bundle"
    OTHER = "other", "Other"


class ArtifactBundle(models.Model):
    """One assembled upload (a zip with a manifest), for one or more projects."""

    checksum = models.CharField(max_length=40, unique=True)  # sha1 of the whole zip
    bundle_id = models.CharField(max_length=36, blank=True)  # the manifest's debug_id, if any
    # The release and dist it was uploaded for (empty: bound by debug ids only).
    version = models.CharField(max_length=250, blank=True)
    dist = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    file_count = models.PositiveIntegerField(default=0)
    date_created = models.DateTimeField(default=timezone.now)
    projects = models.ManyToManyField("bugsink_ingest.Project", related_name="artifact_bundles")

    class Meta:
        ordering = ["-date_created", "-id"]

    def __str__(self):
        return f"bundle {self.checksum[:12]} ({self.file_count} files)"


class ArtifactFileQuerySet(models.QuerySet):
    def for_project(self, project_id):
        return self.filter(project_id=project_id)

    def newest_first(self):
        return self.order_by("-date_created", "-id")


class ArtifactFile(models.Model):
    """A file a project can resolve frames with: from a bundle, or uploaded alone to a release.

    One row per project the bundle was uploaded for, so a lookup is one indexed query."""

    project = models.ForeignKey("bugsink_ingest.Project", on_delete=models.CASCADE, db_index=False)
    bundle = models.ForeignKey(
        ArtifactBundle, null=True, blank=True, on_delete=models.CASCADE, related_name="files"
    )
    kind = models.CharField(max_length=24, choices=ArtifactKind.choices)
    # "~/static/app.js" (any scheme and host) or a full URL, as the client named it.
    url = models.CharField(max_length=500)
    version = models.CharField(max_length=250, blank=True)
    dist = models.CharField(max_length=64, blank=True)
    debug_id = models.CharField(max_length=36, blank=True)
    # The minified source's `Sourcemap` header: the map's URL, relative to the file's.
    sourcemap = models.CharField(max_length=500, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    checksum = models.CharField(max_length=40)  # sha1 of the content: its name in the blob store
    size = models.PositiveBigIntegerField(default=0)
    date_created = models.DateTimeField(default=timezone.now)

    objects = ArtifactFileQuerySet.as_manager()

    class Meta:
        ordering = ["url", "id"]
        indexes = [
            models.Index(fields=["project", "debug_id", "kind"], name="bi_artifact_debug_id"),
            models.Index(fields=["project", "version", "dist", "url"], name="bi_artifact_release"),
        ]

    def __str__(self):
        return f"{self.url} ({self.kind})"


class DebugFile(models.Model):
    """A native debug file (sentry-cli `debug-files upload`): kept with what it says about itself,
    for a later symbolication; nothing reads it yet."""

    project = models.ForeignKey(
        "bugsink_ingest.Project", on_delete=models.CASCADE, related_name="debug_files"
    )
    checksum = models.CharField(max_length=40)
    name = models.CharField(max_length=250)
    debug_id = models.CharField(max_length=64, blank=True)
    code_id = models.CharField(max_length=64, blank=True)
    cpu_name = models.CharField(max_length=32, blank=True)
    object_kind = models.CharField(max_length=16, blank=True)  # exe, lib, dbg, src, ...
    file_format = models.CharField(max_length=16, blank=True)  # elf, macho, pe, pdb, ...
    features = models.JSONField(default=list, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    date_created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date_created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "checksum"], name="bi_debugfile_unique")
        ]

    def __str__(self):
        return f"{self.name} {self.debug_id}"
