"""One "host" charging events to the rate limits: `python -m tests.ingest.ratelimit_host URL
START LIMIT TRIES PACE`. Starts charging one event every PACE seconds at the wall-clock time START
(so several hosts overlap), TRIES times against a project limit of LIMIT, and prints how many were
let through and the dropped count it sees.
URL is a redis:// URL (shared counters) or a file path (the per-machine SQLite default)."""

import sys
import time

import django
from django.conf import settings


def main(target, start, limit, tries, pace):
    store = (
        {"BUGSINK_INGEST_RATE_LIMIT_REDIS_URL": target}
        if target.startswith("redis://")
        else {"BUGSINK_INGEST_RATE_LIMIT_DB": target}
    )
    settings.configure(
        SECRET_KEY="ratelimit-host-test",
        INSTALLED_APPS=["django.contrib.contenttypes", "bugsink_ingest"],
        **store,
    )
    django.setup()
    from bugsink_ingest import ratelimit
    from bugsink_ingest.auth import KeyInfo

    key = KeyInfo(
        key_id=1, public_key="k", project_id=7, is_active=True, key_limit=None, project_limit=limit
    )
    time.sleep(max(0.0, start - time.time()))
    allowed = 0
    for _ in range(tries):
        allowed += ratelimit.check_and_count(key, 1).allowed
        time.sleep(pace)
    time.sleep(1)  # the other hosts finish (each syncs its drops at once)
    print(allowed, ratelimit.dropped_count(7))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
