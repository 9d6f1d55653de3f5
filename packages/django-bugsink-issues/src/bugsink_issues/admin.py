"""Admin for the core models: read-mostly views for operators (the UI is where users triage)."""

from django.contrib import admin

from bugsink_issues.models import (
    AlertChannel,
    AlertDelivery,
    Event,
    EventAttachment,
    Grouping,
    Issue,
    IssueHistory,
    ProjectSettings,
    Release,
    UserFeedback,
)


class GroupingInline(admin.TabularInline):
    model = Grouping
    extra = 0
    fields = readonly_fields = ("key", "version", "parts", "created_at")
    can_delete = False


class HistoryInline(admin.TabularInline):
    model = IssueHistory
    extra = 0
    fields = readonly_fields = (
        "created_at",
        "kind",
        "user",
        "reason",
        "comment",
        "release",
        "event_id",
    )
    can_delete = False


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "project",
        "status",
        "level",
        "event_count",
        "stored_event_count",
        "last_seen",
    ]
    list_filter = ["status", "level", "project"]
    search_fields = ["title", "culprit", "grouping_key"]
    list_select_related = ["project"]
    readonly_fields = [
        "project",
        "grouping_key",
        "first_seen",
        "last_seen",
        "event_count",
        "stored_event_count",
        "regression_count",
        "last_regressed_at",
        "mute_window_hits",
    ]
    inlines = [GroupingInline, HistoryInline]
    show_full_result_count = False  # COUNT(*) over a million rows on every page is not free


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "title", "project", "level", "release", "timestamp", "is_pinned"]
    list_filter = ["level", "is_pinned", "project"]
    search_fields = ["event_id", "title"]
    list_select_related = ["project"]
    exclude = ["payload"]
    readonly_fields = [
        "project",
        "issue",
        "grouping",
        "event_id",
        "timestamp",
        "received_at",
        "issue_sequence",
        "payload_size",
        "payload_dict_id",
        "problems",
        "payload_json",
    ]
    show_full_result_count = False

    @admin.display(description="payload")
    def payload_json(self, obj):
        import json

        from django.utils.html import format_html

        from bugsink_issues.digest.storage import load_payload

        return format_html("<pre>{}</pre>", json.dumps(load_payload(obj), indent=2)[:200_000])


@admin.register(ProjectSettings)
class ProjectSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "project",
        "retention_max_events",
        "retention_max_age_days",
        "grouping_version",
        "stored_event_count",
        "alerts_enabled",
    ]
    readonly_fields = ["stored_event_count", "last_age_sweep_at"]

    def get_changeform_initial_data(self, request):
        # A row added here starts like one ProjectSettings.objects.for_project() makes.
        return {
            **ProjectSettings.objects.new_row_defaults(),
            **super().get_changeform_initial_data(request),
        }


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["version", "project", "sort_order", "first_seen", "last_seen"]
    list_filter = ["project"]
    search_fields = ["version"]


class DeliveryInline(admin.TabularInline):
    model = AlertDelivery
    extra = 0
    fields = readonly_fields = (
        "created_at",
        "trigger",
        "status",
        "response_code",
        "error",
        "issue",
    )
    can_delete = False
    max_num = 0


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "project",
        "kind",
        "is_active",
        "on_new_issue",
        "on_regression",
        "on_unmute",
    ]
    list_filter = ["kind", "is_active", "project"]
    inlines = [DeliveryInline]
    actions = ["send_test_alert"]

    @admin.action(description="Send a test alert")
    def send_test_alert(self, request, queryset):
        from bugsink_issues.alerts import send_test

        for channel in queryset:
            delivery = send_test(channel)
            self.message_user(request, f"{channel}: {delivery.status} {delivery.error}".strip())


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "trigger", "status", "response_code", "error"]
    list_filter = ["status", "trigger"]
    readonly_fields = [
        "channel",
        "issue",
        "trigger",
        "status",
        "created_at",
        "finished_at",
        "response_code",
        "error",
    ]


@admin.register(UserFeedback)
class UserFeedbackAdmin(admin.ModelAdmin):
    list_display = ["received_at", "project", "name", "email", "message", "issue"]
    search_fields = ["name", "email", "message", "associated_event_id"]
    exclude = ["payload"]
    readonly_fields = ["event", "issue"]


@admin.register(EventAttachment)
class EventAttachmentAdmin(admin.ModelAdmin):
    """Attachments, read-only, each with a download that streams it a chunk at a time."""

    list_display = ["filename", "event", "attachment_type", "size", "download_link"]
    list_select_related = ["event"]
    search_fields = ["filename", "event__event_id"]
    exclude = ["data"]
    readonly_fields = [
        "event", "filename", "content_type", "attachment_type", "size", "sha256", "chunk_count",
        "download_link",
    ]  # fmt: skip
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        from django.urls import path

        download = self.admin_site.admin_view(self.download)
        return [
            path("<int:pk>/download/", download, name="bugsink_issues_eventattachment_download"),
            *super().get_urls(),
        ]

    @admin.display(description="download")
    def download_link(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        url = reverse("admin:bugsink_issues_eventattachment_download", args=[obj.pk])
        return format_html('<a href="{}">download</a>', url)

    def download(self, request, pk):
        from django.http import Http404, StreamingHttpResponse

        from bugsink_issues.digest.attachments import attachment_chunks

        attachment = self.get_object(request, str(pk))
        if attachment is None or not self.has_view_permission(request, attachment):
            raise Http404("No such attachment.")
        # octet-stream whatever the SDK said: an attachment is never rendered by the browser.
        response = StreamingHttpResponse(
            attachment_chunks(attachment), content_type="application/octet-stream"
        )
        response["Content-Length"] = str(attachment.size)
        response["Content-Disposition"] = _content_disposition(attachment.filename)
        response["X-Content-Type-Options"] = "nosniff"
        return response


def _content_disposition(filename):
    from urllib.parse import quote

    ascii_name = "".join(
        c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in filename
    )
    ascii_name = ascii_name or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
