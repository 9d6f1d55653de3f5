from django.contrib import admin

from snappea.models import Foreman, Task, TaskResultRecord


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "task_path",
        "queue_name",
        "priority",
        "state",
        "attempts",
        "enqueued_at",
        "run_after",
        "failed_at",
    ]
    list_filter = ["state", "queue_name"]
    search_fields = ["task_path", "last_error"]
    ordering = ["-id"]
    readonly_fields = [f.name for f in Task._meta.fields]


@admin.register(TaskResultRecord)
class TaskResultRecordAdmin(admin.ModelAdmin):
    list_display = ["id", "task_path", "queue_name", "status", "attempts", "finished_at"]
    list_filter = ["status", "queue_name"]
    search_fields = ["task_path", "traceback"]
    ordering = ["-finished_at"]
    readonly_fields = [f.name for f in TaskResultRecord._meta.fields]


@admin.register(Foreman)
class ForemanAdmin(admin.ModelAdmin):
    list_display = [
        "pid",
        "hostname",
        "workers",
        "started_at",
        "heartbeat_at",
        "stopped_at",
        "running",
        "done",
        "failed",
        "throughput",
    ]
    readonly_fields = [f.name for f in Foreman._meta.fields]

    def has_add_permission(self, request):
        return False
