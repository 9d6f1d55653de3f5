"""One drain run: claimed batches to the consumer, without letting one bad event block the spool.

A batch the consumer raises for is split until the failing events stand alone, so every other
event gets through. The rules that tell a poison event from a consumer that is down:

- An event that failed alone is a suspect. It is quarantined (set aside in the spool, counted,
  logged once as an error, restorable) once it has failed alone SPOOL_POISON_ATTEMPTS times and
  the consumer took some other event after its first failure: the consumer works, the event is
  the problem.
- Two different events failing alone with no success in between may mean the consumer is down
  for everything (database locked or gone). Probes settle it: the newest waiting event alone, then
  the oldest, then the next newest (far from the failures: poison often comes in runs). If all
  fail too, the run stops with ConsumerDown: every claimed event goes back, nothing is
  quarantined, however long the outage lasts. A probe that fails is a suspect like any other.
- A suspect that no success followed before the run ended (it was the only event left) goes back
  to the spool and the run counts as failed, so the next one comes after a backoff.

While the consumer might be down, a failing batch is tested one event first before it is halved,
so an outage costs seven consumer calls per run, not one per event.
"""

import logging
import time
import traceback
from dataclasses import dataclass, replace

from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.handoff import OPTIONAL_KINDS, Consumer
from bugsink_ingest.loopguard import ingest_chain
from bugsink_ingest.spool.base import Spool
from bugsink_ingest.spool.records import SpooledEvent

logger = logging.getLogger("bugsink_ingest.drain")


class ConsumerDown(Exception):
    """The consumer failed for every event tried, the probes included; `error` is its last."""

    def __init__(self, error: Exception | None):
        super().__init__(f"the consumer failed for every event tried: {error!r}")
        self.error = error


@dataclass
class _Suspect:
    event: SpooledEvent
    failures: int = 0
    vouched: bool = False  # the consumer took another event after this one first failed
    error: Exception | None = None


class Drain:
    def __init__(self, spool: Spool, consumer: Consumer):
        self.spool = spool
        self.consumer = consumer
        self.batch_size = ingest_settings.SPOOL_BATCH_SIZE
        self.attempts = max(1, ingest_settings.SPOOL_POISON_ATTEMPTS)
        self.handed_off = 0
        self.quarantined = 0
        self._held: dict[
            str, SpooledEvent
        ] = {}  # claimed by this run, neither acked nor quarantined
        self._suspects: dict[str, _Suspect] = {}
        self._failing_since_success: set[str] = set()  # events that failed alone since then
        self._any_success = False
        self._probing = False

    @property
    def unresolved(self) -> int:
        """Suspects this run could not judge (put back when it ended)."""
        return len(self._suspects)

    def run(self, deadline: float) -> bool:
        """Drain until the spool is empty (True) or the monotonic deadline passed (False).

        Raises ConsumerDown; whatever this run still holds goes back to the spool in any case.
        Everything inside is marked as the ingest chain (bugsink_ingest.loopguard).
        """
        try:
            with ingest_chain():
                return self._run(deadline)
        finally:
            if self._held:
                self.spool.release(list(self._held))

    def _run(self, deadline: float) -> bool:
        while time.monotonic() < deadline:
            batch = self._claim(self.batch_size)
            if not batch:
                return True
            self._top_up(batch)
            self._deliver(batch)
            self._judge_suspects()
        return False

    def last_error(self) -> Exception | None:
        return next((s.error for s in self._suspects.values()), None)

    def _top_up(self, batch: list[SpooledEvent]) -> None:
        """Sessions and client reports cost the consumer a fraction of an event, and SDKs send a
        session beside most errors: a batch counts only the other items towards its size (within
        twice the size in all), or a batch would carry half as many events for the same
        per-batch cost."""
        limit = self.batch_size
        while len(batch) < 2 * limit:
            heavy = sum(1 for e in batch if e.kind not in OPTIONAL_KINDS)
            want = min(limit - heavy, 2 * limit - len(batch))
            # Each claim takes at most what is missing, so that a batch never holds more than
            # its size in events, and about half of it comes back sessions: within an eighth
            # of the size is near enough (a claim costs the same for one event as for fifty).
            if want <= limit // 8:
                return
            more = self._claim(want)
            if not more:
                return
            batch.extend(more)

    def _claim(self, limit: int, newest: bool = False) -> list[SpooledEvent]:
        events = self.spool.claim(limit, newest=newest)
        self._held.update((e.spool_id, e) for e in events)
        return events

    def _call(self, events: list[SpooledEvent]) -> Exception | None:
        """Hand events to the consumer; acked if it returned, else its exception."""
        try:
            if self.consumer.wants_attachments:
                self.consumer.func(events)
            else:
                self.consumer.func([replace(e, attachments=()) for e in events])
        except Exception as error:
            return error
        ids = [e.spool_id for e in events]
        self.spool.ack(ids)
        for spool_id in ids:
            self._held.pop(spool_id, None)
            self._suspects.pop(spool_id, None)
        self.handed_off += len(ids)
        self._failing_since_success.clear()
        self._any_success = True
        for suspect in self._suspects.values():
            suspect.vouched = True
        return None

    def _deliver(self, events: list[SpooledEvent]) -> None:
        error = self._call(events)
        if error is None:
            return
        if len(events) == 1:
            self._failed_alone(events[0], error)
        elif self._failing_since_success or not self._any_success:
            # Maybe down for everything: one event alone says more than a half batch.
            self._deliver(events[:1])
            self._deliver(events[1:])
        else:
            middle = len(events) // 2
            self._deliver(events[:middle])
            self._deliver(events[middle:])

    def _failed_alone(self, event: SpooledEvent, error: Exception) -> None:
        suspect = self._suspects.setdefault(event.spool_id, _Suspect(event))
        suspect.failures += 1
        suspect.error = error
        logger.warning(
            "the consumer failed on spooled event %s alone (attempt %s): %r",
            event.spool_id,
            suspect.failures,
            error,
        )
        self._failing_since_success.add(event.spool_id)
        if len(self._failing_since_success) >= 2 and not self._probing:
            self._probe(error)

    def _probe(self, error: Exception | None) -> None:
        """Is the consumer down for everything? Try other events alone, far from the failures."""
        self._probing = True
        try:
            for newest in (True, False, True):
                probe = self._claim(1, newest=newest)
                if not probe:
                    break  # nothing else to try: cannot tell, so assume down
                error = self._call(probe)
                if error is None:
                    return
                self._failed_alone(probe[0], error)
            raise ConsumerDown(error)
        finally:
            self._probing = False

    def _judge_suspects(self) -> None:
        for spool_id, suspect in list(self._suspects.items()):
            if not suspect.vouched:
                continue
            while spool_id in self._suspects and suspect.failures < self.attempts:
                self._deliver([suspect.event])  # acked (and no longer a suspect) if it works now
            if spool_id in self._suspects:
                self._quarantine(suspect)

    def _quarantine(self, suspect: _Suspect) -> None:
        event, error = suspect.event, suspect.error
        text = "".join(traceback.format_exception(error)) if error else "(no error)"
        self.spool.quarantine(event.spool_id, text)
        self._held.pop(event.spool_id, None)
        del self._suspects[event.spool_id]
        self.quarantined += 1
        # Once per event, at ERROR with the traceback: Sentry's logging integration reports it.
        logger.error(
            "spooled event %s (project %s, event_id %s) failed %s times on its own while other "
            "events went through; quarantined (manage.py bugsink_drain_spool --retry-quarantined "
            "puts it back)",
            event.spool_id,
            event.project_id,
            event.event_id,
            suspect.failures,
            exc_info=error,
        )
