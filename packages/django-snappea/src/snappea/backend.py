"""SnappeaBackend: a Django Tasks backend that writes tasks to the queue's own SQLite file."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from django.core.checks import CheckMessage
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.utils import timezone

from snappea import queue
from snappea.compat import BaseTaskBackend, Task, TaskResult, TaskResultDoesNotExist, task_enqueued
from snappea.conf import backend_settings, queue_alias
from snappea.results import (
    args_kwargs_for,
    enqueued_result,
    result_from_record,
    result_from_task_row,
    set_result_id,
)
from snappea.sqlite import wake_file_path
from snappea.wakeup import wake_foreman

if TYPE_CHECKING:
    from snappea.results import LoadedResult

P = ParamSpec("P")
R = TypeVar("R")


class SnappeaBackend(BaseTaskBackend):
    supports_defer = True
    supports_async_task = True
    supports_priority = True

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        # OPTIONS win over the SNAPPEA_ settings, so two backends can differ; the foreman reads
        # a task's backend the same way (conf.backend_settings_for).
        self.backend_settings, self.settings_problems = backend_settings(alias, self.options)
        self.supports_get_result = self.backend_settings.results
        self._wake_file: tuple[object, Path] | None = None

    def _refuse_if_misconfigured(self) -> None:
        if self.settings_problems:
            raise ImproperlyConfigured(self.settings_problems[0].message)

    def enqueue(
        self, task: Task[P, R], args: Sequence[object], kwargs: Mapping[str, object]
    ) -> TaskResult[P, R]:
        self._refuse_if_misconfigured()
        self.validate_task(task)
        args_kwargs = args_kwargs_for(args, kwargs)
        now = timezone.now()
        result = enqueued_result(task, args_kwargs, now)
        payload = json.dumps(args_kwargs, separators=(",", ":"))
        write = partial(self._insert_and_wake, task, payload, now, result)
        database = self.backend_settings.on_commit_database
        on_commit = self.backend_settings.enqueue_on_commit
        if on_commit and transaction.get_connection(database).in_atomic_block:
            transaction.on_commit(write, using=database)
        else:
            write()
        return result

    def _insert_and_wake(
        self, task: Task[P, R], payload: str, enqueued_at: datetime, result: TaskResult[P, R]
    ) -> None:
        task_id = queue.insert_task(
            task.module_path,
            task.queue_name,
            task.priority,
            self.alias,
            payload,
            enqueued_at,
            task.run_after,  # None: due at once, whatever the wall clock does meanwhile
        )
        set_result_id(result, task_id)
        alias = queue_alias()
        if transaction.get_connection(alias).in_atomic_block:
            # Inside a transaction on the queue database the row is not visible until it commits.
            transaction.on_commit(self._wake, using=alias)
        else:
            self._wake()
        task_enqueued.send(type(self), task_result=result)

    def _wake(self) -> None:
        # Cached per database file name: resolving the path costs more than the wake-up itself.
        name = connections[queue_alias()].settings_dict["NAME"]
        if self._wake_file is None or self._wake_file[0] != name:
            self._wake_file = (name, wake_file_path())
        wake_foreman(self._wake_file[1])

    def get_result(self, result_id: str) -> LoadedResult:
        self._refuse_if_misconfigured()
        if not self.backend_settings.results:
            raise NotImplementedError(
                "Results are off: set SNAPPEA_RESULTS = True (or OPTIONS['RESULTS']) to keep them."
            )
        from snappea.models import Task as TaskRow
        from snappea.models import TaskResultRecord, TaskState

        try:
            task_id = int(result_id)
        except (TypeError, ValueError):
            raise TaskResultDoesNotExist(result_id)
        # The task row first: the foreman deletes it and writes the result in one transaction,
        # so a missing row means the result is already there (or never will be).
        row = TaskRow.objects.filter(id=task_id).first()
        if row is None or row.state == TaskState.FAILED:
            record = TaskResultRecord.objects.filter(id=task_id).first()
            if record is not None:
                return result_from_record(record)
        if row is None:
            raise TaskResultDoesNotExist(result_id)
        return result_from_task_row(row)

    def check(self, **kwargs: object) -> list[CheckMessage]:
        from snappea.checks import check_backend

        return [*super().check(**kwargs), *check_backend(self)]
