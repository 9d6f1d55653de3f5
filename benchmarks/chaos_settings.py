"""The reference deployment's settings for chaos runs, and the only two differences.

- Retention never evicts, so every acknowledged event can still be found by its id at the end.
- The spool holds fewer events (CHAOS_SPOOL_LIMIT), so "spool full" is reached in seconds.
"""

import os

from bugsink_site.settings import *  # noqa: F403

BUGSINK_ISSUES_RETENTION_MAX_EVENTS = 10**9
_spool_limit = int(os.environ.get("CHAOS_SPOOL_LIMIT", "2000"))
