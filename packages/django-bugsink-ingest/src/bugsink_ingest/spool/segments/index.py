"""What one process knows of a segment: where its whole records are and which are done.

Only headers are read (a count must stay cheap with 100,000 events waiting); a record is whole
once its length fits in the file, and its checksum is checked when it is claimed.
"""

import os
import time
from array import array

from bugsink_ingest.spool.segments.acks import AckLog, read_acks
from bugsink_ingest.spool.segments.framing import HEADER, MAGIC, OFFSET_SIZE


class SegmentIndex:
    def __init__(self) -> None:
        self.offsets = array("Q")
        self.lengths = array("I")
        self.scanned = 0  # bytes of the data file parsed into records
        self.done: set[int] = set()
        self.acks_read = 0  # bytes of the .acks file read into done
        self.refreshed_at = float("-inf")  # time.monotonic() of the last refresh

    def pending(self) -> int:
        return len(self.offsets) - len(self.done)

    def refresh(self, data_path: str, acks_path: str, acks: AckLog | None = None) -> bool:
        """Index records appended since the last look, and acknowledgements added since (read
        through `acks` when this process holds the log). False if the segment is gone."""
        try:
            fd = os.open(data_path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            size, pos = os.fstat(fd).st_size, self.scanned
            while size - pos >= HEADER.size:
                magic, length, _ = HEADER.unpack(os.pread(fd, HEADER.size, pos))
                if magic != MAGIC or pos + HEADER.size + length > size:
                    break  # a record still being written, or a torn tail
                self.offsets.append(pos)
                self.lengths.append(length)
                pos += HEADER.size + length
            self.scanned = pos
        finally:
            os.close(fd)
        new = acks.read_from(self.acks_read) if acks else read_acks(acks_path, self.acks_read)
        whole = len(new) - len(new) % OFFSET_SIZE
        self.done.update(array("Q", new[:whole]))
        self.acks_read += whole
        self.refreshed_at = time.monotonic()
        return True
