"""The segment files' layout.

A segment is `<name>.data`: records appended one after the other, each a 12-byte header (magic,
body length, CRC-32 of the body) and the body: the spool id, a newline, then the records.dump()
blob. Beside it, `<name>.acks`: the offsets (8 bytes each, native order) of its records that are
done. A write cut short leaves a torn tail (a header whose body does not fit in the file, or no
whole header) that readers stop before; an acknowledgement cut short is not a whole 8 bytes.
"""

import struct
import zlib

HEADER = struct.Struct("<4sII")
MAGIC = b"BSK1"
DATA, ACKS = ".data", ".acks"
OFFSET_SIZE = 8  # one acknowledged offset in an .acks file


def frame(spool_id: str, blob: bytes) -> bytes:
    """One record, ready to append."""
    body = spool_id.encode() + b"\n" + blob
    return HEADER.pack(MAGIC, len(body), zlib.crc32(body)) + body


def unframe(record: bytes) -> tuple[str, bytes, bool]:
    """(spool id, blob, checksum ok) of a whole record."""
    body = memoryview(record)[HEADER.size :]
    intact = zlib.crc32(body) == HEADER.unpack_from(record)[2]
    spool_id, _, blob = bytes(body).partition(b"\n")
    return spool_id.decode(errors="replace"), blob, intact
