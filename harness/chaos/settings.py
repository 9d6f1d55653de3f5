"""The reference deployment's settings for chaos runs, and how they differ.

- Retention never evicts, so every acknowledged event can still be found by its id at the end.
- Ingest refuses (429) at a smaller backlog (CHAOS_SPOOL_LIMIT, default 2,000 events instead of
  100,000), so "spool full" is reached in seconds.
"""

import os

from bugsink_site.settings import *  # noqa: F403

BUGSINK_ISSUES_RETENTION_MAX_EVENTS = 10**9
BUGSINK_INGEST_MAX_BACKLOG = int(os.environ.get("CHAOS_SPOOL_LIMIT", "2000"))

# The CI version shortens how long a dead drain's claimed batch waits before it is retried (the
# default, 300 s, is what the full chaos run measures and BENCHMARKS.md reports).
if os.environ.get("CHAOS_SPOOL_CLAIM_SECONDS"):
    BUGSINK_INGEST_SPOOL_CLAIM_SECONDS = float(os.environ["CHAOS_SPOOL_CLAIM_SECONDS"])
