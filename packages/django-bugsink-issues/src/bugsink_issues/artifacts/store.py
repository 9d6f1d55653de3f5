"""The blob store: upload chunks and file contents on disk, each named by the sha1 of its bytes.

    <BUGSINK_ISSUES_ARTIFACT_DIR>/chunks/ab/ab12…   a chunk as sent (uncompressed), until assembled
    <BUGSINK_ISSUES_ARTIFACT_DIR>/blobs/cd/cd34…    a file of a bundle, a release file, a debug file

Everything is streamed in pieces of COPY_BYTES and written to a temporary file that is renamed
into place once its sha1 is known and checked, so a reader never sees half a file and a crash
leaves only a temporary file behind. Content-addressed: the same bytes uploaded twice are stored
once. One directory on one machine: several web hosts need a shared directory.
"""

import gzip
import hashlib
import os
import tempfile
import time
import zlib
from pathlib import Path

from bugsink_issues.conf import app_settings

__all__ = [
    "COPY_BYTES",
    "BlobStore",
    "ChunkError",
    "StoreNotConfigured",
    "blob_store",
    "is_sha1",
]

COPY_BYTES = 256 * 1024


class StoreNotConfigured(Exception):
    pass


class ChunkError(ValueError):
    """A chunk or file whose bytes do not match what the client said."""


def is_sha1(value):
    return (
        isinstance(value, str) and len(value) == 40 and all(c in "0123456789abcdef" for c in value)
    )


class BlobStore:
    def __init__(self, root):
        self.root = Path(root)

    # --- paths -------------------------------------------------------------------------------

    def _path(self, area, sha1):
        if not is_sha1(sha1):
            raise ChunkError(f"not a sha1: {sha1!r}")
        return self.root / area / sha1[:2] / sha1

    def chunk_path(self, sha1):
        return self._path("chunks", sha1)

    def blob_path(self, sha1):
        return self._path("blobs", sha1)

    def has_chunk(self, sha1):
        return self.chunk_path(sha1).is_file()

    def has_blob(self, sha1):
        return self.blob_path(sha1).is_file()

    def missing_chunks(self, sha1s):
        return [sha1 for sha1 in dict.fromkeys(sha1s) if not self.has_chunk(sha1)]

    # --- writing -----------------------------------------------------------------------------

    def _temporary(self, area):
        directory = self.root / area
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix=".incoming-")
        return os.fdopen(fd, "wb"), Path(name)

    def _commit(self, temporary, final):
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, final)

    def save_chunk(self, expected_sha1, source, *, gzipped, max_bytes):
        """Stream one uploaded chunk (a file object) into the store, checking its sha1 (of the
        uncompressed bytes) and its size. Returns the size; ChunkError if it does not match."""
        final = self.chunk_path(expected_sha1)
        out, temporary = self._temporary("chunks")
        digest, size = hashlib.sha1(), 0
        try:
            with out:
                for piece in _pieces(source, gzipped):
                    size += len(piece)
                    if size > max_bytes:
                        raise ChunkError(f"chunk {expected_sha1} is larger than {max_bytes} bytes")
                    digest.update(piece)
                    out.write(piece)
            if digest.hexdigest() != expected_sha1:
                raise ChunkError(
                    f"chunk named {expected_sha1} has sha1 {digest.hexdigest()}: corrupted upload"
                )
            self._commit(temporary, final)
            return size
        finally:
            temporary.unlink(missing_ok=True)

    def assemble(self, chunk_sha1s, expected_sha1, max_bytes):
        """Concatenate stored chunks into a temporary file; returns its path (the caller moves or
        deletes it). ChunkError if the result's sha1 or size is wrong."""
        out, temporary = self._temporary("blobs")
        digest, size = hashlib.sha1(), 0
        try:
            with out:
                for sha1 in chunk_sha1s:
                    with open(self.chunk_path(sha1), "rb") as chunk:
                        while piece := chunk.read(COPY_BYTES):
                            size += len(piece)
                            if size > max_bytes:
                                raise ChunkError(f"the file is larger than {max_bytes} bytes")
                            digest.update(piece)
                            out.write(piece)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        if digest.hexdigest() != expected_sha1:
            temporary.unlink(missing_ok=True)
            raise ChunkError(
                f"the chunks make a file with sha1 {digest.hexdigest()}, not {expected_sha1}"
            )
        return temporary

    def put_blob(self, source, max_bytes):
        """Stream a file object into the blob store; returns (sha1, size)."""
        out, temporary = self._temporary("blobs")
        digest, size = hashlib.sha1(), 0
        try:
            with out:
                while piece := source.read(COPY_BYTES):
                    size += len(piece)
                    if size > max_bytes:
                        raise ChunkError(f"the file is larger than {max_bytes} bytes")
                    digest.update(piece)
                    out.write(piece)
            sha1 = digest.hexdigest()
            self._commit(temporary, self.blob_path(sha1))
            return sha1, size
        finally:
            temporary.unlink(missing_ok=True)

    def adopt_blob(self, temporary, sha1):
        """Move a temporary file from assemble() into the store under its sha1."""
        self._commit(temporary, self.blob_path(sha1))

    # --- reading and cleaning ----------------------------------------------------------------

    def read_blob(self, sha1, max_bytes=None):
        """The blob's bytes, or None if it is missing or larger than max_bytes."""
        path = self.blob_path(sha1)
        try:
            if max_bytes is not None and path.stat().st_size > max_bytes:
                return None
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def delete_chunks(self, sha1s):
        for sha1 in sha1s:
            self.chunk_path(sha1).unlink(missing_ok=True)

    def delete_blob(self, sha1):
        self.blob_path(sha1).unlink(missing_ok=True)

    def blobs_older_than(self, max_age_seconds, now=None):
        """The sha1s of stored blobs last written more than max_age_seconds ago."""
        now = time.time() if now is None else now
        for path in (self.root / "blobs").glob("*/*"):
            try:
                if now - path.stat().st_mtime > max_age_seconds and is_sha1(path.name):
                    yield path.name
            except FileNotFoundError:
                pass

    def sweep_chunks(self, max_age_seconds, now=None):
        """Delete chunks (and temporary files) older than max_age_seconds; returns how many."""
        now = time.time() if now is None else now
        removed = 0
        stale = [
            *(self.root / "chunks").glob("*/*"),
            *(self.root / "chunks").glob(".incoming-*"),
            *(self.root / "blobs").glob(".incoming-*"),
        ]
        for path in stale:
            try:
                if now - path.stat().st_mtime > max_age_seconds:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed


def _pieces(source, gzipped):
    """The uncompressed bytes of an uploaded part, in pieces; gzip members are decoded lazily, so
    a small compressed part cannot expand into memory (the caller counts the size)."""
    if not gzipped:
        while piece := source.read(COPY_BYTES):
            yield piece
        return
    decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        while compressed := source.read(COPY_BYTES):
            data = compressed
            while data:
                yield decoder.decompress(data, COPY_BYTES)
                data = decoder.unconsumed_tail
                if decoder.eof and decoder.unused_data:
                    # A second gzip member (concatenated streams are valid gzip).
                    data = decoder.unused_data
                    decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        yield decoder.flush()
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise ChunkError(f"a gzip chunk could not be decoded: {exc}")


def blob_store():
    """The store at BUGSINK_ISSUES_ARTIFACT_DIR; StoreNotConfigured without one."""
    root = app_settings.ARTIFACT_DIR
    if not root:
        raise StoreNotConfigured(
            "Uploads are not configured on this server: set BUGSINK_ISSUES_ARTIFACT_DIR."
        )
    return BlobStore(root)
