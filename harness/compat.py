"""Which Django Tasks implementation this run has: django.tasks (6.x) or the backport (5.2)."""

from importlib.util import find_spec

HAS_DJANGO_TASKS = find_spec("django.tasks") is not None
TASKS_MODULE = "django.tasks" if HAS_DJANGO_TASKS else "django_tasks"
IMMEDIATE_BACKEND = f"{TASKS_MODULE}.backends.immediate.ImmediateBackend"
# The backport is an app of its own; django.tasks is part of Django.
TASKS_APPS = [] if HAS_DJANGO_TASKS else ["django_tasks"]
DUMMY_BACKEND = f"{TASKS_MODULE}.backends.dummy.DummyBackend"
