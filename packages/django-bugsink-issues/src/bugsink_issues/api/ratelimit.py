"""Per-token rate limiting: fixed one-minute windows counted in a Django cache.

The cache is BUGSINK_ISSUES_API_RATE_LIMIT_CACHE. A per-process cache counts per worker process (N
Gunicorn workers allow N times the limit); a shared cache counts per installation. The limit is a
guard against a runaway script, not an accounting tool, so either is acceptable.
"""

import time

from django.core.cache import caches

from bugsink_issues.api.errors import RateLimited
from bugsink_issues.conf import app_settings

__all__ = ["check_rate_limit"]

WINDOW_SECONDS = 60


def check_rate_limit(identity, now=None):
    """Count one request of `identity` ("token:12", "user:3"); RateLimited past the limit."""
    limit = app_settings.API_RATE_LIMIT_PER_MINUTE
    if not limit:
        return
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"bugsink_issues.api.rate:{identity}:{window}"
    cache = caches[app_settings.API_RATE_LIMIT_CACHE]
    # add() then incr(): atomic on caches that implement incr atomically (all but the dummy).
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add() and incr()
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    if count > limit:
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
        raise RateLimited(retry_after)
