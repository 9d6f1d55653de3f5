"""Memory stays bounded with attachments: a 189 KiB gzip envelope carrying two 95 MiB attachments
(zeros compress well) once took a web worker from 72 to 641 MiB and the digest worker from 88 to
486 MiB. Attachments now stream to the spool and from it into the digest's chunk rows.

Measured on real processes: `manage.py serve` (Gunicorn + the foreman, the segment spool, the
real digest), and a Gunicorn with the database spool whose drain runs in the request. Each
process's peak (VmHWM, /proc/<pid>/status) after the envelope against its size (VmRSS) before.
"""

import hashlib
import http.client
import json
import os
import sqlite3
import uuid
import zlib
from urllib.parse import urlsplit

import pytest

from harness.deployment import ADMIN_EMAIL, ADMIN_PASSWORD, Deployment, StoredEvents
from harness.processes import wait_for
from harness.procstats import children_of
from tests.ingest.server import start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

MiB = 1024 * 1024
ATTACHMENT = 95 * MiB
BOUND_KIB = 64 * 1024  # what a process may grow by, whatever the body
SMALL = b'{}\n{"type":"event"}\n{"message":"warm-up"}\n'
ZEROS_SHA256 = hashlib.sha256(bytes(ATTACHMENT)).hexdigest()


def gzip_envelope(event_id: str) -> bytes:
    """The envelope, gzipped as it is made (never whole in this process either)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [
        packer.compress(json.dumps({"event_id": event_id}).encode() + b"\n"),
    ]
    event = json.dumps({"message": "two big attachments", "level": "error"}).encode()
    parts.append(packer.compress(b'{"type":"event","length":%d}\n%s\n' % (len(event), event)))
    zeros = bytes(MiB)
    for name in ("core.bin", "heap.bin"):
        header = {"type": "attachment", "length": ATTACHMENT, "filename": name}
        parts.append(packer.compress(json.dumps(header).encode() + b"\n"))
        for _ in range(ATTACHMENT // MiB):
            parts.append(packer.compress(zeros))
        parts.append(packer.compress(b"\n"))
    parts.append(packer.flush())
    return b"".join(parts)


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def post(base_url, path, body, headers):
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    try:
        conn.request("POST", path, body=body, headers={"Content-Length": str(len(body)), **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def assert_bounded(idle: dict, what: str):
    for pid, rss in idle.items():
        peak = status_kib(pid, "VmHWM")
        print(f"{what} {pid}: idle {rss / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB")
        assert peak - rss < BOUND_KIB, (
            f"{what} {pid}: idle {rss // 1024} MiB, peak {peak // 1024} MiB"
        )


@pytest.fixture(scope="module")
def body_and_id():
    event_id = uuid.uuid4().hex
    body = gzip_envelope(event_id)
    assert len(body) < 256 * 1024  # what the issue measured: ~189 KiB on the wire
    return body, event_id


def test_serve_keeps_web_and_digest_workers_bounded(tmp_path, body_and_id):
    body, event_id = body_and_id
    deployment = Deployment(tmp_path / "data")
    deployment.start(wait_ready=True)
    try:
        dsn = deployment.dsn
        pids = deployment.pids()
        # Ready answers from the first worker up; the second may still be forking.
        wait_for(lambda: len(children_of(pids["web"])) == 2, what="both web workers")
        web = {pid: status_kib(pid, "VmRSS") for pid in children_of(pids["web"])}
        worker = {pids["worker"]: status_kib(pids["worker"], "VmRSS")}
        assert web and len(web) == 2
        status, answer = post(
            deployment.base_url,
            dsn.envelope_path,
            body,
            {
                "Content-Encoding": "gzip",
                "X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={dsn.public_key}",
            },
        )
        assert status == 200, answer
        stored = StoredEvents(deployment.data_dir)
        reached, _ = stored.wait_for(1, timeout=180)
        assert reached, deployment.log()[-3000:]
        assert_bounded(web, "web worker")
        assert_bounded(worker, "digest worker")

        # Stored whole, at their real size (no silent cut), and the spool let go of them.
        conn = sqlite3.connect(f"file:{stored.path}?mode=ro", uri=True)
        try:
            rows = conn.execute(
                "SELECT a.id, a.filename, a.size, a.sha256, a.chunk_count "
                "FROM bugsink_issues_eventattachment a JOIN bugsink_issues_event e "
                "ON e.id = a.event_id WHERE e.event_id = ? ORDER BY a.filename",
                (event_id,),
            ).fetchall()
        finally:
            conn.close()
        assert [r[1:] for r in rows] == [
            ("core.bin", ATTACHMENT, ZEROS_SHA256, 95),
            ("heap.bin", ATTACHMENT, ZEROS_SHA256, 95),
        ]
        # The drain removes them once the consumer returned (just after the digest committed).
        wait_for(
            lambda: not os.listdir(deployment.data_dir / "spool" / "attachments"),
            timeout=30,
            what="the spool to let go of the attachments",
        )

        # The admin's download streams the whole attachment back.
        client = deployment.browser()
        client.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        with client.opener.open(
            f"{deployment.base_url}/admin/bugsink_issues/eventattachment/{rows[0][0]}/download/",
            timeout=120,
        ) as response:
            assert response.headers["Content-Length"] == str(ATTACHMENT)
            digest, size = hashlib.sha256(), 0
            while piece := response.read(MiB):
                digest.update(piece)
                size += len(piece)
        assert (size, digest.hexdigest()) == (ATTACHMENT, ZEROS_SHA256)
        assert_bounded(web, "web worker")  # the download too
    finally:
        deployment.stop()


def test_database_spool_keeps_the_web_worker_bounded(tmp_path, body_and_id):
    body, event_id = body_and_id
    server = start_server(
        tmp_path,
        INGEST_TEST_SPOOL="bugsink_ingest.spool.database.DatabaseSpool",
        INGEST_TEST_CONSUMER="tests.ingest.recorder.record_digests",
    )
    try:
        wait_for(lambda: len(children_of(server.proc.pid)) == 2, what="both workers")
        for _ in range(20):  # both workers past their first request (lazy imports, connections)
            status, _ = post(server.base, "/api/1/envelope/?sentry_key=publickey123", SMALL, {})
            assert status == 200
        web = {pid: status_kib(pid, "VmRSS") for pid in children_of(server.proc.pid)}
        status, answer = post(
            server.base,
            "/api/1/envelope/?sentry_key=publickey123",
            body,
            {"Content-Encoding": "gzip"},
        )
        assert status == 200, answer
        # The drain ran in the request (ImmediateBackend): the consumer read both attachments
        # from the spool's chunk rows, a chunk at a time.
        all_sums = [json.loads(p.read_text()) for p in (tmp_path / "received").glob("*.sums")]
        (sums,) = [s for s in all_sums if s["attachments"]]
        assert sums["event_id"] == event_id
        assert sums["attachments"] == [
            {"filename": n, "size": ATTACHMENT, "read": ATTACHMENT, "sha256": ZEROS_SHA256}
            for n in ("core.bin", "heap.bin")
        ]
        assert_bounded(web, "web worker")
        conn = sqlite3.connect(tmp_path / "db.sqlite3")
        try:
            left = conn.execute(
                "SELECT count(*) FROM bugsink_ingest_spoolattachmentchunk"
            ).fetchone()
        finally:
            conn.close()
        assert left == (0,)  # gone with the event's row
    finally:
        stop_server(server)


def test_an_attachment_over_the_limit_is_refused_with_a_message(tmp_path):
    server = start_server(tmp_path)
    try:
        packed = zlib.compressobj(6, zlib.DEFLATED, 31)
        header = {"type": "attachment", "length": 101 * MiB, "filename": "big.bin"}
        body = packed.compress(b'{}\n{"type":"event"}\n{"message":"m"}\n')
        body += packed.compress(json.dumps(header).encode() + b"\n") + packed.flush()
        status, answer = post(
            server.base,
            "/api/1/envelope/?sentry_key=publickey123",
            body,
            {"Content-Encoding": "gzip"},
        )
        assert status == 413
        assert "MAX_ATTACHMENT_SIZE" in json.loads(answer)["detail"]
        # A length-less attachment that runs past the limit: refused the same way, nothing kept.
        streamed = zlib.compressobj(6, zlib.DEFLATED, 31)
        body = streamed.compress(b'{}\n{"type":"event"}\n{"message":"m"}\n{"type":"attachment"}\n')
        for _ in range(101):
            body += streamed.compress(bytes(MiB))
        body += streamed.flush()
        status, answer = post(
            server.base,
            "/api/1/envelope/?sentry_key=publickey123",
            body,
            {"Content-Encoding": "gzip"},
        )
        assert status == 413, answer
        assert os.listdir(tmp_path / "spool" / "attachments") == []
    finally:
        stop_server(server)
