"""Projects and their DSN keys; the database spool's rows and markers."""

import secrets
from typing import Any

from django.db import models
from django.utils.text import slugify


def new_public_key() -> str:
    # Hex only: the JS SDK rejects DSN keys with other characters.
    return secrets.token_hex(16)


class Project(models.Model):
    """A destination for events. Its numeric id is the last path segment of the DSN."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Per-project ingest rate limit (events per minute); null falls back to the installation default.
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.slug:
            self.slug = unique_slug(self.name)
        super().save(*args, **kwargs)


def unique_slug(name: str) -> str:
    base = slugify(name)[:190] or "project"
    slug, n = base, 1
    while Project.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


class ProjectKey(models.Model):
    """A DSN public key. A project may have several (rotate one without breaking the others)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="keys")
    public_key = models.CharField(max_length=32, unique=True, default=new_public_key)
    label = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    # Per-key rate limit (events per minute); null means only the project and global limits apply.
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.project}: {self.public_key}"


class SpoolEntry(models.Model):
    """One event in the DatabaseSpool (used only when BUGSINK_INGEST_SPOOL names it)."""

    spool_id = models.CharField(max_length=64, unique=True)
    blob = models.BinaryField()  # records.dump() of the event
    # A drain owns the row until then; null means waiting.
    claimed_until = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set aside: the consumer failed on this event alone while it took others (see drain.py).
    quarantined_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")  # why it was set aside

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.spool_id


class SpoolAttachmentChunk(models.Model):
    """A piece of an attachment in the DatabaseSpool (records.CHUNK_SIZE bytes but the last), so
    an attachment is written and read without holding it whole; `ref` is what the event's spool
    blob names. Rows, not files: the spool's web hosts share the database, not a disk."""

    ref = models.CharField(max_length=64)
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ref", "seq"], name="bi_spool_attachment_chunk")
        ]

    def __str__(self) -> str:
        return f"{self.ref} #{self.seq}"


class SpoolWakeup(models.Model):
    """At most one row: a drain task is enqueued and has not started yet."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"drain pending since {self.created_at}"


class SpoolSweep(models.Model):
    """At most one row: the live sweep chain (bugsink_ingest.tasks) and when it last ran."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32)
    renewed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"sweep {self.token} renewed at {self.renewed_at}"
