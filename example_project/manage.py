#!/usr/bin/env python
"""The reference deployment's manage.py: `python example_project/manage.py serve` runs everything."""

import os
import sys
from pathlib import Path


def main():
    # bugsink_site lives beside this file; make it importable from any working directory, and tell
    # the processes `serve` starts (Gunicorn, the worker) where to find it.
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (here, os.environ.get("PYTHONPATH", "")) if p
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink_site.settings")
    if sys.argv[1:2] == ["runworker"]:
        # The background worker runs tasks only: settings leave out what only pages need (SSO).
        os.environ["BUGSINK_PROCESS"] = "worker"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
