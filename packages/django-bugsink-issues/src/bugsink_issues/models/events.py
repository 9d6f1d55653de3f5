from django.db import models


class EventQuerySet(models.QuerySet):
    """Navigation among the events of one issue (`issue.events.first_event()`), by their sequence
    number in the issue; the (issue, issue_sequence) index serves each of these."""

    def first_event(self):
        return self.order_by("issue_sequence").first()

    def last_event(self):
        return self.order_by("-issue_sequence").first()

    def previous_event(self, event):
        return self.filter(issue_sequence__lt=event.issue_sequence).last_event()

    def next_event(self, event):
        return self.filter(issue_sequence__gt=event.issue_sequence).first_event()

    def matching(self, text):
        """Events whose id starts with `text`, whose release or environment is `text`, or whose
        user or title contains it (the issue page's event search)."""
        return self.filter(
            models.Q(event_id__startswith=text.lower().replace("-", ""))
            | models.Q(release=text)
            | models.Q(environment=text)
            | models.Q(user_label__icontains=text)
            | models.Q(title__icontains=text)
        )

    def with_event_id(self, event_id):
        """The event the SDK gave this id (any spelling: dashes, upper case), or None."""
        return self.filter(event_id=event_id.replace("-", "").lower()).first()


class Event(models.Model):
    """One stored event. The full payload is zstd-compressed; list columns are copied out."""

    # db_index=False: the composite indexes below lead with these columns and serve the same
    # lookups (and cascades); a single-column copy costs bytes per event and buys nothing.
    project = models.ForeignKey("bugsink_ingest.Project", on_delete=models.CASCADE, db_index=False)
    issue = models.ForeignKey(
        "bugsink_issues.Issue", on_delete=models.CASCADE, related_name="events", db_index=False
    )
    grouping = models.ForeignKey(
        "bugsink_issues.Grouping", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    event_id = models.CharField(max_length=32)
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    # Sequence number within the issue, 1-based (event #N of the issue).
    issue_sequence = models.PositiveBigIntegerField(default=0)

    title = models.CharField(max_length=255)
    culprit = models.CharField(max_length=255, blank=True)
    level = models.CharField(max_length=10, default="error")
    platform = models.CharField(max_length=64, blank=True)
    release = models.CharField(max_length=250, blank=True)
    environment = models.CharField(max_length=64, blank=True)
    server_name = models.CharField(max_length=255, blank=True)
    transaction = models.CharField(max_length=200, blank=True)
    user_label = models.CharField(max_length=200, blank=True)
    sdk_name = models.CharField(max_length=100, blank=True)
    sdk_version = models.CharField(max_length=50, blank=True)

    # Normalised payload as zstd (see storage.py), and the size of the JSON before compression.
    payload = models.BinaryField()
    payload_size = models.PositiveIntegerField(default=0)
    # Compression dictionary id used (0 = none), so a dictionary can change without rewriting rows.
    payload_dict_id = models.PositiveSmallIntegerField(default=0)
    # Parts of the payload that could not be normalised: [{"path": ..., "problem": ...}].
    problems = models.JSONField(default=list, blank=True)
    # Retention keeps these: the first event of an issue and those that changed its state.
    is_pinned = models.BooleanField(default=False)
    # Its document in the full-text index (models/fulltext/; a plain column, as the index's
    # tables are not models): the delete trigger counts the event out of it.
    search_doc_id = models.BigIntegerField(null=True, blank=True, editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "event_id"], name="bi_event_unique_id")
        ]
        indexes = [
            models.Index(fields=["issue", "-timestamp"], name="bi_event_issue_time"),
            models.Index(fields=["issue", "issue_sequence"], name="bi_event_issue_seq"),
            models.Index(fields=["project", "-timestamp"], name="bi_event_project_time"),
            models.Index(fields=["project", "is_pinned", "id"], name="bi_event_retention"),
        ]

    def __str__(self):
        return f"{self.event_id} ({self.title})"


class EventAttachment(models.Model):
    """An attachment of an event, its bytes in EventAttachmentChunk rows (zstd, a MiB each before
    compression), so it is written and read without holding it whole; it goes with its event
    (retention, deletion) by cascade."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, blank=True)
    attachment_type = models.CharField(max_length=64, blank=True)
    # Rows stored before chunks held the whole attachment here (zstd); empty since.
    data = models.BinaryField(default=b"", blank=True)
    size = models.PositiveBigIntegerField()  # bytes as sent, the real size
    sha256 = models.CharField(max_length=64, blank=True)  # hex, of the bytes as sent
    chunk_count = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.filename


class EventAttachmentChunk(models.Model):
    """One piece of an attachment, `seq` from 0, zstd-compressed on its own."""

    attachment = models.ForeignKey(
        EventAttachment, on_delete=models.CASCADE, related_name="chunks", db_index=False
    )
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            # Serves the reads in order and the cascade from the attachment.
            models.UniqueConstraint(fields=["attachment", "seq"], name="bi_attachment_chunk_seq")
        ]

    def __str__(self):
        return f"{self.attachment_id} #{self.seq}"


class UserFeedback(models.Model):
    """User feedback (the feedback item or an old-style user report), linked to its event if known."""

    # db_index=False: the unique (project, feedback_id) constraint serves project lookups.
    project = models.ForeignKey("bugsink_ingest.Project", on_delete=models.CASCADE, db_index=False)
    feedback_id = models.CharField(max_length=32)
    # The event the user reported on; the Event/Issue links fill in when that event is digested.
    associated_event_id = models.CharField(max_length=32, blank=True)
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL)
    issue = models.ForeignKey(
        "bugsink_issues.Issue",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
        db_index=False,  # bi_feedback_issue leads with it
    )
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    url = models.CharField(max_length=1000, blank=True)
    received_at = models.DateTimeField()
    payload = models.BinaryField()
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "feedback_id"], name="bi_feedback_unique_id")
        ]
        indexes = [
            models.Index(fields=["project", "associated_event_id"], name="bi_feedback_event"),
            models.Index(fields=["issue", "-received_at"], name="bi_feedback_issue"),
        ]

    def __str__(self):
        return f"feedback {self.feedback_id}"
