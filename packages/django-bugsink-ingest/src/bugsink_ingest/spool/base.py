"""The contract every spool implements (BUGSINK_INGEST_SPOOL names the class; it is built with
no arguments, once per process).

Delivery is at-least-once: an event leaves the spool only through ack() (the consumer returned)
or quarantine(); everything claimed and neither acknowledged nor quarantined comes back, at once
if its drain released it, else when the spool sees the drain is gone.
"""

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import BinaryIO, Protocol, runtime_checkable

from bugsink_ingest.spool.records import SpooledEvent


@runtime_checkable
class Spool(Protocol):
    # --- the request path ---

    def write(self, event: SpooledEvent) -> None:
        """Keep the event durably before returning; raise if it could not be kept. Attachments
        without a ref (not written by write_attachment) are written first."""

    def write_attachment(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Keep an attachment's bytes as they stream in, never holding them whole; returns its
        ref (which the event's SpooledAttachment carries into write()) and its size. Raises
        (having removed what it wrote) if the bytes could not be kept or `chunks` raised."""

    def discard_attachments(self, refs: Iterable[str]) -> None:
        """Remove attachments written for an event that will not be written after all."""

    def open_attachment(self, ref: str) -> BinaryIO:
        """A reader of an attachment this spool keeps (what SpooledAttachment.open() calls)."""

    def approximate_backlog(self) -> int:
        """backlog_size() as counted lately (cheap: the request path calls it once a second)."""

    # --- drains ---

    def claim(self, limit: int, *, newest: bool = False) -> list[SpooledEvent]:
        """Up to `limit` waiting events no other drain holds, oldest first (newest first with
        newest=True). An event that cannot be read is quarantined here, not handed out."""

    def ack(self, spool_ids: Iterable[str]) -> None:
        """These claimed events are done: they leave the spool, their attachments too."""

    def release(self, spool_ids: Iterable[str]) -> None:
        """These claimed events go back, to be claimed again."""

    def quarantine(self, spool_id: str, error: str) -> None:
        """Set a claimed event aside with the reason: kept (its attachments too), not counted,
        never claimed."""

    # --- counting and recovery ---

    def backlog_size(self) -> int:
        """Events waiting, claimed or not (quarantined ones not)."""

    def quarantined_count(self) -> int: ...

    def restore_quarantined(self) -> int:
        """Put every quarantined event back in the spool; returns how many."""

    # --- the drain wake-up marker: at most one drain task waits to start ---

    def request_wakeup(self) -> bool:
        """True if the caller must enqueue a drain (no marker, or one older than a minute
        either way, so a lost drain or a stepped clock cannot hold back every later one)."""

    def clear_wakeup(self) -> None:
        """A drain starting: from now on the next event enqueues the next drain."""

    # --- the sweep marker: at most one sweep chain lives (see bugsink_ingest.tasks) ---

    def request_sweep(self, stale_seconds: float) -> str | None:
        """A new chain's token if the caller must start the sweep (no chain, or its marker was
        not renewed within stale_seconds); None while a chain lives."""

    def renew_sweep(self, token: str) -> bool:
        """The chain of `token` runs on: True if it is still the live one (marker renewed)."""

    def end_sweep(self, token: str) -> None:
        """The chain of `token` ends (its marker goes, unless another chain took over)."""


@runtime_checkable
class ExclusiveDrains(Protocol):
    """A spool that can let one drain at a time run (optional). Without BUGSINK_INGEST_PARALLEL_
    DRAINS, a drain enqueued by a request while another runs ends at once instead of draining
    beside it: with one database writer (SQLite) drains beside each other only wait for its
    lock and take turns for the interpreter's, and a lock wait costs more than a batch."""

    def drain_lock(self) -> AbstractContextManager[bool]:
        """Entered: True if the caller is now the one drain (held until exit), else False."""


# The methods a spool class must have (the system check looks for them).
SPOOL_METHODS = tuple(
    name for name in Spool.__dict__ if not name.startswith("_") and callable(Spool.__dict__[name])
)
