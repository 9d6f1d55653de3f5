"""Auth, encodings, framing, errors and CORS against the real Gunicorn server."""

import base64
import gzip
import json
import zlib

import brotli
import pytest
import zstandard

from tests.ingest.recorder import received
from tests.ingest.wire import post, send

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]
KEY = "publickey123"
AUTH = {"X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=7"}


def envelope(event=None, event_id="cd" * 16, extra_items=(), header=None, trailing=b"\n"):
    event = event if event is not None else {"message": "hello", "level": "error"}
    payload = json.dumps(event).encode()
    head = header if header is not None else {"event_id": event_id}
    parts = [json.dumps(head).encode(), json.dumps({"type": "event"}).encode(), payload]
    for item_header, item_payload in extra_items:
        parts += [json.dumps(item_header).encode(), item_payload]
    return b"\n".join(parts) + trailing


def new_events(server, before):
    return [r for r in received(server.dir) if r["spool_id"] not in before]


def spool_ids(server):
    return {r["spool_id"] for r in received(server.dir)}


ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
    "identity": lambda b: b,
    "": lambda b: b,
    "UTF-8": lambda b: b,
}


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_content_encodings(ingest_server, encoding):
    before = spool_ids(ingest_server)
    body = ENCODERS[encoding](envelope(event_id="e" * 32))
    answer = post(
        ingest_server.port, "/api/1/envelope/", body, {**AUTH, "Content-Encoding": encoding}
    )
    assert answer.status == 200, answer.body
    assert [r["event_id"] for r in new_events(ingest_server, before)] == ["e" * 32]


def test_raw_deflate_and_chunked_without_length(ingest_server):
    co = zlib.compressobj(wbits=-15)
    body = co.compress(envelope(event_id="f" * 32)) + co.flush()
    before = spool_ids(ingest_server)
    answer = post(
        ingest_server.port,
        "/api/1/envelope/",
        body,
        {**AUTH, "Content-Encoding": "deflate", "Transfer-Encoding": "chunked"},
        chunked=True,
        chunk_size=7,
    )
    assert answer.status == 200, answer.body
    assert [r["event_id"] for r in new_events(ingest_server, before)] == ["f" * 32]


@pytest.mark.parametrize(
    "headers,path",
    [
        ({"Authorization": f"Sentry sentry_key={KEY}, sentry_version=7"}, "/api/1/envelope/"),
        ({}, f"/api/1/envelope/?sentry_key={KEY}&sentry_version=7"),
        ({}, f"/deep/er/api/1/envelope?sentry_key={KEY}"),  # a prefix, no trailing slash
    ],
)
def test_auth_forms(ingest_server, headers, path):
    answer = post(ingest_server.port, path, envelope(), headers)
    assert answer.status == 200, answer.body


def test_auth_from_the_envelope_dsn(ingest_server):
    dsn = ingest_server.dsn()
    body = envelope(header={"event_id": "1" * 32, "dsn": dsn})
    assert post(ingest_server.port, "/api/1/envelope/", body).status == 200
    # The dsn must name the URL's project.
    other = envelope(header={"dsn": ingest_server.dsn(project=2)})
    assert post(ingest_server.port, "/api/1/envelope/", other).status == 400


def test_bad_keys_get_helpful_answers_that_reveal_no_projects(ingest_server):
    port = ingest_server.port
    missing = post(port, "/api/1/envelope/", envelope())
    assert missing.status == 401 and "sentry_key" in missing.json()["detail"]
    unknown = post(port, "/api/1/envelope/?sentry_key=" + "9" * 32, envelope())
    wrong_project = post(port, "/api/1/envelope/?sentry_key=" + KEY, envelope(), {})
    assert wrong_project.status == 200
    no_such_project = post(port, "/api/999/envelope/?sentry_key=" + "9" * 32, envelope())
    key_of_other_project = post(port, "/api/2/envelope/?sentry_key=" + KEY, envelope())
    for answer in (unknown, no_such_project, key_of_other_project):
        assert answer.status == 403
        detail = answer.json()["detail"]
        assert "DSN" in detail and answer.headers["x-sentry-error"] == detail
        assert "exist" not in detail
    disabled = post(port, "/api/2/envelope/?sentry_key=" + "3" * 32, envelope())
    assert disabled.status == 403 and "disabled" in disabled.json()["detail"]
    assert post(port, "/api/1/envelope/?sentry_key=bad%20key", envelope()).status == 401


def test_tunnel_takes_auth_from_the_dsn_header(ingest_server):
    before = spool_ids(ingest_server)
    body = envelope(header={"event_id": "2" * 32, "dsn": ingest_server.dsn()})
    answer = post(ingest_server.port, "/tunnel", body, {"Content-Type": "text/plain;charset=UTF-8"})
    assert answer.status == 200 and answer.json() == {"id": "2" * 32}
    assert [r["project_id"] for r in new_events(ingest_server, before)] == [1]
    no_dsn = post(ingest_server.port, "/tunnel", envelope())
    assert no_dsn.status == 400 and "dsn" in no_dsn.json()["detail"]
    bad_key = post(
        ingest_server.port, "/tunnel", envelope(header={"dsn": ingest_server.dsn("7" * 32)})
    )
    assert bad_key.status == 403


def test_framing_variants(ingest_server):
    attachment = b"line 1\r\nline 2\n\nend"
    body = envelope(
        event_id="3" * 32,
        extra_items=[
            ({"type": "attachment", "length": len(attachment), "filename": "a.txt"}, attachment),
            ({"type": "session"}, b'{"sid": "x"}'),
            ({"type": "replay_recording", "length": 3}, b"\n\r\n"),
            ({"type": "something_new"}, b"whatever"),
        ],
        trailing=b"",
    )
    before = spool_ids(ingest_server)
    answer = post(ingest_server.port, "/api/1/envelope/", body, AUTH)
    assert answer.status == 200, answer.body
    (got,) = new_events(ingest_server, before)
    assert got["attachments"][0]["data"] == attachment
    assert got["attachments"][0]["filename"] == "a.txt"
    # {} envelope headers with only dropped items: accepted, nothing handed off.
    sessions = b'{}\n{"type":"session"}\n{"sid":"abc"}\n'
    before = spool_ids(ingest_server)
    assert post(ingest_server.port, "/api/1/envelope/", sessions, AUTH).status == 200
    assert new_events(ingest_server, before) == []


def test_feedback_and_user_report_items(ingest_server):
    feedback = json.dumps({"event_id": "4" * 32, "contexts": {"feedback": {"message": "hi"}}})
    report = json.dumps({"event_id": "5" * 32, "name": "Ann", "comments": "broken"})
    body = (
        b"{}\n"
        + b'{"type":"feedback"}\n'
        + feedback.encode()
        + b'\n{"type":"user_report"}\n'
        + report.encode()
        + b"\n"
    )
    before = spool_ids(ingest_server)
    assert post(ingest_server.port, "/api/1/envelope/", body, AUTH).status == 200
    got = sorted((r["kind"], r["event_id"]) for r in new_events(ingest_server, before))
    assert got == [("feedback", "4" * 32), ("user_report", "5" * 32)]


def test_store_base64_zlib_and_dashed_ids(ingest_server):
    event = json.dumps(
        {"event_id": "6" * 8 + "-" + "6" * 4 + "-" + "6" * 4 + "-" + "6" * 4 + "-" + "6" * 12}
    )
    body = base64.b64encode(zlib.compress(event.encode()))
    before = spool_ids(ingest_server)
    answer = post(ingest_server.port, "/api/1/store/", body, AUTH)
    assert answer.status == 200 and answer.json() == {"id": "6" * 32}
    assert new_events(ingest_server, before)[0]["payload"] == event.encode()


def test_csp_report_becomes_an_event(ingest_server):
    report = {
        "csp-report": {
            "document-uri": "https://example.com/page",
            "blocked-uri": "https://evil.example/x.js",
            "effective-directive": "script-src-elem",
            "original-policy": "script-src 'self'",
        }
    }
    before = spool_ids(ingest_server)
    answer = post(
        ingest_server.port,
        f"/api/1/security/?sentry_key={KEY}",
        json.dumps(report).encode(),
        {"Content-Type": "application/csp-report"},
    )
    assert answer.status == 200, answer.body
    (got,) = new_events(ingest_server, before)
    event = json.loads(got["payload"])
    assert "evil.example" in event["message"] and event["request"]["url"].endswith("/page")


@pytest.mark.parametrize(
    "body,encoding,status,words",
    [
        (b"", "", 400, "empty"),
        (b"not json\n", "", 400, "JSON"),
        (b"[1,2]\n", "", 400, "object"),
        (b'{}\n{"type":"event","length":100}\n{}', "", 400, "length"),
        (b'{}\n{"type":"event","length":-1}\n', "", 400, "length"),
        (b'{}\n{"length":2}\n{}\n', "", 400, "type"),
        (b'{}\n{"type":"event"}\nnot json\n', "", 400, "JSON"),
        (gzip.compress(envelope())[:-10], "gzip", 400, "gzip"),
        (b"\x00\x01garbage", "br", 400, "br"),
        (b"garbage", "zstd", 400, "zstd"),
        (envelope(), "compress", 400, "Content-Encoding"),
    ],
)
def test_garbage_gets_400_with_detail_and_cors(ingest_server, body, encoding, status, words):
    answer = post(
        ingest_server.port, "/api/1/envelope/", body, {**AUTH, "Content-Encoding": encoding}
    )
    assert answer.status == status, answer.body
    assert words in answer.json()["detail"]
    assert answer.headers["access-control-allow-origin"] == "*"


def test_too_large_gets_413(ingest_server):
    big = envelope({"message": "x" * (1024 * 1024 + 10)})
    answer = post(ingest_server.port, "/api/1/envelope/", big, AUTH)
    assert answer.status == 413 and "event item over" in answer.json()["detail"]
    # A 1 GiB gzip bomb (about 1 MB on the wire) is refused while streaming.
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(co.compress(b"\0" * (1 << 20)) for _ in range(1024)) + co.flush()
    answer = post(
        ingest_server.port, "/api/1/envelope/", bomb, {**AUTH, "Content-Encoding": "gzip"}
    )
    assert answer.status in (400, 413), answer.body  # zeros are not JSON: refused either way
    header_bomb = b'{"event_id": "' + b"a" * (1 << 20) + b'"}\n'
    answer = post(ingest_server.port, "/api/1/envelope/", header_bomb, AUTH)
    assert answer.status == 413 and "header line" in answer.json()["detail"]
    # Content-Length over the compressed-body limit: refused before reading.
    answer = send(
        ingest_server.port,
        "POST",
        "/api/1/envelope/",
        [("Content-Length", str(50 << 20)), *AUTH.items()],
    )
    assert answer.status == 413


def test_preflight_and_methods(ingest_server):
    answer = send(
        ingest_server.port,
        "OPTIONS",
        "/api/1/envelope/",
        [
            ("Origin", "https://app.example"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type, x-sentry-auth"),
        ],
    )
    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert "x-sentry-auth" in answer.headers["access-control-allow-headers"]
    get = send(ingest_server.port, "GET", "/api/1/envelope/")
    assert get.status == 405 and get.headers["access-control-allow-origin"] == "*"


def test_no_csrf_token_needed_and_no_cookie_set(ingest_server):
    answer = post(
        ingest_server.port,
        "/api/1/envelope/",
        envelope(),
        {**AUTH, "Cookie": "sessionid=" + "a" * 32},
    )
    assert answer.status == 200
    assert "set-cookie" not in answer.headers
