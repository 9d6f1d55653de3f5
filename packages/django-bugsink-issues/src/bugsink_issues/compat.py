"""The one import point of the Tasks API: `django.tasks` when Django ships it (6.x), else the
django-tasks backport (Django 5.2)."""

from importlib.util import find_spec

if find_spec("django.tasks") is not None:
    from django.tasks import task
else:  # pragma: no cover - exercised by the Django 5.2 test run
    from django_tasks import task

__all__ = ["task"]
