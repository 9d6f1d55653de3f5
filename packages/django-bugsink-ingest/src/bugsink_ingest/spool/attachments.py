"""Attachment bytes kept as files, one per attachment, in a directory of the spool's own (the
segment spool's `attachments/`): written as they stream in, read back in chunks.

A file is complete before the event naming it is written, and removed once that event leaves
the spool; a request that fails after writing one removes it again.
"""

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO


class AttachmentFiles:
    def __init__(self, path: Path):
        self.path = path
        self._prefix = f"{path}/"
        self._made = False

    def write(self, chunks: Iterable[bytes], *, fsync: bool) -> tuple[str, int]:
        if not self._made:  # the directory only once a site gets attachments
            self.path.mkdir(parents=True, exist_ok=True)
            self._made = True
        ref = f"{time.time_ns():020d}-{os.getpid()}-{os.urandom(6).hex()}"
        fd = os.open(self._prefix + ref, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        size = 0
        try:
            try:
                for chunk in chunks:
                    view = memoryview(chunk)
                    while view:
                        written = os.write(fd, view)
                        view = view[written:]
                    size += len(chunk)
                if fsync:
                    os.fdatasync(fd)
            finally:
                os.close(fd)
        except BaseException:
            self.discard([ref])
            raise
        return ref, size

    def open(self, ref: str) -> BinaryIO:
        if "/" in ref or ref.startswith("."):
            raise ValueError(f"not an attachment ref: {ref!r}")
        return open(self._prefix + ref, "rb")

    def size(self, ref: str) -> int | None:
        try:
            return os.stat(self._prefix + ref).st_size
        except (FileNotFoundError, NotADirectoryError):
            return None

    def discard(self, refs: Iterable[str]) -> None:
        for ref in refs:
            try:
                os.unlink(self._prefix + ref)
            except FileNotFoundError:
                pass
