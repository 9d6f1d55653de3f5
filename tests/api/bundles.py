"""Artifact bundles and builds for the upload and source-map tests: a TypeScript file bundled by the
real esbuild (tests/js), and the bundle zips of both client families, chunked as the clients
chunk them."""

import gzip
import hashlib
import io
import json
import subprocess
import uuid
import zipfile

from harness.processes import ROOT

ESBUILD = ROOT / "tests" / "js" / "node_modules" / ".bin" / "esbuild"

APP_TS = """\
interface Order {
  id: number;
  total: number;
}

function computeTotal(order: Order): number {
  if (order.total < 0) {
    throw new Error("negative total for order " + order.id);
  }
  return order.total;
}

export function checkout(orders: Order[]): number {
  let sum = 0;
  for (const o of orders) {
    sum += computeTotal(o);
  }
  return sum;
}

(globalThis as any).runCheckout = () => checkout([{ id: 7, total: -1 }]);
"""
THROW_LINE = 8  # 1-based, in APP_TS


def build(tmp_path, source=APP_TS, name="app"):
    """(minified JS bytes, map bytes) of `source` bundled and minified by esbuild."""
    src = tmp_path / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / f"{name}.ts").write_text(source)
    out = tmp_path / "dist" / f"{name}.js"
    subprocess.run(
        [str(ESBUILD), str(src / f"{name}.ts"), "--bundle", "--minify", "--sourcemap",
         f"--outfile={out}", "--log-level=warning"],
        check=True, timeout=60,
    )  # fmt: skip
    return out.read_bytes(), out.with_suffix(".js.map").read_bytes()


def position_of(minified, needle):
    """(1-based line, 1-based column) of `needle` in the minified file, as a browser reports it."""
    for number, line in enumerate(minified.decode().splitlines(), start=1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in the build")


def cli_bundle(files, *, debug_id=None, release=None, dist=None, bundle_id=None):
    """A bundle as sentry-cli makes it: entries under files/, deflated, lowercase headers.
    files: [(url, kind, bytes, headers)]."""
    manifest = {"files": {}, "org": "bugsink", "project": "alpha"}
    if bundle_id is not False:
        manifest["debug_id"] = bundle_id or str(uuid.uuid4())
    if release:
        manifest["release"] = release
    if dist:
        manifest["dist"] = dist
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for url, kind, content, headers in files:
            name = "files/_/_/" + url.removeprefix("~/")
            archive.writestr(name, content)
            manifest["files"][name] = {"type": kind, "url": url, "headers": headers}
        archive.writestr("manifest.json", json.dumps(manifest))
    return buffer.getvalue()


def new_cli_bundle(files):
    """A bundle as the new `sentry` CLI makes it: manifest first, entries stored (no compression)
    without the files/ prefix, the header spelled Sourcemap, no bundle debug id."""
    manifest = {"org": "bugsink", "project": "alpha", "files": {}}
    for url, kind, _, headers in files:
        manifest["files"]["_/_/" + url.removeprefix("~/")] = {
            "url": url, "type": kind, "headers": headers,
        }  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for url, _, content, _ in files:
            archive.writestr("_/_/" + url.removeprefix("~/"), content)
    return buffer.getvalue()


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def chunks_of(data, size):
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def upload_chunks(client, token, chunks, gzipped=True):
    """POST the chunks as the clients do: multipart parts named file_gzip (or file), each named
    by the sha1 of its uncompressed bytes."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    name = "file_gzip" if gzipped else "file"
    parts = [
        SimpleUploadedFile(sha1(c), gzip.compress(c) if gzipped else c, "application/octet-stream")
        for c in chunks
    ]
    return client.post(
        "/api/0/organizations/bugsink/chunk-upload/",
        {name: parts},
        headers={"Authorization": f"Bearer {token}"},
    )


def assemble(client, token, data, chunks, projects=("alpha",), **extra):
    body = {"checksum": sha1(data), "chunks": [sha1(c) for c in chunks], "projects": list(projects)}
    body.update(extra)
    return client.post(
        "/api/0/organizations/bugsink/artifactbundle/assemble/",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def upload_bundle(client, token, data, *, chunk_size=64 * 1024, **extra):
    """Pre-check, upload what is missing, assemble: sentry-cli 3.x's sequence. The final answer."""
    chunks = chunks_of(data, chunk_size)
    first = assemble(client, token, data, chunks, **extra).json()
    if first["state"] == "not_found":
        missing = set(first["missingChunks"])
        response = upload_chunks(client, token, [c for c in chunks if sha1(c) in missing])
        assert response.status_code == 200, response.content
        return assemble(client, token, data, chunks, **extra).json()
    return first
