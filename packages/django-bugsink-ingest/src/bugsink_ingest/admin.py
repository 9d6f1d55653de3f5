from django.contrib import admin

from bugsink_ingest.dsn import dsn_for_key
from bugsink_ingest.models import Project, ProjectKey


class ProjectKeyInline(admin.TabularInline):
    model = ProjectKey
    extra = 0
    fields = ("public_key", "label", "is_active", "rate_limit_per_minute", "dsn")
    readonly_fields = ("dsn",)

    @admin.display(description="DSN")
    def dsn(self, key):
        return dsn_for_key(key) if key.pk else ""


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "slug", "rate_limit_per_minute", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ProjectKeyInline]


@admin.register(ProjectKey)
class ProjectKeyAdmin(admin.ModelAdmin):
    list_display = ("public_key", "project", "label", "is_active", "rate_limit_per_minute")
    list_filter = ("is_active",)
    search_fields = ("public_key", "label", "project__name")
    readonly_fields = ("dsn",)

    @admin.display(description="DSN")
    def dsn(self, key):
        return dsn_for_key(key) if key.pk else ""
