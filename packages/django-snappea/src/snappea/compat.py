"""The one import point of the Tasks API in snappea: `django.tasks` where Django ships it (6.0 and
later), else the `django-tasks` backport (Django 5.2). No other snappea module imports either."""

from importlib.util import find_spec
from typing import TYPE_CHECKING

MISSING_TASKS_API = (
    "snappea needs Django's Tasks API: Django 6.0 and later ship it as django.tasks; on Django 5.2 "
    "install the backport, `pip install 'django-tasks>=0.12'` (a dependency of django-snappea, so "
    "reinstalling django-snappea brings it too), and add 'django_tasks' to INSTALLED_APPS."
)

# The type checker sees Django's own module; at run time Django's wins where it exists.
if TYPE_CHECKING or find_spec("django.tasks") is not None:
    from django.tasks import task_backends
    from django.tasks.backends.base import BaseTaskBackend
    from django.tasks.base import Task, TaskContext, TaskError, TaskResult, TaskResultStatus
    from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
    from django.tasks.signals import task_enqueued, task_finished, task_started
    from django.utils.json import normalize_json
else:  # pragma: no cover - exercised by the Django 5.2 test run
    try:
        from django_tasks import task_backends
    except ImportError as exc:
        raise ImportError(MISSING_TASKS_API) from exc
    from django_tasks.backends.base import BaseTaskBackend
    from django_tasks.base import Task, TaskContext, TaskError, TaskResult, TaskResultStatus
    from django_tasks.exceptions import InvalidTaskError as InvalidTask
    from django_tasks.exceptions import TaskResultDoesNotExist
    from django_tasks.signals import task_enqueued, task_finished, task_started
    from django_tasks.utils import normalize_json

__all__ = [
    "BaseTaskBackend",
    "InvalidTask",
    "Task",
    "TaskContext",
    "TaskError",
    "TaskResult",
    "TaskResultDoesNotExist",
    "TaskResultStatus",
    "normalize_json",
    "task_backends",
    "task_enqueued",
    "task_finished",
    "task_started",
]
