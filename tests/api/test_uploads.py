"""Chunked uploads: the options, chunk POSTs, artifact bundle assembly (both zip flavours), release
files, debug files, and the refusals."""

import gzip
import io
import json
import os
import shutil
import subprocess
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bugsink_issues.artifacts.store import BlobStore
from bugsink_issues.models import ApiToken, ArtifactBundle, ArtifactFile, DebugFile
from tests.api.bundles import (
    assemble,
    build,
    chunks_of,
    cli_bundle,
    new_cli_bundle,
    sha1,
    upload_bundle,
    upload_chunks,
)

OPTIONS = "/api/0/organizations/bugsink/chunk-upload/"


@pytest.fixture
def alice(world):
    return ApiToken.objects.create_user_token(world["alice"])[1]


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_options_announce_an_absolute_same_origin_url_and_the_limits(client, alice, settings):
    settings.BUGSINK_ISSUES_BASE_URL = "https://errors.example.com/"
    options = client.get(OPTIONS, headers=auth(alice)).json()
    assert options["url"] == "https://errors.example.com/api/0/organizations/bugsink/chunk-upload/"
    assert options["hashAlgorithm"] == "sha1" and options["compression"] == ["gzip"]
    assert {"artifact_bundles", "debug_files"} <= set(options["accept"])
    for field in ("chunkSize", "chunksPerRequest", "maxRequestSize", "concurrency", "maxFileSize"):
        assert isinstance(options[field], int) and options[field] > 0
    settings.BUGSINK_ISSUES_BASE_URL = ""
    fallback = client.get(OPTIONS, headers=auth(alice)).json()["url"]
    assert fallback == "http://testserver/api/0/organizations/bugsink/chunk-upload/"


def test_uploads_without_an_artifact_dir_are_refused_clearly(client, alice, settings):
    settings.BUGSINK_ISSUES_ARTIFACT_DIR = None
    response = client.get(OPTIONS, headers=auth(alice))
    assert response.status_code == 400
    assert "BUGSINK_ISSUES_ARTIFACT_DIR" in response.json()["detail"]


def test_chunks_are_stored_by_sha1_gzipped_or_not(client, alice, artifact_dir):
    data = os.urandom(300_000)
    chunks = chunks_of(data, 100_000)
    assert upload_chunks(client, alice, chunks[:2]).status_code == 200
    assert upload_chunks(client, alice, chunks[2:], gzipped=False).status_code == 200
    store = BlobStore(artifact_dir)
    assert all(store.chunk_path(sha1(c)).read_bytes() == c for c in chunks)


@pytest.mark.parametrize(
    "make_part, message",
    [
        (lambda c: SimpleUploadedFile("not-a-sha1", gzip.compress(c)), "sha1"),
        (lambda c: SimpleUploadedFile(sha1(c + b"x"), gzip.compress(c)), "corrupted"),
        (lambda c: SimpleUploadedFile(sha1(c), b"not gzip at all"), "gzip"),
    ],
)
def test_bad_chunks_are_400(client, alice, make_part, message):
    response = client.post(OPTIONS, {"file_gzip": [make_part(b"some chunk")]}, headers=auth(alice))
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_a_gzip_bomb_is_refused_without_expanding_it(client, alice, settings, artifact_dir):
    settings.BUGSINK_ISSUES_UPLOAD_CHUNK_SIZE = 1024 * 1024
    huge = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = huge.compress(b"\0" * (64 * 1024 * 1024)) + huge.flush()  # 64 MiB in about 64 KiB
    assert len(bomb) < 200_000
    part = SimpleUploadedFile("0" * 40, bomb)
    response = client.post(OPTIONS, {"file_gzip": [part]}, headers=auth(alice))
    assert response.status_code == 400 and "larger than" in response.json()["detail"]
    assert not list((artifact_dir / "chunks").glob("*/*"))


def test_too_many_chunks_or_too_large_a_request(client, alice, settings):
    settings.BUGSINK_ISSUES_UPLOAD_CHUNKS_PER_REQUEST = 2
    parts = [b"a", b"b", b"c"]
    assert upload_chunks(client, alice, parts).status_code == 400
    settings.BUGSINK_ISSUES_UPLOAD_MAX_REQUEST_SIZE = 100
    response = upload_chunks(client, alice, [os.urandom(1000)])
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert client.post(OPTIONS, {}, headers=auth(alice)).status_code == 400


def test_chunk_upload_needs_an_upload_scope(client, world):
    reader = ApiToken.objects.create_user_token(world["alice"], scopes=["event:read"])[1]
    assert client.get(OPTIONS, headers=auth(reader)).status_code == 403
    assert upload_chunks(client, reader, [b"x"]).status_code == 403


def source_map_files(
    tmp_path, *, headers_key="sourcemap", debug_id="6b5ce3b4-7e1a-4a6a-9d35-57c1a38d6f11"
):
    minified, source_map = build(tmp_path)
    return [
        ("~/app.js", "minified_source", minified, {"debug-id": debug_id, headers_key: "app.js.map"}),
        ("~/app.js.map", "source_map", source_map, {"debug-id": debug_id}),
    ]  # fmt: skip


def test_assemble_sentry_cli_bundle_with_precheck(client, alice, world, tmp_path, artifact_dir):
    files = source_map_files(tmp_path)
    data = cli_bundle(files, release="1.0", dist="web1")
    chunks = chunks_of(data, 1024)
    first = assemble(client, alice, data, chunks).json()
    assert first["state"] == "not_found"
    assert sorted(first["missingChunks"]) == sorted({sha1(c) for c in chunks})
    upload_chunks(client, alice, chunks)
    assert assemble(client, alice, data, chunks).json() == {
        "state": "ok", "missingChunks": [], "detail": None,
    }  # fmt: skip
    bundle = ArtifactBundle.objects.get()
    assert (bundle.version, bundle.dist, bundle.file_count) == ("1.0", "web1", 2)
    rows = {f.url: f for f in ArtifactFile.objects.all()}
    assert rows["~/app.js"].sourcemap == "app.js.map" and rows["~/app.js"].kind == "minified_source"
    assert rows["~/app.js.map"].debug_id == "6b5ce3b4-7e1a-4a6a-9d35-57c1a38d6f11"
    # The chunks are gone once assembled; the same upload again is "ok" at once.
    assert not list((artifact_dir / "chunks").glob("*/*"))
    assert assemble(client, alice, data, chunks).json()["state"] == "ok"


def test_assemble_new_cli_bundle_and_bind_to_another_project(client, world, tmp_path):
    root = ApiToken.objects.create_user_token(world["root"])[1]
    files = source_map_files(tmp_path, headers_key="Sourcemap")
    data = new_cli_bundle(files)
    answer = upload_bundle(client, root, data, projects=["alpha"], version="2.0")
    assert answer["state"] == "ok", answer
    assert ArtifactFile.objects.get(url="~/app.js").sourcemap == "app.js.map"
    again = upload_bundle(client, root, data, projects=["alpha", "beta"], version="2.0")
    assert again["state"] == "ok"
    assert ArtifactFile.objects.filter(project=world["beta"]).count() == 2
    assert ArtifactFile.objects.filter(project=world["alpha"]).count() == 2


def test_debug_id_is_read_from_the_files_when_no_header_says_it(client, alice, tmp_path):
    minified, source_map = build(tmp_path)
    debug_id = "0a1b2c3d-4e5f-4061-8273-8495a6b7c8d9"
    mapped = json.loads(source_map)
    mapped["debug_id"] = debug_id  # as sentry-cli 2.x writes it into the map
    files = [
        ("~/app.js", "minified_source", minified + f"\n//# debugId={debug_id}\n".encode(), {}),
        ("~/app.js.map", "source_map", json.dumps(mapped).encode(), {}),
    ]
    assert upload_bundle(client, alice, cli_bundle(files))["state"] == "ok"
    assert set(ArtifactFile.objects.values_list("debug_id", flat=True)) == {debug_id}


@pytest.mark.parametrize(
    "data, detail",
    [
        (b"this is not a zip file at all", "zip"),
        (cli_bundle([]).replace(b"manifest.json", b"manifest.jsox"), "manifest"),
    ],
)
def test_an_unreadable_bundle_is_an_error_state(client, alice, data, detail):
    answer = upload_bundle(client, alice, data)
    assert answer["state"] == "error" and detail in answer["detail"]
    assert not ArtifactBundle.objects.exists()


def test_chunks_that_do_not_make_the_checksum_are_an_error(client, alice):
    data = cli_bundle([("~/a.js", "minified_source", b"var a=1;", {})])
    chunks = chunks_of(data, 100)
    upload_chunks(client, alice, chunks)
    response = client.post(
        "/api/0/organizations/bugsink/artifactbundle/assemble/",
        {"checksum": "f" * 40, "chunks": [sha1(c) for c in chunks], "projects": ["alpha"]},
        content_type="application/json",
        headers=auth(alice),
    )
    assert response.json()["state"] == "error"


def test_assemble_refuses_bad_requests(client, alice):
    def post(body):
        return client.post(
            "/api/0/organizations/bugsink/artifactbundle/assemble/",
            body,
            content_type="application/json",
            headers=auth(alice),
        )

    assert post({"checksum": "nope", "chunks": [], "projects": ["alpha"]}).status_code == 400
    assert post({"checksum": "a" * 40, "chunks": ["x"], "projects": ["alpha"]}).status_code == 400
    assert post({"checksum": "a" * 40, "chunks": [], "projects": []}).status_code == 400
    unknown = post({"checksum": "a" * 40, "chunks": ["b" * 40], "projects": ["beta"]})
    assert unknown.status_code == 400 and "beta" in unknown.json()["detail"]


def test_release_files_upload_list_delete(client, alice, world, artifact_dir):
    base = "/api/0/projects/bugsink/alpha/releases/1.0/files/"
    assert client.get(base, headers=auth(alice)).status_code == 404  # no such release yet
    client.post(
        "/api/0/projects/bugsink/alpha/releases/", {"version": "1.0"},
        content_type="application/json", headers=auth(alice),
    )  # fmt: skip
    upload = SimpleUploadedFile("app.js", b"var x=1;\n//# sourceMappingURL=app.js.map\n")
    response = client.post(
        base,
        {"file": upload, "name": "~/app.js", "header": ["Sourcemap: app.js.map"]},
        headers=auth(alice),
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "~/app.js" and created["headers"] == {"sourcemap": "app.js.map"}
    (listed,) = client.get(base, headers=auth(alice)).json()
    assert listed["id"] == created["id"]
    store = BlobStore(artifact_dir)
    assert store.has_blob(created["sha1"])
    deleted = client.delete(f"{base}{created['id']}/", headers=auth(alice))
    assert deleted.status_code == 204
    assert not store.has_blob(created["sha1"])
    bad = client.post(base, {"name": "~/x.js"}, headers=auth(alice))
    assert bad.status_code == 400


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler for the ELF file")
def test_debug_file_assembly_keeps_the_file_and_describes_it(client, alice, world, tmp_path):
    (tmp_path / "hello.c").write_text("int main(void) { return 0; }\n")
    subprocess.run(
        ["cc", "-g", "-o", str(tmp_path / "hello"), str(tmp_path / "hello.c")], check=True
    )
    data = (tmp_path / "hello").read_bytes()
    chunks = chunks_of(data, 4096)
    path = "/api/0/projects/bugsink/alpha/files/difs/assemble/"
    body = {sha1(data): {"name": "hello", "debug_id": None, "chunks": [sha1(c) for c in chunks]}}
    first = client.post(path, body, content_type="application/json", headers=auth(alice)).json()
    assert first[sha1(data)]["state"] == "not_found"
    upload_chunks(client, alice, chunks)
    done = client.post(path, body, content_type="application/json", headers=auth(alice)).json()
    answer = done[sha1(data)]
    assert answer["state"] == "ok" and answer["missingChunks"] == []
    assert answer["dif"]["objectName"] == "hello" and answer["dif"]["cpuName"] == "x86_64"
    assert answer["dif"]["data"]["type"] in ("exe", "lib", "dbg")
    stored = DebugFile.objects.get()
    assert stored.file_format == "elf" and "debug" in stored.features and stored.debug_id
    bad = client.post(path, b"[1, 2]", content_type="application/json", headers=auth(alice))
    assert bad.status_code == 400


def test_sweep_removes_old_chunks_only(artifact_dir):
    store = BlobStore(artifact_dir)
    old, new = b"old chunk", b"new chunk"
    for data in (old, new):
        store.save_chunk(sha1(data), io.BytesIO(data), gzipped=False, max_bytes=100)
    past = store.chunk_path(sha1(old)).stat().st_mtime - 10_000
    os.utime(store.chunk_path(sha1(old)), (past, past))
    assert store.sweep_chunks(5_000) == 1
    assert store.missing_chunks([sha1(old), sha1(new)]) == [sha1(old)]


def test_release_bundle_of_older_clients_is_bound_to_the_release(client, alice, tmp_path):
    """sentry-cli 2.x without artifact_bundles in the options: the same zip, assembled on the
    release's own path."""
    client.post(
        "/api/0/organizations/bugsink/releases/", {"version": "old-1", "projects": ["alpha"]},
        content_type="application/json", headers=auth(alice),
    )  # fmt: skip
    files = source_map_files(tmp_path)
    data = cli_bundle(files, bundle_id=False)
    chunks = chunks_of(data, 2048)
    path = "/api/0/organizations/bugsink/releases/old-1/assemble/"
    body = {"checksum": sha1(data), "chunks": [sha1(c) for c in chunks]}
    first = client.post(path, body, content_type="application/json", headers=auth(alice)).json()
    assert first["state"] == "not_found"
    upload_chunks(client, alice, chunks)
    done = client.post(path, body, content_type="application/json", headers=auth(alice)).json()
    assert done["state"] == "ok"
    assert set(ArtifactFile.objects.values_list("version", flat=True)) == {"old-1"}
    missing = client.post(
        "/api/0/organizations/bugsink/releases/nope/assemble/", body,
        content_type="application/json", headers=auth(alice),
    )  # fmt: skip
    assert missing.status_code == 404


def test_orphans_of_a_deleted_project_are_swept(client, world, tmp_path, artifact_dir):
    from bugsink_issues.artifacts.assemble import sweep_orphans

    root = ApiToken.objects.create_user_token(world["root"])[1]
    upload_bundle(client, root, cli_bundle(source_map_files(tmp_path)), projects=["beta"])
    store = BlobStore(artifact_dir)
    blobs = set(ArtifactFile.objects.values_list("checksum", flat=True))
    assert len(blobs) == 2 and all(store.has_blob(b) for b in blobs)
    assert sweep_orphans(store, min_age_seconds=0) == 0  # in use: kept
    world["beta"].delete()
    assert not ArtifactFile.objects.exists()
    sweep_orphans(store, min_age_seconds=0)
    assert not ArtifactBundle.objects.exists()
    assert not any(store.has_blob(b) for b in blobs)
