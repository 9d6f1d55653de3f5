from typing import TYPE_CHECKING

from django.contrib import admin

from bugsink_ingest.dsn import dsn_for_key
from bugsink_ingest.models import Project, ProjectKey

# The admin classes are generic for the type checker only (Django's own are not, at run time).
if TYPE_CHECKING:
    KeyInline = admin.TabularInline[ProjectKey, Project]
    ProjectModelAdmin = admin.ModelAdmin[Project]
    KeyModelAdmin = admin.ModelAdmin[ProjectKey]
else:
    KeyInline = admin.TabularInline
    ProjectModelAdmin = KeyModelAdmin = admin.ModelAdmin


class ProjectKeyInline(KeyInline):
    model = ProjectKey
    extra = 0
    fields = ("public_key", "label", "is_active", "rate_limit_per_minute", "dsn")
    readonly_fields = ("dsn",)

    @admin.display(description="DSN")
    def dsn(self, key: ProjectKey) -> str:
        return dsn_for_key(key) if key.pk else ""


@admin.register(Project)
class ProjectAdmin(ProjectModelAdmin):
    list_display = ("name", "id", "slug", "rate_limit_per_minute", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ProjectKeyInline]


@admin.register(ProjectKey)
class ProjectKeyAdmin(KeyModelAdmin):
    list_display = ("public_key", "project", "label", "is_active", "rate_limit_per_minute")
    list_filter = ("is_active",)
    search_fields = ("public_key", "label", "project__name")
    readonly_fields = ("dsn",)

    @admin.display(description="DSN")
    def dsn(self, key: ProjectKey) -> str:
        return dsn_for_key(key) if key.pk else ""
