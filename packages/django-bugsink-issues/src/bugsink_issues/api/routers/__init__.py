"""One router per resource; api/instance.py mounts them all on the one NinjaAPI."""
