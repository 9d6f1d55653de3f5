"""Turning uploaded chunks into stored files: artifact bundles, release files and debug files.

Assembly happens inside the assemble request, so the answer is final: `ok` once the files are
stored, `not_found` with the chunks still missing, `error` with a reason. Never `assembling`: the
new `sentry` CLI polls that state without end. An identical upload (same checksum) is `ok` at
once, and binds the stored files to any new project, release or dist it names.
"""

import logging
import zipfile
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from bugsink_issues.artifacts.bundles import (
    BundleError,
    normalize_debug_id,
    read_manifest,
    sniff_debug_id,
)
from bugsink_issues.artifacts.store import COPY_BYTES, ChunkError
from bugsink_issues.conf import app_settings
from bugsink_issues.models.artifacts import ArtifactBundle, ArtifactFile, ArtifactKind, DebugFile

__all__ = [
    "Assembled",
    "add_release_file",
    "assemble_artifact_bundle",
    "assemble_debug_file",
    "delete_bundle",
    "delete_release_file",
    "remove_bundle_from_project",
    "sweep_orphans",
]

logger = logging.getLogger(__name__)

SNIFF_BYTES = 4096


@dataclass
class Assembled:
    state: str  # "ok", "not_found" or "error": the assemble states the clients know
    missing: list = field(default_factory=list)
    detail: str | None = None
    obj: object = None


def _stored_files(store, archive, manifest):
    """Each entry of the bundle streamed into the blob store: [(entry, sha1, size, debug id)]."""
    out = []
    for entry in manifest.entries:
        with archive.open(entry.zip_name) as source:
            head = source.read(SNIFF_BYTES)
            sha1, size = store.put_blob(_Rejoined(head, source), app_settings.UPLOAD_MAX_FILE_SIZE)
        debug_id = entry.debug_id
        if not debug_id and entry.kind in (ArtifactKind.SOURCE_MAP, ArtifactKind.MINIFIED_SOURCE):
            debug_id = sniff_debug_id(entry.kind, head, _tail(store, sha1, size))
        out.append((entry, sha1, size, debug_id))
    return out


class _Rejoined:
    """A file object that yields `head` (already read) and then the rest of `source`."""

    def __init__(self, head, source):
        self.head, self.source = head, source

    def read(self, size=-1):
        if self.head:
            piece, self.head = self.head, b""
            return piece
        return self.source.read(size if size and size > 0 else COPY_BYTES)


def _tail(store, sha1, size):
    with open(store.blob_path(sha1), "rb") as f:
        f.seek(max(0, size - SNIFF_BYTES))
        return f.read()


def assemble_artifact_bundle(store, *, projects, checksum, chunks, version="", dist=""):
    """Assemble (or find) the bundle `checksum` from `chunks` for `projects` (Project rows)."""
    existing = ArtifactBundle.objects.filter(checksum=checksum).first()
    if existing is not None:
        _bind(existing, projects, version or existing.version, dist or existing.dist)
        return Assembled("ok", obj=existing)
    if not chunks:
        return Assembled("error", detail="The request names no chunks.")
    missing = store.missing_chunks(chunks)
    if missing:
        return Assembled("not_found", missing=missing)
    max_total = app_settings.UPLOAD_MAX_FILE_SIZE
    try:
        temporary = store.assemble(chunks, checksum, max_total)
    except ChunkError as exc:
        return Assembled("error", detail=str(exc))
    try:
        with zipfile.ZipFile(temporary) as archive:
            manifest = read_manifest(
                archive,
                max_files=app_settings.UPLOAD_MAX_BUNDLE_FILES,
                max_total_bytes=4 * max_total,
            )
            files = _stored_files(store, archive, manifest)
    except (BundleError, ChunkError) as exc:
        return Assembled("error", detail=f"Invalid artifact bundle: {exc}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        return Assembled("error", detail=f"Invalid artifact bundle: not a readable zip ({exc})")
    finally:
        temporary.unlink(missing_ok=True)
    version = version or manifest.release
    dist = dist or manifest.dist
    try:
        with transaction.atomic():
            bundle = ArtifactBundle.objects.create(
                checksum=checksum,
                bundle_id=manifest.bundle_id,
                version=version,
                dist=dist,
                size=sum(size for _, _, size, _ in files),
                file_count=len(files),
            )
            bundle.projects.set(projects)
            ArtifactFile.objects.bulk_create(
                ArtifactFile(
                    project=project,
                    bundle=bundle,
                    kind=entry.kind,
                    url=entry.url,
                    version=version,
                    dist=dist,
                    debug_id=debug_id,
                    sourcemap=entry.sourcemap[:500],
                    headers=entry.headers,
                    checksum=sha1,
                    size=size,
                )
                for project in projects
                for entry, sha1, size, debug_id in files
            )
    except IntegrityError:  # the same bundle, assembled by a parallel request meanwhile
        bundle = ArtifactBundle.objects.get(checksum=checksum)
        _bind(bundle, projects, version, dist)
    store.delete_chunks(chunks)
    return Assembled("ok", obj=bundle)


def _bind(bundle, projects, version, dist):
    """Index an already stored bundle for projects (or a release) it was not uploaded for yet."""
    first = bundle.files.values_list("project_id", "version", "dist").first()
    if first is None:
        return
    template = list(bundle.files.filter(project_id=first[0], version=first[1], dist=first[2]))
    with transaction.atomic():
        for project in projects:
            if ArtifactFile.objects.filter(
                bundle=bundle, project=project, version=version, dist=dist
            ).exists():
                continue
            bundle.projects.add(project)
            ArtifactFile.objects.bulk_create(
                ArtifactFile(
                    project=project,
                    bundle=bundle,
                    kind=f.kind,
                    url=f.url,
                    version=version,
                    dist=dist,
                    debug_id=f.debug_id,
                    sourcemap=f.sourcemap,
                    headers=f.headers,
                    checksum=f.checksum,
                    size=f.size,
                )
                for f in template
            )


def remove_bundle_from_project(store, bundle, project):
    """The bundle no longer serves `project`; deleted with its unused blobs once it serves none."""
    with transaction.atomic():
        ArtifactFile.objects.filter(bundle=bundle, project=project).delete()
        bundle.projects.remove(project)
        if bundle.projects.exists():
            return
    delete_bundle(store, bundle)


def delete_bundle(store, bundle):
    """Delete a bundle and the blobs no other file still uses."""
    checksums = set(bundle.files.values_list("checksum", flat=True))
    bundle.delete()
    _delete_unused_blobs(store, checksums)


def sweep_orphans(store, min_age_seconds=3600):
    """Delete what no project uses any more (bundles of deleted projects, their files' blobs, the
    blobs of deleted projects' release and debug files). Blobs younger than `min_age_seconds`
    stay: an assembly writes its blobs before its rows. Returns the number of blobs deleted."""
    for bundle in ArtifactBundle.objects.filter(projects__isnull=True):
        delete_bundle(store, bundle)
    deleted, batch = 0, []
    for sha1 in store.blobs_older_than(min_age_seconds):
        batch.append(sha1)
        if len(batch) == 500:
            deleted += _delete_unused_blobs(store, set(batch))
            batch = []
    if batch:
        deleted += _delete_unused_blobs(store, set(batch))
    return deleted


def _delete_unused_blobs(store, checksums):
    used = set(
        ArtifactFile.objects.filter(checksum__in=checksums).values_list("checksum", flat=True)
    ) | set(DebugFile.objects.filter(checksum__in=checksums).values_list("checksum", flat=True))
    for sha1 in checksums - used:
        store.delete_blob(sha1)
    return len(checksums - used)


def _kind_of_release_file(name, headers):
    lowered = name.split("?", 1)[0].lower()
    if lowered.endswith(".map"):
        return ArtifactKind.SOURCE_MAP
    if (
        "sourcemap" in headers
        or "x-sourcemap" in headers
        or lowered.endswith((".js", ".mjs", ".cjs"))
    ):
        return ArtifactKind.MINIFIED_SOURCE
    return ArtifactKind.SOURCE


def add_release_file(store, *, projects, version, dist, name, source, headers):
    """A file uploaded alone to a release (the older upload, before artifact bundles)."""
    headers = {str(k).lower(): str(v)[:500] for k, v in headers.items()}
    sha1, size = store.put_blob(source, app_settings.UPLOAD_MAX_FILE_SIZE)
    kind = _kind_of_release_file(name, headers)
    rows = [
        ArtifactFile(
            project=project,
            kind=kind,
            url=name[:500],
            version=version,
            dist=dist,
            debug_id=normalize_debug_id(headers.get("debug-id", "")),
            sourcemap=(headers.get("sourcemap") or headers.get("x-sourcemap") or "")[:500],
            headers=headers,
            checksum=sha1,
            size=size,
        )
        for project in projects
    ]
    ArtifactFile.objects.bulk_create(rows)
    return rows


def delete_release_file(store, artifact_file):
    checksum = artifact_file.checksum
    artifact_file.delete()
    _delete_unused_blobs(store, {checksum})


# --- debug files ---------------------------------------------------------------------------------

_OBJECT_KINDS = {"exe", "lib", "dbg", "src", "rel", "dump", "other"}


def _describe_object(path, debug_id):
    """What symbolic reads from a debug file: the object matching `debug_id`, else the first."""
    try:
        from symbolic.debuginfo import Archive

        archive = Archive.open(str(path))
        objects = list(archive.iter_objects())
    except Exception as exc:  # symbolic raises its own error classes per format problem
        logger.info("debug file not readable by symbolic: %s", exc)
        return {}
    if not objects:
        return {}
    wanted = normalize_debug_id(debug_id)
    chosen = next(
        (o for o in objects if normalize_debug_id(str(o.debug_id)[:36]) == wanted), objects[0]
    )
    kind = str(chosen.kind or "")
    return {
        "debug_id": str(chosen.debug_id or ""),
        "code_id": str(chosen.code_id or ""),
        "cpu_name": str(chosen.arch or ""),
        "object_kind": kind if kind in _OBJECT_KINDS else "other",
        "file_format": str(chosen.file_format or ""),
        "features": sorted(str(f) for f in (chosen.features or ())),
    }


def assemble_debug_file(store, *, project, checksum, name, debug_id, chunks):
    existing = DebugFile.objects.filter(project=project, checksum=checksum).first()
    if existing is not None:
        return Assembled("ok", obj=existing)
    if not chunks:
        return Assembled("error", detail="The request names no chunks.")
    missing = store.missing_chunks(chunks)
    if missing:
        return Assembled("not_found", missing=missing)
    try:
        temporary = store.assemble(chunks, checksum, app_settings.UPLOAD_MAX_FILE_SIZE)
    except ChunkError as exc:
        return Assembled("error", detail=str(exc))
    try:
        described = _describe_object(temporary, debug_id)
        size = temporary.stat().st_size
        store.adopt_blob(temporary, checksum)
    finally:
        temporary.unlink(missing_ok=True)
    described.setdefault("debug_id", str(debug_id or ""))
    try:
        debug_file, _ = DebugFile.objects.get_or_create(
            project=project,
            checksum=checksum,
            defaults={"name": str(name or "")[:250], "size": size, **described},
        )
    except IntegrityError:
        debug_file = DebugFile.objects.get(project=project, checksum=checksum)
    store.delete_chunks(chunks)
    return Assembled("ok", obj=debug_file)
