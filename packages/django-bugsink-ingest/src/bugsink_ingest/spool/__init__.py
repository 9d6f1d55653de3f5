"""The spool: accepted events wait here, durably, until the consumer has taken them.

BUGSINK_INGEST_SPOOL names the class (a `Spool`, see base.py):
`bugsink_ingest.spool.segments.SegmentSpool` (appends to segment files; one machine; the default)
or `bugsink_ingest.spool.database.DatabaseSpool` (rows on a database alias; several web hosts).
"""

from functools import lru_cache
from typing import cast

from django.utils.module_loading import import_string

from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.spool.base import Spool
from bugsink_ingest.spool.records import SpooledAttachment, SpooledEvent, new_spool_id

__all__ = [
    "Spool",
    "SpooledAttachment",
    "SpooledEvent",
    "get_spool",
    "new_spool_id",
]


@lru_cache(maxsize=4)
def _spool_for(path: str) -> Spool:
    return cast(Spool, import_string(path)())


def get_spool() -> Spool:
    """The configured spool instance (one per process and setting value)."""
    return _spool_for(ingest_settings.SPOOL)
