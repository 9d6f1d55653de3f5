"""The queue's tables: waiting/running/failed tasks, finished results, and the foreman's heartbeat.

The hot paths (enqueue, claim, finish) use plain SQL on these tables (see queue.py); the models give
migrations, the admin and readable queries everywhere else.
"""

from django.db import models


class TaskState(models.TextChoices):
    READY = "READY", "Ready"
    RUNNING = "RUNNING", "Running"  # claimed by the foreman
    FAILED = "FAILED", "Failed"  # out of attempts; kept for SNAPPEA_KEEP_FAILED_FOR


class Task(models.Model):
    # AUTOINCREMENT on SQLite: ids are never reused, so they double as result ids and FIFO order.
    id = models.BigAutoField(primary_key=True)
    task_path = models.CharField(max_length=255)
    queue_name = models.CharField(max_length=100, default="default")
    priority = models.SmallIntegerField(default=0)
    backend_name = models.CharField(max_length=100, default="default")
    args_kwargs = models.TextField(default='{"args": [], "kwargs": {}}')  # JSON
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.READY)
    enqueued_at = models.DateTimeField()
    # NULL: due at once. Only a deferred task (the Tasks API's run_after) or a retry waiting out its
    # backoff has a time here: an undeferred task must not wait on a wall clock that may be stepped.
    run_after = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # When it last failed: FAILED rows (for pruning) and READY rows waiting for a retry (to spot a
    # retry scheduled while the clock read later than now, see queue.rebase_future_retries).
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "snappea_task"
        indexes = [
            # The claim query: ready tasks, highest priority first, then oldest first.
            models.Index(
                fields=["-priority", "id"],
                name="snappea_task_ready_idx",
                condition=models.Q(state="READY"),
            ),
            models.Index(fields=["state", "run_after"], name="snappea_task_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task_path} #{self.id} ({self.state})"


class TaskResultRecord(models.Model):
    """A finished task, kept only when SNAPPEA_RESULTS is on (for SNAPPEA_KEEP_RESULTS_FOR)."""

    id = models.BigIntegerField(primary_key=True)  # the task's id
    task_path = models.CharField(max_length=255)
    queue_name = models.CharField(max_length=100)
    priority = models.SmallIntegerField(default=0)
    backend_name = models.CharField(max_length=100)
    args_kwargs = models.TextField()
    status = models.CharField(max_length=10)  # SUCCESSFUL or FAILED
    enqueued_at = models.DateTimeField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=1)
    return_value = models.TextField(blank=True, default="null")  # JSON
    exception_class_path = models.CharField(max_length=255, blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    worker_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        db_table = "snappea_result"

    def __str__(self) -> str:
        return f"{self.task_path} #{self.id} ({self.status})"


class ForemanHeartbeat(models.Model):
    """The heartbeat of this queue database's one foreman (a single row, id 1): who it is, when it
    last beat, and its counters. The foreman writes it; status and the admin read it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    pid = models.IntegerField()
    hostname = models.CharField(max_length=255)
    worker_id = models.CharField(max_length=64)
    workers = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    running = models.PositiveIntegerField(default=0)
    # When the longest-running task in a worker started (None: all workers idle).
    oldest_running_started_at = models.DateTimeField(null=True, blank=True)
    done = models.BigIntegerField(default=0)
    failed = models.BigIntegerField(default=0)
    throughput = models.FloatField(default=0.0)  # tasks/s between the last two heartbeats

    class Meta:
        db_table = "snappea_foreman_heartbeat"

    def __str__(self) -> str:
        return f"foreman pid {self.pid} on {self.hostname}"
