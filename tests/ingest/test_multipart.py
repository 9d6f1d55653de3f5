"""The streaming multipart reader of the minidump endpoint: parts come out the same however the
body is cut into chunks (a boundary split across two), a large file part streams in bounded
memory, and broken framing is a BadRequest."""

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bugsink_ingest.errors import BadRequest
from bugsink_ingest.multipart import boundary_of, read_parts

BOUNDARY = b"----xYz"


def form(*parts):
    out = [b"preamble to ignore"]
    for name, filename, data in parts:
        disposition = b'form-data; name="%s"' % name
        if filename is not None:
            disposition += b'; filename="%s"' % filename
        out.append(b"\r\n--%s\r\nContent-Disposition: %s\r\n\r\n%s" % (BOUNDARY, disposition, data))
    return b"".join(out) + b"\r\n--%s--\r\nepilogue" % BOUNDARY


def collect(chunks):
    return [(p.name, p.filename, b"".join(p.body)) for p in read_parts(iter(chunks), BOUNDARY)]


PARTS = [
    (b"sentry", None, b'{"release": "a@1"}'),
    (b"upload_file_minidump", b"c.dmp", b"MDMP\r\n--not-the-boundary\r\n" + bytes(range(256))),
    (b"empty", None, b""),
]


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(form(*PARTS))), max_size=12))
def test_any_chunking_gives_the_same_parts(cuts):
    body = form(*PARTS)
    edges = sorted({0, len(body), *cuts})
    chunks = [body[a:b] for a, b in zip(edges, edges[1:], strict=False)]
    assert collect(chunks) == [(n.decode(), f.decode() if f else None, d) for n, f, d in PARTS]


def test_a_large_file_part_streams_in_bounded_memory():
    size, piece = 64 * 1024 * 1024, b"\xab" * (64 * 1024)

    def body():
        yield b'--%s\r\nContent-Disposition: form-data; name="upload_file_minidump"; ' % BOUNDARY
        yield b'filename="big.dmp"\r\n\r\n'
        for _ in range(size // len(piece)):
            yield piece
        yield b"\r\n--%s--\r\n" % BOUNDARY

    tracemalloc.start()
    try:
        (part,) = list(_consume(read_parts(body(), BOUNDARY)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert part == ("upload_file_minidump", size)
    assert peak < 2 * 1024 * 1024, peak  # a few chunks, never the 64 MiB


def _consume(parts):
    for part in parts:
        yield part.name, sum(len(chunk) for chunk in part.body)


@pytest.mark.parametrize(
    "content_type",
    ["application/octet-stream", "multipart/form-data", 'multipart/form-data; boundary=""'],
)
def test_a_body_that_is_not_a_form_with_a_boundary_is_refused(content_type):
    with pytest.raises(BadRequest):
        boundary_of(content_type)


def test_the_boundary_parameter_may_be_quoted():
    assert boundary_of('multipart/form-data; charset=utf-8; boundary="a b:c"') == b"a b:c"


@pytest.mark.parametrize(
    "body, message",
    [
        (b"no boundary at all", "ended inside the preamble"),
        (
            b'--%s\r\nContent-Disposition: form-data; name="f"\r\n\r\ndata' % BOUNDARY,
            "ended inside",
        ),
        (b"--%s\r\nContent-Type: text/plain\r\n\r\nx\r\n--%s--" % (BOUNDARY, BOUNDARY), "name"),
        (b"--%s\r\n" % BOUNDARY + b"X-Long: " + b"a" * 20_000 + b"\r\n\r\n", "headers"),
    ],
)
def test_broken_framing_is_a_bad_request(body, message):
    with pytest.raises(BadRequest, match=message):
        collect([body])
