"""The segment spool (the default): `bugsink_ingest.spool.segments.SegmentSpool`.

Its parts, each a module: framing (the record and file layout), writer (a process's appends and
group commit), acks (a drain's lock and acknowledgements), index (what a process has read of a
segment), spool (SegmentSpool, which composes them with the quarantine and the markers).
"""

from bugsink_ingest.spool.segments.spool import SegmentSpool

__all__ = ["SegmentSpool"]
