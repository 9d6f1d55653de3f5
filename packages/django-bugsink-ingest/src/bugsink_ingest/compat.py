"""The Django Tasks API, from Django itself where it ships it (6.0+), else the django-tasks backport.

The one place the app imports it from.
"""

try:
    from django.tasks import Task, task
    from django.tasks.backends.immediate import ImmediateBackend
except ImportError:  # Django 5.2: the backport
    from django_tasks import task  # type: ignore[no-redef]
    from django_tasks.backends.immediate import ImmediateBackend  # type: ignore[assignment]
    from django_tasks.base import Task  # type: ignore[assignment]

__all__ = ["ImmediateBackend", "Task", "task"]
