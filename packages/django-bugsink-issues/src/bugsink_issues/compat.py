"""The one import point of the Tasks API: `django.tasks` when Django ships it (6.x), else the
django-tasks backport (Django 5.2)."""

from importlib.util import find_spec
from typing import TYPE_CHECKING

# The type checker runs on Django 6.x and reads the django.tasks branch only.
if TYPE_CHECKING or find_spec("django.tasks") is not None:
    from django.tasks import task
else:  # pragma: no cover - exercised by the Django 5.2 test run
    from django_tasks import task

__all__ = ["task"]
