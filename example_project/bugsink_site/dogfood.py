"""The tracker reports its own errors through sentry-sdk, without ever feeding on itself: the
guard is ingest's (bugsink_ingest.loopguard); this only decides where the reports go."""

from pathlib import Path
from urllib.parse import urlsplit

from bugsink_ingest.loopguard import LoopGuard

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
