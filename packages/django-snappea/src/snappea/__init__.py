"""django-snappea: a Django Tasks backend on SQLite, and the foreman that runs its tasks.

The public API, all of it (every other module and name is private and may change in any release):

- ``snappea.backend.SnappeaBackend``: the Tasks backend, for ``TASKS[alias]["BACKEND"]``
- ``snappea.routers.SnappeaRouter``: the database router, first in ``DATABASE_ROUTERS``
- ``snappea.status.foreman_status``: the foreman's state and the queue's figures
- ``snappea.health.foreman_readiness``: ready or not, for any health framework to call
- ``manage.py runsnappea`` (the foreman) and ``manage.py snappea_status``
- the ``SNAPPEA_*`` settings and a backend's ``OPTIONS`` (the README's "Settings")
- ``snappea.__version__``
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("django-snappea")  # the one source: pyproject.toml's version
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
