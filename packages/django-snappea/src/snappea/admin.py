from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from snappea.models import ForemanHeartbeat, Task, TaskResultRecord

# ModelAdmin is generic to the type checker only (Django's class takes no subscript at run time).
if TYPE_CHECKING:
    TaskAdminBase = admin.ModelAdmin[Task]
    TaskResultRecordAdminBase = admin.ModelAdmin[TaskResultRecord]
    ForemanHeartbeatAdminBase = admin.ModelAdmin[ForemanHeartbeat]
else:
    TaskAdminBase = TaskResultRecordAdminBase = ForemanHeartbeatAdminBase = admin.ModelAdmin


@admin.register(Task)
class TaskAdmin(TaskAdminBase):
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
class TaskResultRecordAdmin(TaskResultRecordAdminBase):
    list_display = ["id", "task_path", "queue_name", "status", "attempts", "finished_at"]
    list_filter = ["status", "queue_name"]
    search_fields = ["task_path", "traceback"]
    ordering = ["-finished_at"]
    readonly_fields = [f.name for f in TaskResultRecord._meta.fields]


@admin.register(ForemanHeartbeat)
class ForemanHeartbeatAdmin(ForemanHeartbeatAdminBase):
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
    readonly_fields = [f.name for f in ForemanHeartbeat._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the foreman writes its one row
