"""django-bugsink-ingest: the Sentry SDK endpoints (auth, decoding, limits, spool, hand-off)."""
