"""Item types this tracker never keeps, and how the SDKs are told to stop sending them.

An errors-first tracker has no use for performance, log, profile, replay or metric data. Skipping
them costs nothing per item (the parser streams past them), but every SDK that sends them pays for
the requests. So an answer to an envelope that carried any of them names their rate-limit
categories in `X-Sentry-Rate-Limits` (what Sentry's ingest answers for a category without quota):
`<seconds>:<category>;<category>:<scope>:<reason>`. The SDKs drop items of a named category
before sending until the seconds are over; every other category (errors, sessions, ...) goes on.
"""

from collections.abc import Iterable

# Item type -> the SDKs' data category for it (the names sentry-python's and the JavaScript
# SDKs' transports look up in the header).
UNKEPT_CATEGORIES = {
    "transaction": "transaction",
    "span": "span",
    "otel_span": "span",
    "log": "log_item",
    "otel_log": "log_item",
    "profile": "profile",
    "profile_chunk": "profile_chunk",
    "replay_event": "replay",
    "replay_recording": "replay",
    "replay_video": "replay",
    "statsd": "metric_bucket",
    "metric_buckets": "metric_bucket",
    "trace_metric": "trace_metric",
}
# Long enough that an SDK sends one envelope of these an hour at most, short enough that a
# tracker that starts keeping a category one day is not ignored for long.
RETRY_AFTER_SECONDS = 3600
REASON = "not_kept"


def unkept_categories(item_types: Iterable[str]) -> tuple[str, ...]:
    """The data categories of the given item types that are never kept, sorted, no repeats."""
    return tuple(sorted({UNKEPT_CATEGORIES[t] for t in item_types if t in UNKEPT_CATEGORIES}))


def rate_limits_header(item_types: Iterable[str]) -> str | None:
    """The X-Sentry-Rate-Limits group for the unkept item types seen (None: there were none)."""
    categories = unkept_categories(item_types)
    if not categories:
        return None
    return f"{RETRY_AFTER_SECONDS}:{';'.join(categories)}:project:{REASON}"
