"""A request-level fuzzer (hypothesis) for the running server's ingest endpoints.

Every request is whole bytes on a fresh connection, so broken framing cannot leak into the next one.
The contract checked: every answer is a clean 2xx or 4xx (never a 5xx, never a dropped connection),
whatever the body, encoding, headers or framing.
"""

import gzip
import json
import zlib
from dataclasses import dataclass

import brotli
from hypothesis import strategies as st

from harness.loadgen import Connection, _ClosedEarly

READ_TIMEOUT = 60.0


@dataclass
class FuzzTarget:
    port: int
    project_id: int
    public_key: str
    template: bytes  # a real SDK envelope, decompressed

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class Answer:
    status: int  # 0: no answer (connection closed, reset or timed out)
    error: str
    request_head: bytes
    body_size: int

    @property
    def clean(self) -> bool:
        return 200 <= self.status < 500


def exchange(port: int, data: bytes) -> tuple[int, str]:
    conn = Connection(port)
    try:
        status, _, _ = conn.request(data)
        return status, ""
    except (OSError, _ClosedEarly, ValueError, IndexError) as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


# --- bodies ---------------------------------------------------------------------------------------


def _split_envelope(raw: bytes):
    header, item_header, rest = raw.split(b"\n", 2)
    return header, item_header, rest


def json_values():
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=10), inner, max_size=5)
        ),
        max_leaves=30,
    )


EVENT_KEYS = [
    "exception",
    "message",
    "logentry",
    "timestamp",
    "level",
    "tags",
    "breadcrumbs",
    "fingerprint",
    "platform",
    "release",
    "environment",
    "user",
    "request",
    "contexts",
    "threads",
    "transaction",
    "extra",
    "sdk",
    "event_id",
]


@st.composite
def weird_event_payloads(draw, template: bytes):
    """The SDK's event with some top-level fields replaced by arbitrary JSON."""
    _, _, rest = _split_envelope(template)
    event = json.loads(rest.split(b"\n", 1)[0])
    for key in draw(st.lists(st.sampled_from(EVENT_KEYS), max_size=4, unique=True)):
        event[key] = draw(json_values())
    return json.dumps(event).encode()


def envelope_with(payload: bytes, item_type="event", length: object = "auto", header=None):
    header = header if header is not None else json.dumps({"event_id": "a" * 32}).encode()
    item = {"type": item_type}
    if length == "auto":
        item["length"] = len(payload)
    elif length is not None:
        item["length"] = length
    return header + b"\n" + json.dumps(item).encode() + b"\n" + payload + b"\n"


def deep_json(depth: int) -> bytes:
    return b'{"message": "deep", "extra": {"x": ' + b"[" * depth + b"]" * depth + b"}}"


@st.composite
def bodies(draw, template: bytes):
    """(description, uncompressed body)."""
    header, item_header, rest = _split_envelope(template)
    kind = draw(
        st.sampled_from(
            [
                "sdk-envelope",
                "truncated",
                "bit-flips",
                "wrong-length",
                "weird-event",
                "invalid-utf8",
                "deeply-nested",
                "huge-string",
                "many-items",
                "random-bytes",
                "not-json-header",
                "empty",
            ]
        )
    )
    if kind == "sdk-envelope":
        return kind, template
    if kind == "truncated":
        return kind, template[: draw(st.integers(0, len(template) - 1))]
    if kind == "bit-flips":
        data = bytearray(template)
        for pos in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=8)):
            data[pos] ^= draw(st.integers(1, 255))
        return kind, bytes(data)
    if kind == "wrong-length":
        payload = rest.split(b"\n", 1)[0]
        length = draw(
            st.one_of(
                st.integers(-5, len(payload) * 3),
                st.sampled_from(["12", None, 1.5, 10**20, [], {}]),
            )
        )
        return kind, envelope_with(payload, length=length, header=header)
    if kind == "weird-event":
        item_type = draw(st.sampled_from(["event", "feedback", "user_report", "attachment"]))
        return kind, envelope_with(draw(weird_event_payloads(template)), item_type, header=header)
    if kind == "invalid-utf8":
        junk = draw(st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\x80" * 5]))
        payload = b'{"message": "bad ' + junk + b'", "level": "error"}'
        return kind, envelope_with(payload, header=header if draw(st.booleans()) else junk)
    if kind == "deeply-nested":
        return kind, envelope_with(deep_json(draw(st.sampled_from([100, 1000, 50_000]))))
    if kind == "huge-string":
        size = draw(st.sampled_from([200_000, 1_100_000, 3_000_000]))
        return kind, envelope_with(b'{"message": "' + b"x" * size + b'"}')
    if kind == "many-items":
        item = b'{"type":"attachment","length":1,"filename":"a"}\nA\n'
        return kind, header + b"\n" + item * draw(st.sampled_from([100, 10_000]))
    if kind == "random-bytes":
        return kind, draw(st.binary(max_size=2000))
    if kind == "not-json-header":
        return kind, b"not json at all\n" + item_header + b"\n" + rest
    return kind, b""


# --- encodings, framing, headers -------------------------------------------------------------------

_BOMB = None


def decompression_bomb() -> bytes:
    """A small gzip body that inflates to 512 MiB of zeros (made once per process)."""
    global _BOMB
    if _BOMB is None:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = b"\0" * (1 << 20)
        _BOMB = b"".join(compressor.compress(chunk) for _ in range(512)) + compressor.flush()
    return _BOMB


def encode(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(body, quality=4)
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "deflate-raw":
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return c.compress(body) + c.flush()
    return body  # identity, bogus names, and "lies" (a header that does not match the body)


@st.composite
def requests(draw, target: FuzzTarget):
    """(description, whole request bytes)."""
    what, body = draw(bodies(target.template))
    encoding = draw(
        st.sampled_from(["", "br", "gzip", "deflate", "deflate-raw", "lie:gzip", "x-bogus", "bomb"])
    )
    if encoding == "bomb":
        wire, header_value = decompression_bomb(), "gzip"
    else:
        wire = encode(body, encoding)
        header_value = {"": None, "deflate-raw": "deflate", "lie:gzip": "gzip"}.get(
            encoding, encoding
        )
    path = draw(
        st.sampled_from(
            [
                f"/api/{target.project_id}/envelope/",
                f"/api/{target.project_id}/store/",
                f"/api/{target.project_id}/security/",
                "/api/987654/envelope/",
                "/api/not-a-number/envelope/",
                f"/api/{target.project_id}/envelope",
            ]
        )
    )
    auth = draw(st.sampled_from(["header", "query", "bad-key", "none", "garbage"]))
    headers = []
    if auth == "header":
        headers.append(f"X-Sentry-Auth: Sentry sentry_key={target.public_key}, sentry_version=7")
    elif auth == "query":
        path += f"?sentry_key={target.public_key}&sentry_version=7"
    elif auth == "bad-key":
        headers.append("X-Sentry-Auth: Sentry sentry_key=ffffffffffffffffffffffffffffffff")
    elif auth == "garbage":
        headers.append("X-Sentry-Auth: Sentry ,,,=,sentry_key")
    if header_value is not None:
        headers.append(f"Content-Encoding: {header_value}")
    headers.append(
        "Content-Type: "
        + draw(st.sampled_from(["application/x-sentry-envelope", "text/plain;charset=UTF-8", "x"]))
    )
    framing = draw(st.sampled_from(["length", "length", "chunked"]))
    head = [f"POST {path} HTTP/1.1", f"Host: {target.host}", *headers]
    if framing == "chunked":
        head.append("Transfer-Encoding: chunked")
        size = 8192
        chunks = [wire[i : i + size] for i in range(0, len(wire), size)]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    else:
        head.append(f"Content-Length: {len(wire)}")
        payload = wire
    head_bytes = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
    description = f"{what}, encoding={encoding or 'identity'}, auth={auth}, framing={framing}"
    return description, head_bytes, payload


def send(target: FuzzTarget, head: bytes, payload: bytes) -> Answer:
    status, error = exchange(target.port, head + payload)
    return Answer(status, error, head, len(payload))


def run_fuzz(target: FuzzTarget, examples: int, on_answer=None) -> list[tuple[str, Answer]]:
    """Send `examples` generated requests; every (description, answer), without stopping early."""
    from hypothesis import HealthCheck, given, settings

    seen: list[tuple[str, Answer]] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests(target))
    def fuzz_once(request):
        description, head, payload = request
        answer = send(target, head, payload)
        seen.append((description, answer))
        if on_answer:
            on_answer(description, answer)

    fuzz_once()
    return seen


def fixed_hostile_requests(target: FuzzTarget) -> list[tuple[str, bytes]]:
    """Cases too big or too slow to leave to chance: each is always sent once."""
    path = f"/api/{target.project_id}/envelope/"
    auth = f"X-Sentry-Auth: Sentry sentry_key={target.public_key}, sentry_version=7"

    def request(body, *extra, length=True, with_auth=True):
        head = [f"POST {path} HTTP/1.1", f"Host: {target.host}", *([auth] if with_auth else [])]
        head += extra
        if length:
            head.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body

    return [
        ("gzip bomb: 512 MiB of zeros", request(decompression_bomb(), "Content-Encoding: gzip")),
        ("21 MiB body, identity", request(b"x" * (21 << 20))),
        ("event of 1.1 MiB", request(envelope_with(b'{"message":"' + b"y" * (1100 << 10) + b'"}'))),
        ("JSON nested 200,000 deep", request(envelope_with(deep_json(200_000)))),
        ("Content-Length not a number", request(b"{}", "Content-Length: abc", length=False)),
        ("two Content-Lengths", request(b"{}\n", "Content-Length: 1")),
        ("header line of 64 KiB", request(b"{}", "X-Junk: " + "j" * 65536)),
        (
            "auth header with invalid UTF-8",
            request(b"{}", "X-Sentry-Auth: Sentry sentry_key=\udcff\udcfe", with_auth=False),
        ),
        ("User-Agent with invalid UTF-8", request(b"{}", "User-Agent: sentry.\udcff")),
    ]
