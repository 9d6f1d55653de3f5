"""Reporting a site's own errors through sentry-sdk without ingest feeding on itself.

A loop would be: ingest fails -> the SDK reports it -> to this very ingest -> which fails again.
Ingest marks its own work with a context variable: the views set it around each request, the
drain around every run (every consumer call included), the sweep around its run. sentry-sdk
calls `before_send` synchronously in the thread that captured the event, so the mark is visible
there. `LoopGuard.before_send` then drops:

- everything captured while ingest handles a request, or about a request an ingest view answered
  (its URL resolves to one, or django.request's log record names one): it would go to the same
  failing endpoint, and the SDK would retry it there;
- when the DSN points at this very site (targets_self), everything captured inside the ingest
  chain, the consumer's work included, and every record of ingest's own loggers (a consumer that
  fails on every event would otherwise fail on its own error reports);
- beyond max_per_minute events a process, whatever slipped through.

    sentry_sdk.init(dsn=..., before_send=LoopGuard(targets_self=True).before_send)
"""

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal, TypeVar
from urllib.parse import urlsplit

MAX_EVENTS_PER_MINUTE = 30

_stage: ContextVar[Literal["request", "chain"] | None] = ContextVar(
    "bugsink_ingest_stage", default=None
)
Event = TypeVar("Event", bound=Mapping[str, object])


@contextmanager
def ingest_chain(stage: Literal["request", "chain"] = "chain") -> Iterator[None]:
    """Marks the code inside as ingest's own work ("request": an ingest request)."""
    token = _stage.set(stage)
    try:
        yield
    finally:
        _stage.reset(token)


def in_ingest_chain() -> bool:
    """True inside ingest's work: a request, a drain (its consumer calls included), the sweep."""
    return _stage.get() is not None


def in_ingest_request() -> bool:
    return _stage.get() == "request"


class LoopGuard:
    def __init__(self, *, targets_self: bool, max_per_minute: int = MAX_EVENTS_PER_MINUTE):
        self.targets_self = targets_self
        self.max_per_minute = max_per_minute
        self._lock = threading.Lock()
        self._window_start = time.monotonic()
        self._sent_in_window = 0

    def before_send(self, event: Event, hint: Mapping[str, object] | None) -> Event | None:
        """sentry-sdk's before_send hook: the event, or None to drop it."""
        if in_ingest_request() or for_an_ingest_request(event) or logged_for_ingest(hint):
            return None
        if self.targets_self and (in_ingest_chain() or from_ingest_logger(event)):
            return None
        if not self._take_token():
            return None
        return event

    def _take_token(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= 60:
                self._window_start, self._sent_in_window = now, 0
            if self._sent_in_window >= self.max_per_minute:
                return False
            self._sent_in_window += 1
            return True


def for_an_ingest_request(event: Mapping[str, object]) -> bool:
    """The event's request URL resolves to an ingest view (errors outside the view itself:
    middleware, the handler)."""
    request = event.get("request")
    url = request.get("url") if isinstance(request, Mapping) else None
    if not isinstance(url, str) or not url:
        return False
    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return False
    view = getattr(match.func, "view_class", match.func)
    return (getattr(view, "__module__", "") or "").startswith("bugsink_ingest.")


def logged_for_ingest(hint: Mapping[str, object] | None) -> bool:
    """A log record about a request an ingest view answered (django.request logs a 5xx after the
    view returned, outside its mark; the SDK passes the record in the hint)."""
    record = (hint or {}).get("log_record")
    match = getattr(getattr(record, "request", None), "resolver_match", None)
    view = getattr(match, "func", None)
    return (getattr(view, "__module__", "") or "").startswith("bugsink_ingest.")


def from_ingest_logger(event: Mapping[str, object]) -> bool:
    logger = event.get("logger")
    return isinstance(logger, str) and logger.startswith("bugsink_ingest.")
