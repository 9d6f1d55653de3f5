"""The spool: accepted events wait here, durably, until the consumer has taken them.

The implementation is chosen by BUGSINK_INGEST_SPOOL (a dotted path): SegmentSpool (appends to
segment files; one machine; the default), FileSpool (one file per
event; one machine) or DatabaseSpool (rows on a database alias; several web hosts).
"""

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from bugsink_ingest import conf  # noqa: F401  (defaults)


@dataclass(frozen=True)
class SpooledAttachment:
    filename: str
    content_type: str
    attachment_type: str
    data: bytes


@dataclass(frozen=True)
class SpooledEvent:
    spool_id: str  # opaque, unique in the spool
    project_id: int
    event_id: str  # 32 lowercase hex; the envelope's event_id wins over the payload's
    received_at: datetime  # aware UTC, when ingest accepted it
    payload: bytes  # the item's JSON bytes as sent (decompressed)
    kind: str = "event"  # "event" | "feedback" | "user_report"
    attachments: tuple[SpooledAttachment, ...] = ()


@lru_cache(maxsize=4)
def _spool_for(path: str):
    return import_string(path)()


def get_spool():
    """The configured spool instance (one per process and setting value)."""
    return _spool_for(settings.BUGSINK_INGEST_SPOOL)


def backlog_size() -> int:
    """Events waiting in the spool (claimed by a running drain or not)."""
    return get_spool().backlog_size()
