"""A directory of events set aside: `<spool id>.event` (the records.dump() blob) beside
`<spool id>.error` (why), until a person restores them."""

import os
from collections.abc import Callable
from pathlib import Path

SUFFIX = ".event"


class QuarantineDirectory:
    def __init__(self, path: Path):
        self.path = path
        path.mkdir(mode=0o700, parents=True, exist_ok=True)  # raw events: owner only

    def set_aside(self, spool_id: str, blob: bytes, error: str) -> None:
        (self.path / f"{spool_id}.error").write_text(error)
        tmp = self.path / f"{spool_id}.tmp"
        tmp.write_bytes(blob)
        os.replace(tmp, self.path / (spool_id + SUFFIX))

    def count(self) -> int:
        return sum(1 for n in os.listdir(self.path) if n.endswith(SUFFIX))

    def restore(self, respool: Callable[[str, bytes], None]) -> int:
        """Hand every event to respool(spool_id, blob), removing each once that returned (a
        crash in between spools it twice: at-least-once, as everywhere). Returns how many."""
        restored = 0
        for name in sorted(os.listdir(self.path)):
            if not name.endswith(SUFFIX):
                continue
            spool_id = name[: -len(SUFFIX)]
            try:
                blob = (self.path / name).read_bytes()
            except FileNotFoundError:
                continue  # another restore took it
            respool(spool_id, blob)
            (self.path / name).unlink(missing_ok=True)
            (self.path / f"{spool_id}.error").unlink(missing_ok=True)
            restored += 1
        return restored
