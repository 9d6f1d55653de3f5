"""Reading an artifact bundle: a zip with a `manifest.json` that lists its files.

Both zip flavours the clients make are read (see the research notes on what they send):
- sentry-cli 2.x/3.x (and the esbuild/rollup plugins, which run it): entries under `files/`,
  deflated, headers `debug-id` and `sourcemap`, a bundle `debug_id`;
- the new `sentry` CLI (inside the vite/webpack plugins): entries stored uncompressed without the
  `files/` prefix, the header spelled `Sourcemap`, no bundle id.
Header names are compared without case. A file's debug id comes from its `debug-id` header, else
from the file itself (`"debugId"`/`"debug_id"` in a map, `//# debugId=` in a minified source).
"""

import json
import re
import zipfile
from dataclasses import dataclass

from bugsink_issues.models.artifacts import ArtifactKind

__all__ = ["BundleEntry", "BundleError", "BundleManifest", "read_manifest", "sniff_debug_id"]

MAX_MANIFEST_BYTES = 32 * 1024 * 1024
_KINDS = {kind.value for kind in ArtifactKind}
_UUID = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
_DEBUG_ID_IN_MAP = re.compile(rb'"debug_?[iI]d"\s*:\s*"(' + _UUID.encode() + rb')"')
_DEBUG_ID_IN_SOURCE = re.compile(rb"//# debugId=(" + _UUID.encode() + rb")")


class BundleError(ValueError):
    """The upload is not a bundle this server can read (the message says why, for the client)."""


@dataclass(frozen=True)
class BundleEntry:
    zip_name: str
    url: str
    kind: str
    headers: dict
    declared_size: int

    @property
    def debug_id(self):
        return normalize_debug_id(self.headers.get("debug-id", ""))

    @property
    def sourcemap(self):
        return self.headers.get("sourcemap") or self.headers.get("x-sourcemap") or ""


@dataclass(frozen=True)
class BundleManifest:
    bundle_id: str
    release: str
    dist: str
    entries: list


def normalize_debug_id(value):
    """A debug id in the dashed lowercase form ("" if it is not one)."""
    raw = str(value or "").strip().lower().replace("-", "")
    if len(raw) != 32 or any(c not in "0123456789abcdef" for c in raw):
        return ""
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def read_manifest(archive: zipfile.ZipFile, *, max_files, max_total_bytes) -> BundleManifest:
    try:
        info = archive.getinfo("manifest.json")
    except KeyError:
        raise BundleError("the bundle has no manifest.json")
    if info.file_size > MAX_MANIFEST_BYTES:
        raise BundleError("the bundle's manifest.json is too large")
    try:
        manifest = json.loads(archive.read(info))
    except ValueError as exc:
        raise BundleError(f"the bundle's manifest.json is not JSON: {exc}")
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise BundleError("the bundle's manifest.json has no files object")
    if len(files) > max_files:
        raise BundleError(f"the bundle has {len(files)} files; at most {max_files} are accepted")
    names = set(archive.namelist())
    entries, total = [], 0
    for zip_name, meta in files.items():
        if not isinstance(meta, dict) or zip_name not in names:
            raise BundleError(f"the manifest names {zip_name!r}, which is not in the bundle")
        size = archive.getinfo(zip_name).file_size
        total += size
        if total > max_total_bytes:
            raise BundleError(f"the bundle's files add up to more than {max_total_bytes} bytes")
        raw_headers = meta.get("headers")
        headers = raw_headers if isinstance(raw_headers, dict) else {}
        kind = str(meta.get("type") or "").lower()
        url = str(meta.get("url") or "")
        if not url:
            raise BundleError(f"the manifest gives {zip_name!r} no url")
        entries.append(
            BundleEntry(
                zip_name=zip_name,
                url=url[:500],
                kind=kind if kind in _KINDS else ArtifactKind.OTHER,
                headers={str(k).lower(): str(v)[:500] for k, v in headers.items()},
                declared_size=size,
            )
        )
    return BundleManifest(
        bundle_id=normalize_debug_id(manifest.get("debug_id")),
        release=str(manifest.get("release") or "")[:250],
        dist=str(manifest.get("dist") or "")[:64],
        entries=entries,
    )


def sniff_debug_id(kind, head, tail):
    """The debug id written into a file (its first and last bytes), for files whose manifest entry
    has no `debug-id` header."""
    pattern = _DEBUG_ID_IN_MAP if kind == ArtifactKind.SOURCE_MAP else _DEBUG_ID_IN_SOURCE
    for part in (tail, head):
        match = pattern.search(part)
        if match:
            return normalize_debug_id(match.group(1).decode())
    return ""
