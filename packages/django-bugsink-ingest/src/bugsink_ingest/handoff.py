"""Hand-off from the spool to the digest consumer.

A consumer app calls register_consumer() in its AppConfig.ready(); the BUGSINK_INGEST_CONSUMER
setting (a dotted path) overrides it. The consumer is called with batches of SpooledEvent from a
Django Tasks task; events leave the spool only after it returned (at-least-once delivery).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from bugsink_ingest import conf  # noqa: F401  (defaults)


@dataclass(frozen=True)
class Consumer:
    func: Callable
    wants_attachments: bool = True


_registered: Consumer | None = None


def register_consumer(func, *, wants_attachments=True) -> None:
    """Make func(events: list[SpooledEvent]) -> None the consumer of spooled events."""
    global _registered
    _registered = Consumer(func, wants_attachments)


def get_consumer() -> Consumer | None:
    """The setting's consumer if set, else the registered one, else None (events stay spooled)."""
    path = settings.BUGSINK_INGEST_CONSUMER
    if path:
        target = import_string(path)
        if isinstance(target, Consumer):
            return target
        return Consumer(target, getattr(target, "wants_attachments", True))
    return _registered


def wants_attachments() -> bool:
    consumer = get_consumer()
    return consumer is None or consumer.wants_attachments
