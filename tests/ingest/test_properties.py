"""Property tests: whatever the bytes, the decoder and the envelope parser end cleanly, the view
answers 2xx/4xx, and bombs cost bounded memory."""

import gzip
import json
import tracemalloc
import zlib

import brotli
import pytest
import zstandard
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bugsink_ingest.decoding import decode_stream
from bugsink_ingest.envelope import Limits, parse_envelope
from bugsink_ingest.errors import IngestError

LIMITS = Limits(header_line=4096, event=65536, attachment=65536)
ENCODINGS = ["", "gzip", "deflate", "br", "zstd"]
COMPRESS = {
    "": lambda b: b,
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}


def chunks_of(data, size):
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


item_headers = st.fixed_dictionaries(
    {"type": st.sampled_from(["event", "attachment", "session", "feedback", "x", "user_report"])},
    optional={"length": st.integers(-2, 300), "filename": st.text(max_size=5)},
)
json_ish = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def envelopes(draw):
    """Near-valid envelopes, then mangled: the interesting inputs for a parser."""
    parts = [json.dumps(draw(st.dictionaries(st.text(max_size=8), json_ish, max_size=3))).encode()]
    for _ in range(draw(st.integers(0, 4))):
        parts.append(json.dumps(draw(item_headers)).encode())
        parts.append(draw(st.binary(max_size=200)))
    body = b"\n".join(parts) + draw(st.sampled_from([b"", b"\n", b"\r\n"]))
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(body)))
        body = body[:cut] + draw(st.binary(max_size=20)) + body[cut + 1 :]
    return body


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=600) | envelopes(),
    encoding=st.sampled_from(ENCODINGS),
    compress=st.booleans(),
    chunk=st.integers(1, 64),
)
def test_decoder_and_parser_never_fail_uncleanly(body, encoding, compress, chunk):
    data = COMPRESS[encoding](body) if compress else body
    try:
        envelope = parse_envelope(decode_stream(chunks_of(data, chunk), encoding, 100_000), LIMITS)
    except IngestError as e:
        assert e.status in (400, 413) and e.detail
        return
    for item in envelope.items:
        assert len(item.payload) <= LIMITS.attachment


@settings(max_examples=200, deadline=None)
@given(body=envelopes(), chunk=st.integers(1, 50))
def test_chunking_never_changes_the_result(body, chunk):
    def parse(pieces):
        try:
            env = parse_envelope(iter(pieces), LIMITS)
            return env.headers, [(i.type, i.payload) for i in env.items]
        except IngestError as e:
            return type(e).__name__

    assert parse(chunks_of(body, chunk)) == parse([body])


@pytest.fixture
def project_key(db, tmp_path):
    from bugsink_ingest.models import Project, ProjectKey

    project = Project.objects.create(name="prop")
    key = ProjectKey.objects.create(project=project)
    with override_settings(
        BUGSINK_INGEST_CONSUMER="tests.ingest.test_spool.collect",
        BUGSINK_INGEST_RATE_LIMIT_DB=tmp_path / "rl.sqlite3",
    ):
        yield key


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=400) | envelopes(),
    encoding=st.sampled_from(ENCODINGS + ["bogus", "UTF-8"]),
    endpoint=st.sampled_from(["envelope", "store", "security"]),
    compress=st.booleans(),
)
def test_the_view_answers_2xx_or_4xx_for_any_input(project_key, body, encoding, endpoint, compress):
    data = COMPRESS[encoding](body) if compress and encoding in COMPRESS else body
    response = Client().post(
        f"/api/{project_key.project_id}/{endpoint}/?sentry_key={project_key.public_key}",
        data=data,
        content_type="application/octet-stream",
        headers={"content-encoding": encoding},
    )
    assert response.status_code in (200, 400, 413), response.content
    assert response["Access-Control-Allow-Origin"] == "*"
    detail_or_id = json.loads(response.content)
    assert (
        ("id" in detail_or_id or detail_or_id == {})
        if response.status_code == 200
        else detail_or_id["detail"]
    )


def _bomb(kind):
    zeros = b"\0" * (1 << 20)
    if kind == "gzip":
        co = zlib.compressobj(9, zlib.DEFLATED, 31)
        return b"".join(co.compress(zeros) for _ in range(1024)) + co.flush()
    if kind == "br":
        co = brotli.Compressor(quality=1)
        return b"".join(co.process(zeros) for _ in range(1024)) + co.finish()
    co = zstandard.ZstdCompressor().compressobj()
    return b"".join(co.compress(zeros) for _ in range(1024)) + co.flush()


@pytest.mark.parametrize("kind", ["gzip", "br", "zstd"])
def test_one_gib_bombs_cost_constant_memory(kind):
    # 1 GiB of zeros in about 1 MB (gzip), 0.2 MB (br) or 32 KB (zstd): refused at the envelope
    # limit, having held one step's output at a time.
    bomb = _bomb(kind)
    tracemalloc.start()
    try:
        with pytest.raises(IngestError) as refused:
            for _ in decode_stream(chunks_of(bomb, 65536), kind, 200 * 1024 * 1024):
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.status == 413
    assert peak < 8 * 1024 * 1024, peak


def test_a_huge_dropped_item_streams_past_in_constant_memory():
    # 150 MiB replay item next to an event: skipped as it streams, the event kept.
    event = b'{"message": "kept"}'
    size = 150 * 1024 * 1024
    co = zlib.compressobj(6, zlib.DEFLATED, 31)
    parts = [co.compress(b'{}\n{"type":"replay_recording","length":%d}\n' % size)]
    parts += [co.compress(b"\0" * (1 << 20)) for _ in range(150)]
    parts.append(co.compress(b'\n{"type":"event","length":%d}\n%s\n' % (len(event), event)))
    body = b"".join(parts) + co.flush()
    tracemalloc.start()
    try:
        envelope = parse_envelope(decode_stream(chunks_of(body, 65536), "gzip", 200 << 20), LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(i.type, i.payload) for i in envelope.items] == [("event", event)]
    assert peak < 8 * 1024 * 1024, peak
