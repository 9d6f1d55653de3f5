"""Envelopes made by the real sentry-sdk, captured once, then replayed with fresh event ids.

`capture_templates(dir)` runs the SDK in a subprocess (so its global client never touches the caller)
with its own HTTP transport pointed at a tiny capture server on loopback, and keeps each request's
decompressed envelope and headers. `EnvelopeFactory` then makes as many distinct requests as a run
needs: it swaps in a new event id (same length, so every item `length` stays right), for the
"distinct issues" mix also a new exception class name (BenchError0000 -> BenchError0417: what the SDK
would send for that class), and brotli-compresses at quality 4, as sentry-sdk does.

Run as `python -m harness.payloads OUTDIR` to capture (that is what capture_templates does).
"""

import json
import random
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli

CAPTURE_KEY = "0123456789abcdef0123456789abcdef"
SDK_BROTLI_QUALITY = 4  # sentry_sdk.transport: brotli quality when no level is configured
KINDS = ("small", "distinct", "large")
HEALTH_ITEMS = ("session", "check_in")
TYPE_MARKER = b"BenchError0000"


# --- the application code whose errors the SDK reports (frames, source lines, local variables) ---


class BenchError0000(Exception):
    pass


def _load_cart(user_id, cart_id):
    items = [{"sku": f"SKU-{i:05d}", "qty": i % 3 + 1, "price": 9.99 + i} for i in range(4)]
    total = sum(item["qty"] * item["price"] for item in items)
    if total > 10:
        raise BenchError0000(
            f"cart {cart_id} of user {user_id} failed validation: total {total:.2f}"
        )
    return items


def checkout_view(request_id):
    session = {"user_id": 4711, "locale": "en-GB", "csrf": "x" * 32}
    return _load_cart(session["user_id"], cart_id=request_id)


_WORDS = (
    "invoice customer order shipment address payment refund ledger account balance tax "
    "discount warehouse parcel carrier status pending failed retry timeout region euro "
    "dollar quantity price total subtotal coupon voucher basket session token user admin"
).split()


def _prose(seed, words):
    # varied text, so the event compresses like real data does, not like a run of one letter
    rng = random.Random(seed)
    return " ".join(rng.choice(_WORDS) + str(rng.randrange(1000)) for _ in range(words))


def _render_report(depth, rows, options):
    # local variables the SDK serialises in every frame: a realistic "big" event
    page = _prose(depth, 60)
    context = {f"field_{i}": _prose(depth * 100 + i, 12) for i in range(6)}
    if depth == 0:
        raise ValueError(f"report rendering failed with {len(rows)} rows and {len(page)} chars")
    return _render_report(depth - 1, rows[:-1], options) + len(context)


def report_view():
    rows = [{"id": i, "name": f"customer {i}", "notes": _prose(i, 20)} for i in range(10)]
    options = {"format": "pdf", "locale": "de-DE", "template": _prose(99, 60)}
    return _render_report(9, rows, options)


def _capture_with_sdk(port: int, kind: str):
    import sentry_sdk

    sentry_sdk.init(
        dsn=f"http://{CAPTURE_KEY}@127.0.0.1:{port}/1",
        release="shop@2.4.1",
        environment="production",
        server_name="web-1",
    )
    try:
        if kind == "large":
            report_view()
        else:
            checkout_view(request_id=981)
    except Exception:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(5)
    sentry_sdk.get_client().close()


def _capture_health_with_sdk(port: int):
    """One session (release health on, application mode: the SDK's default outside a web server)
    that saw the error and ended, and one cron check-in: the items a `--with-health` run adds."""
    import sentry_sdk
    from sentry_sdk.crons import capture_checkin

    sentry_sdk.init(
        dsn=f"http://{CAPTURE_KEY}@127.0.0.1:{port}/1",
        release="shop@2.4.1",
        environment="production",
        server_name="web-1",
    )
    sentry_sdk.set_user({"id": "4711"})  # the session's `did`: users are counted per release
    scope = sentry_sdk.get_isolation_scope()
    scope.start_session(session_mode="application")
    try:
        checkout_view(request_id=981)
    except Exception:
        sentry_sdk.capture_exception()
    scope.end_session()
    capture_checkin(monitor_slug="bench-nightly", status="ok", duration=1.5)
    sentry_sdk.flush(5)
    sentry_sdk.get_client().close()


# --- the capture server -------------------------------------------------------------------------


@dataclass
class Captured:
    headers: list[tuple[str, str]]
    body: bytes


def _serve_captures(store: list[Captured]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            store.append(Captured(list(self.headers.items()), body))
            answer = b'{"id":"00000000000000000000000000000000"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _capture_main(outdir: Path):
    outdir.mkdir(parents=True, exist_ok=True)
    store: list[Captured] = []
    server = _serve_captures(store)
    try:
        for kind in ("small", "large"):
            store.clear()
            _capture_with_sdk(server.server_address[1], kind)
            (captured,) = [c for c in store if b'"type":"event"' in _decode(c)]
            (outdir / f"{kind}.envelope").write_bytes(_decode(captured))
            (outdir / f"{kind}.headers.json").write_text(json.dumps(captured.headers))
        store.clear()
        _capture_health_with_sdk(server.server_address[1])
        for item_type in HEALTH_ITEMS:
            (outdir / f"{item_type}.item").write_bytes(_item_of(store, item_type))
    finally:
        server.shutdown()


def _item_of(store: list[Captured], item_type: str) -> bytes:
    """The first item of `item_type` in the captured envelopes: its header line and payload."""
    for captured in store:
        lines = _decode(captured).split(b"\n")
        for i, line in enumerate(lines[1:-1], start=1):
            try:
                header = json.loads(line)
            except ValueError:
                continue
            if isinstance(header, dict) and header.get("type") == item_type:
                return line + b"\n" + lines[i + 1] + b"\n"
    raise RuntimeError(f"the SDK sent no {item_type} item")


def _decode(captured: Captured) -> bytes:
    encoding = dict((k.lower(), v) for k, v in captured.headers).get("content-encoding", "")
    if encoding == "br":
        return brotli.decompress(captured.body)
    if encoding == "gzip":
        import gzip

        return gzip.decompress(captured.body)
    return captured.body


def capture_templates(outdir: Path) -> Path:
    if not (outdir / "check_in.item").exists():
        subprocess.run(
            [sys.executable, "-m", "harness.payloads", str(outdir)],
            check=True,
            cwd=Path(__file__).resolve().parents[1],
            timeout=60,
        )
    return outdir


# --- replay ---------------------------------------------------------------------------------------


def envelope_event_id(raw: bytes) -> str:
    return json.loads(raw.split(b"\n", 1)[0])["event_id"]


@dataclass(frozen=True)
class PreparedEvent:
    event_id: str
    body: bytes  # brotli-compressed envelope
    raw_size: int


class EnvelopeFactory:
    """Fresh, distinct envelopes from the captured templates."""

    def __init__(self, template_dir: Path, public_key: str):
        self.templates = {
            kind: (template_dir / f"{kind}.envelope").read_bytes() for kind in ("small", "large")
        }
        self._check_ins = 0
        self.health_items = {
            item_type: (template_dir / f"{item_type}.item").read_bytes()
            for item_type in HEALTH_ITEMS
            if (template_dir / f"{item_type}.item").exists()
        }
        headers = json.loads((template_dir / "small.headers.json").read_text())
        self.user_agent = dict(headers).get("User-Agent", "sentry.python")
        self.auth_header = (
            dict(headers)["X-Sentry-Auth"].replace(CAPTURE_KEY, public_key)
            if "X-Sentry-Auth" in dict(headers)
            else f"Sentry sentry_key={public_key}, sentry_version=7"
        )

    def raw(self, kind: str, index: int = 0, event_id: str | None = None) -> tuple[str, bytes]:
        template = self.templates["large" if kind == "large" else "small"]
        event_id = event_id or uuid.uuid4().hex
        raw = template.replace(envelope_event_id(template).encode(), event_id.encode())
        if kind == "distinct":
            raw = raw.replace(TYPE_MARKER, b"BenchError%04d" % (index % 1000))
        return event_id, raw

    def make(
        self, kind: str, index: int = 0, *, session: bool = False, check_in: bool = False
    ) -> PreparedEvent:
        """With `session`, the envelope also carries the SDK's `session` item (a fresh sid, one of
        USERS users); with `check_in`, a `check_in` item (a fresh check-in id) too."""
        event_id, raw = self.raw(kind, index)
        if not raw.endswith(b"\n"):
            raw += b"\n"
        if session:
            raw += self.session_item(index)
        if check_in:
            raw += self.check_in_item()
        return PreparedEvent(event_id, brotli.compress(raw, quality=SDK_BROTLI_QUALITY), len(raw))

    USERS = 1000  # distinct session users (`did`) cycled over a run

    def session_item(self, index: int) -> bytes:
        # same-length swaps, so the item's `length` stays right
        item = self.health_items["session"]
        header, payload = item.split(b"\n", 2)[:2]
        body = json.loads(payload)
        swapped = payload.replace(body["sid"].encode(), str(uuid.uuid4()).encode())
        did = body["did"]
        swapped = swapped.replace(
            b'"did":"%s"' % did.encode(),
            b'"did":"%s"' % str(index % self.USERS).zfill(len(did)).encode(),
        )
        return header + b"\n" + swapped + b"\n"

    MONITORS = 100  # cron jobs the check-ins go to: few enough per monitor to be kept (100 each)

    def check_in_item(self) -> bytes:
        item = self.health_items["check_in"]
        header, payload = item.split(b"\n", 2)[:2]
        body = json.loads(payload)
        swapped = payload.replace(body["check_in_id"].encode(), uuid.uuid4().hex.encode())
        slug = body["monitor_slug"]  # "bench-nightly" -> "bench-job-017": the same length
        swapped = swapped.replace(
            b'"monitor_slug":"%s"' % slug.encode(),
            b'"monitor_slug":"%s"'
            % f"bench-job-{self._check_ins % self.MONITORS:03d}"[: len(slug)].encode(),
        )
        # an id of its own, as the SDK gives each check-in (ingest keys check-ins by it)
        swapped = swapped.replace(body["event_id"].encode(), uuid.uuid4().hex.encode())
        self._check_ins += 1  # round robin over the monitors, whatever the rate of check-ins
        return header + b"\n" + swapped + b"\n"

    def headers(self) -> dict[str, str]:
        return {
            "User-Agent": self.user_agent,
            "Content-Type": "application/x-sentry-envelope",
            "Content-Encoding": "br",
            "X-Sentry-Auth": self.auth_header,
        }


if __name__ == "__main__":
    _capture_main(Path(sys.argv[1]))
