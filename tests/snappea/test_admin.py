"""The admin lists the queue's tasks, failures with their traceback, and the foreman."""

import pytest
from django.utils import timezone

from snappea.models import ForemanHeartbeat, Task, TaskState


@pytest.mark.django_db(databases=["default", "snappea"])
def test_admin_shows_tasks_and_failures(admin_client):
    now = timezone.now()
    Task.objects.create(task_path="app.tasks.waiting", enqueued_at=now, run_after=now)
    failed = Task.objects.create(
        task_path="app.tasks.broken",
        enqueued_at=now,
        run_after=now,
        state=TaskState.FAILED,
        failed_at=now,
        attempts=1,
        last_error="Traceback ...\nValueError: the reason",
    )
    ForemanHeartbeat.objects.create(
        pid=1234, hostname="h", worker_id="h:1234", workers=4, started_at=now, heartbeat_at=now
    )

    listing = admin_client.get("/admin/snappea/task/")
    assert listing.status_code == 200
    assert b"app.tasks.waiting" in listing.content
    assert b"app.tasks.broken" in listing.content

    failed_only = admin_client.get("/admin/snappea/task/?state__exact=FAILED")
    assert b"app.tasks.waiting" not in failed_only.content

    detail = admin_client.get(f"/admin/snappea/task/{failed.pk}/change/")
    assert detail.status_code == 200
    assert b"ValueError: the reason" in detail.content

    assert b"1234" in admin_client.get("/admin/snappea/foremanheartbeat/").content
    assert admin_client.get("/admin/snappea/taskresultrecord/").status_code == 200
