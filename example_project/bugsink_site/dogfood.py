"""The tracker reports its own errors through sentry-sdk, without ever feeding on itself.

A loop would be: ingest fails -> the SDK reports it -> to this very ingest -> which fails again.
Three guards, each enough for its case:
- nothing is sent for errors raised while handling an ingest request (they would go to the same
  failing endpoint, and the SDK would retry them there for ever);
- when the DSN points at this deployment, nothing raised in the ingest/digest chain is sent either
  (a digest that fails on every event would otherwise fail on its own error reports);
- whatever slips through, at most MAX_EVENTS_PER_MINUTE leave a process.
"""

import logging
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

MAX_EVENTS_PER_MINUTE = 30
# Module and logger prefixes of the chain that carries events from the SDKs into the database.
INGEST_CHAIN = (
    "bugsink_ingest",
    *(
        f"bugsink_issues.{module}"
        # digest.* and lifecycle.* hold the whole chain (normalise, group, store, retention);
        # alerts.tasks is the task the digest's signals enqueue.
        for module in ("digest", "lifecycle", "alerts.tasks")
    ),
)
SELF_DSN_FILE = "self_dsn"


def init_sentry(dsn: str, data_dir: Path, base_url: str) -> bool:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    if dsn == "self":
        try:
            dsn = (data_dir / SELF_DSN_FILE).read_text().strip()
        except FileNotFoundError:
            # The first `serve` writes it after creating the demo project; until then, no reports.
            return False
    guard = LoopGuard(targets_self=_same_origin(dsn, base_url))
    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        before_send=guard.before_send,
        send_default_pii=False,
        traces_sample_rate=0,
    )
    return True


def _same_origin(dsn: str, base_url: str) -> bool:
    a, b = urlsplit(dsn), urlsplit(base_url)
    return (a.hostname, a.port or _default_port(a.scheme)) == (
        b.hostname,
        b.port or _default_port(b.scheme),
    )


def _default_port(scheme):
    return 443 if scheme == "https" else 80


class LoopGuard:
    def __init__(self, targets_self: bool, max_per_minute: int = MAX_EVENTS_PER_MINUTE):
        self.targets_self = targets_self
        self.max_per_minute = max_per_minute
        self._lock = threading.Lock()
        self._window_start = time.monotonic()
        self._sent_in_window = 0

    def before_send(self, event, hint):
        if raised_in_ingest_request(event):
            return None
        if self.targets_self and raised_in_ingest_chain(event):
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


def raised_in_ingest_request(event) -> bool:
    url = (event.get("request") or {}).get("url")
    if not url:
        return False
    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return False
    view = getattr(match.func, "view_class", match.func)
    return (getattr(view, "__module__", "") or "").startswith("bugsink_ingest")


def raised_in_ingest_chain(event) -> bool:
    if (event.get("logger") or "").startswith(INGEST_CHAIN):
        return True
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            if (frame.get("module") or "").startswith(INGEST_CHAIN):
                return True
    return False
