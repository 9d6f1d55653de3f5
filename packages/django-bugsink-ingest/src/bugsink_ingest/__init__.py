"""django-bugsink-ingest: the Sentry SDK endpoints (auth, decoding, limits, spool, hand-off).

The public API is these modules and names; everything else is private and may change.

- `bugsink_ingest.urls`: include() it at any prefix (the envelope, store and security endpoints).
- `bugsink_ingest.views.tunnel`: the tunnel view, to mount at a path of the host site.
- `bugsink_ingest.wsgi.with_ingest_fast_path`: SDK requests past the site's middleware.
- `bugsink_ingest.handoff`: `register_consumer`, `ConsumerFunc`, `Consumer`, `get_consumer`.
- `bugsink_ingest.spool`: `Spool` (the contract), `SpooledEvent`, `SpooledAttachment`,
  `get_spool`; the classes `bugsink_ingest.spool.segments.SegmentSpool` and
  `bugsink_ingest.spool.database.DatabaseSpool`.
- `bugsink_ingest.health`: the readiness registry (`readiness_checks` on an AppConfig), the views
  `live` and `ready` (`bugsink_ingest.health_urls`), `SkipHealthChecks`.
- `bugsink_ingest.loopguard`: `LoopGuard` (sentry-sdk's before_send), `ingest_chain`,
  `in_ingest_chain`.
- `bugsink_ingest.models`: `Project`, `ProjectKey`; `bugsink_ingest.dsn.dsn_for_key`.
- The BUGSINK_INGEST_* settings (conf.py), the tasks `bugsink_ingest.tasks.drain_spool` and
  `bugsink_ingest.tasks.sweep_spool`, the commands `bugsink_create_project` and
  `bugsink_drain_spool`, the system checks `bugsink_ingest.E001`-`E006`, `W001`-`W005`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("django-bugsink-ingest")  # the one source: pyproject.toml's version
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
__all__ = ["__version__"]
