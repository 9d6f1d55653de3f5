"""Hand-off from the spool to the consumer: the contract, and how a consumer is found.

A consumer app calls register_consumer() in its AppConfig.ready(); the BUGSINK_INGEST_CONSUMER
setting (a dotted path) overrides it. The drain (a Django Tasks task) calls the consumer with
batches of SpooledEvent, oldest first, up to BUGSINK_INGEST_SPOOL_BATCH_SIZE at a time.

- At-least-once: events leave the spool only after the consumer returned. A drain killed
  mid-call, or a consumer that raised, means the same events come again (alone or in another
  batch), so a consumer must be idempotent (e.g. unique per (project_id, event_id)).
- Raising: the whole batch counts as not taken. The drain splits it until the failing event
  stands alone; see drain.py for when an event is quarantined and when the run stops.
- What it receives: bugsink_ingest.spool.records.SpooledEvent documents every field. `payload` is
  the item's JSON bytes as the SDK sent them (after the request body's decompression), not parsed
  and not validated beyond being a JSON object; `kind` is "event", "feedback", "user_report" or
  "check_in" (a cron monitor's check-in), or one of OPTIONAL_KINDS the consumer registered for
  (`kinds=`: "session", "sessions", "client_report", whose `event_id` is a fresh id ingest gave
  the item);
  `attachments` are the envelope's attachment items (SpooledAttachment: metadata, the real
  `size`, and `open()`/`chunks()` to read it a chunk at a time, never whole), on its event item
  only, and always empty for a consumer registered with wants_attachments=False; `sentry_client` is what the request
  named itself ("raven-js/3.27.2", "" if nothing): old SDKs send no `sdk` in the payload.
"""

from dataclasses import dataclass, field
from typing import Protocol, cast

from django.utils.module_loading import import_string

from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.spool.records import SpooledEvent


class ConsumerFunc(Protocol):
    """Takes a batch of spooled events; returns when they are stored (or raises)."""

    def __call__(self, events: list[SpooledEvent], /) -> None: ...


# Item kinds handed over only to a consumer that asks for them: release health (session
# updates, session aggregates) and client reports. They are not charged to the rate limits.
OPTIONAL_KINDS = frozenset({"session", "sessions", "client_report"})


@dataclass(frozen=True)
class Consumer:
    func: ConsumerFunc
    wants_attachments: bool = True
    kinds: frozenset[str] = field(default_factory=frozenset)  # of OPTIONAL_KINDS


_registered: Consumer | None = None


def register_consumer(
    func: ConsumerFunc, *, wants_attachments: bool = True, kinds: frozenset[str] = frozenset()
) -> None:
    """Make func(events: list[SpooledEvent]) -> None the consumer of spooled events.

    wants_attachments=False: attachments are neither kept in the spool nor handed over.
    kinds: the OPTIONAL_KINDS it takes as well (others of them are dropped at ingest).
    """
    global _registered
    _registered = Consumer(func, wants_attachments, frozenset(kinds) & OPTIONAL_KINDS)


def get_consumer() -> Consumer | None:
    """The setting's consumer if set, else the registered one, else None (events stay spooled).

    The setting may name a Consumer, or a function (with optional `wants_attachments`, default
    True, and `kinds`, default none, attributes).
    """
    path = ingest_settings.CONSUMER
    if path:
        target = import_string(path)
        if isinstance(target, Consumer):
            return target
        return Consumer(
            cast(ConsumerFunc, target),
            getattr(target, "wants_attachments", True),
            frozenset(getattr(target, "kinds", ())) & OPTIONAL_KINDS,
        )
    return _registered


def wants_attachments() -> bool:
    consumer = get_consumer()
    return consumer is None or consumer.wants_attachments


def wanted_kinds() -> frozenset[str]:
    """The OPTIONAL_KINDS the consumer takes (none while there is no consumer)."""
    consumer = get_consumer()
    return consumer.kinds if consumer is not None else frozenset()
