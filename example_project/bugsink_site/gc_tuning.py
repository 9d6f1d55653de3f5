"""Garbage-collector settings for the worker process (the digest).

Django and the apps leave about 70,000 objects alive after start-up, and every full collection
walks them all. gc.freeze() takes them out of the collector's sight, and a larger young-generation
threshold makes young collections rarer. For 3,000 envelopes ingested and digested in one process:
243 ms in the collector with the defaults, 34 ms with these.

Not in the web workers: there each (rarer, larger) collection is a pause every request in the
process waits for. The ingest benchmark at concurrency 32, back to back: p99 35 and 49 ms with
Python's defaults, 62 and 100 ms with these.
"""

import gc

YOUNG_THRESHOLD = 50_000  # allocations between young collections (Python's default: 700)


def tune_worker() -> None:
    """Call once start-up is done: what is alive now is frozen out of the collector's sight."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 10, 10)
