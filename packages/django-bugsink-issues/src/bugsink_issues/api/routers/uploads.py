"""Uploads: chunk upload, artifact bundles, release files and debug files.

    GET  /organizations/{org}/chunk-upload/            the options (limits, URL, compression)
    POST /organizations/{org}/chunk-upload/            chunks, one multipart part each
    POST /organizations/{org}/artifactbundle/assemble/ source maps (sentry-cli, bundler plugins)
    POST /organizations/{org}/releases/{v}/assemble/   a release bundle (older clients)
    GET/POST/DELETE .../releases/{v}/files/            release files (older clients)
    POST /projects/{org}/{project}/files/difs/assemble/ debug files (kept, not symbolicated)

Chunks are sliced by the client, named by the sha1 of their uncompressed bytes, gzipped when the
options offer gzip, and streamed to disk (never held whole in memory beyond Django's upload
buffer); assembly then checks every sha1 again (bugsink_issues.artifacts).
"""

import time

from django.http import Http404, HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.errors import ValidationError
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from bugsink_issues.api.auth import scoped
from bugsink_issues.api.errors import ApiError, empty_response, json_body
from bugsink_issues.api.lookups import project_or_404, projects_by_slugs
from bugsink_issues.api.organization import organization_or_404, public_base_url
from bugsink_issues.api.pagination import paginate
from bugsink_issues.artifacts import assemble
from bugsink_issues.artifacts.store import ChunkError, StoreNotConfigured, blob_store, is_sha1
from bugsink_issues.conf import app_settings
from bugsink_issues.models import ArtifactFile, Release

organization_router = Router(tags=["uploads"])
project_router = Router(tags=["uploads"])

UPLOAD = scoped("project:releases", "project:write")
READ = scoped("project:read", "project:releases", "org:read")

SHA1 = r"^[0-9a-f]{40}$"
# What the clients may upload; sentry-cli 3.x ignores it, 2.x needs artifact_bundles and
# debug_files in it to use the chunked flows.
ACCEPT = ["debug_files", "release_files", "pdbs", "sources", "bcsymbolmaps", "il2cpp",
          "portablepdbs", "artifact_bundles", "proguard"]  # fmt: skip
SWEEP_EVERY_SECONDS = 3600
_last_sweep = [0.0]


def _store():
    try:
        return blob_store()
    except StoreNotConfigured as exc:
        raise ApiError(400, str(exc))


class ChunkOptionsOut(Schema):
    url: str
    chunkSize: int
    chunksPerRequest: int
    maxFileSize: int
    maxRequestSize: int
    concurrency: int
    hashAlgorithm: str
    compression: list[str]
    accept: list[str]


@organization_router.get("/{org}/chunk-upload/", response=ChunkOptionsOut, auth=UPLOAD)
def chunk_upload_options(request, org: str):
    """The upload URL is absolute and on the public base URL: the new `sentry` CLI refuses a
    relative one, or one on another origin than the organization's regionUrl."""
    organization_or_404(org)
    store = _store()
    now = time.monotonic()
    if now - _last_sweep[0] > SWEEP_EVERY_SECONDS:
        _last_sweep[0] = now
        store.sweep_chunks(app_settings.UPLOAD_CHUNK_MAX_AGE_SECONDS)
        assemble.sweep_orphans(store)
    return ChunkOptionsOut(
        url=f"{public_base_url(request)}/api/0/organizations/{org}/chunk-upload/",
        chunkSize=app_settings.UPLOAD_CHUNK_SIZE,
        chunksPerRequest=app_settings.UPLOAD_CHUNKS_PER_REQUEST,
        maxFileSize=app_settings.UPLOAD_MAX_FILE_SIZE,
        maxRequestSize=app_settings.UPLOAD_MAX_REQUEST_SIZE,
        concurrency=app_settings.UPLOAD_CONCURRENCY,
        hashAlgorithm="sha1",
        compression=["gzip"],
        accept=ACCEPT,
    )


@organization_router.post("/{org}/chunk-upload/", auth=UPLOAD)
def chunk_upload(request, org: str):
    organization_or_404(org)
    store = _store()
    length = request.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > app_settings.UPLOAD_MAX_REQUEST_SIZE:
        raise ApiError(
            413, f"The request is larger than {app_settings.UPLOAD_MAX_REQUEST_SIZE} bytes."
        )
    parts = [(p, True) for p in request.FILES.getlist("file_gzip")] + [
        (p, False) for p in request.FILES.getlist("file")
    ]
    if not parts:
        raise ApiError(400, "No chunks: send multipart parts named file_gzip (or file).")
    if len(parts) > app_settings.UPLOAD_CHUNKS_PER_REQUEST:
        raise ApiError(400, f"At most {app_settings.UPLOAD_CHUNKS_PER_REQUEST} chunks per request.")
    for part, gzipped in parts:
        name = (part.name or "").strip().lower()
        if not is_sha1(name):
            raise ApiError(400, f"A chunk's filename must be the sha1 of its bytes, got {name!r}.")
        try:
            store.save_chunk(name, part, gzipped=gzipped, max_bytes=app_settings.UPLOAD_CHUNK_SIZE)
        except ChunkError as exc:
            raise ApiError(400, str(exc))
    return {}


class AssembleIn(Schema):
    checksum: str = Field(pattern=SHA1)
    chunks: list[str] = Field(max_length=100_000)
    projects: list[str] = []
    version: str | None = Field(default=None, max_length=250)
    dist: str | None = Field(default=None, max_length=64)


class AssembleOut(Schema):
    state: str
    missingChunks: list[str]
    detail: str | None


def _chunks_or_400(chunks):
    bad = [c for c in chunks if not is_sha1(c)]
    if bad:
        raise ApiError(400, f"Chunks are named by their sha1; not one: {bad[0]!r}.")
    return chunks


@organization_router.post("/{org}/artifactbundle/assemble/", response=AssembleOut, auth=UPLOAD)
def artifact_bundle_assemble(request, org: str, payload: AssembleIn):
    organization_or_404(org)
    if not payload.projects:
        raise ApiError(400, "Name the bundle's projects: projects is required.")
    projects = projects_by_slugs(request.auth, payload.projects)
    result = assemble.assemble_artifact_bundle(
        _store(),
        projects=projects,
        checksum=payload.checksum,
        chunks=_chunks_or_400(payload.chunks),
        version=payload.version or "",
        dist=payload.dist or "",
    )
    return AssembleOut(state=result.state, missingChunks=result.missing, detail=result.detail)


class ReleaseAssembleIn(Schema):
    checksum: str = Field(pattern=SHA1)
    chunks: list[str] = Field(max_length=100_000)


def _release_projects(principal, version, project=None):
    releases = Release.objects.filter(
        project__in=principal.visible_projects().values("pk"), version=version
    ).select_related("project")
    if project is not None:
        releases = releases.filter(project=project)
    projects = [r.project for r in releases]
    if not projects:
        raise Http404(f"Release {version!r} not found.")
    return projects


@organization_router.post("/{org}/releases/{version}/assemble/", response=AssembleOut, auth=UPLOAD)
def release_bundle_assemble(request, org: str, version: str, payload: ReleaseAssembleIn):
    """The older upload of sentry-cli 2.x when artifact bundles are not offered: the same zip,
    bound to the release."""
    organization_or_404(org)
    result = assemble.assemble_artifact_bundle(
        _store(),
        projects=_release_projects(request.auth, version),
        checksum=payload.checksum,
        chunks=_chunks_or_400(payload.chunks),
        version=version,
    )
    return AssembleOut(state=result.state, missingChunks=result.missing, detail=result.detail)


# --- release files ------------------------------------------------------------------------------


class ReleaseFileOut(Schema):
    id: str
    name: str
    dist: str | None
    headers: dict
    size: int
    sha1: str
    dateCreated: str


def _release_file_out(f):
    return ReleaseFileOut(
        id=str(f.pk),
        name=f.url,
        dist=f.dist or None,
        headers=f.headers,
        size=f.size,
        sha1=f.checksum,
        dateCreated=f.date_created.isoformat(),
    )


def _release_files(principal, version, project=None):
    projects = _release_projects(principal, version, project)
    return ArtifactFile.objects.filter(
        project__in=projects, version=version, bundle__isnull=True
    ).order_by("url", "pk")


def _list_files(request, response, version, project=None):
    files = _release_files(request.auth, version, project)
    return [_release_file_out(f) for f in paginate(request, response, files)]


def _upload_file(request, version, project=None):
    projects = _release_projects(request.auth, version, project)
    upload = request.FILES.get("file")
    if upload is None:
        raise ApiError(400, "Send the file as a multipart part named file.")
    name = request.POST.get("name") or upload.name or ""
    if not name:
        raise ApiError(400, "The file needs a name (its URL, e.g. ~/static/app.js).")
    headers = {}
    for header in request.POST.getlist("header"):
        key, sep, value = header.partition(":")
        if not sep or not key.strip():
            raise ApiError(400, f"Headers are sent as 'Name: value', got {header!r}.")
        headers[key.strip()] = value.strip()
    try:
        rows = assemble.add_release_file(
            _store(),
            projects=projects,
            version=version,
            dist=request.POST.get("dist", "")[:64],
            name=name,
            source=upload,
            headers=headers,
        )
    except ChunkError as exc:
        raise ApiError(413, str(exc))
    return Status(201, _release_file_out(rows[0]))


def _delete_file(request, version, file_id, project=None):
    found = _release_files(request.auth, version, project).filter(pk=file_id).first()
    if found is None:
        raise Http404("No such release file.")
    assemble.delete_release_file(_store(), found)
    return empty_response()


@organization_router.get(
    "/{org}/releases/{version}/files/", response=list[ReleaseFileOut], auth=READ
)
def organization_release_files(request, response: HttpResponse, org: str, version: str):
    organization_or_404(org)
    return _list_files(request, response, version)


@organization_router.post(
    "/{org}/releases/{version}/files/", response={201: ReleaseFileOut}, auth=UPLOAD
)
def organization_release_file_upload(request, org: str, version: str):
    organization_or_404(org)
    return _upload_file(request, version)


@organization_router.delete(
    "/{org}/releases/{version}/files/{file_id}/", response={204: None}, auth=UPLOAD
)
def organization_release_file_delete(request, org: str, version: str, file_id: int):
    organization_or_404(org)
    return _delete_file(request, version, file_id)


@project_router.get(
    "/{org}/{project}/releases/{version}/files/", response=list[ReleaseFileOut], auth=READ
)
def project_release_files(request, response: HttpResponse, org: str, project: str, version: str):
    return _list_files(request, response, version, project_or_404(request.auth, org, project))


@project_router.post(
    "/{org}/{project}/releases/{version}/files/", response={201: ReleaseFileOut}, auth=UPLOAD
)
def project_release_file_upload(request, org: str, project: str, version: str):
    return _upload_file(request, version, project_or_404(request.auth, org, project))


@project_router.delete(
    "/{org}/{project}/releases/{version}/files/{file_id}/", response={204: None}, auth=UPLOAD
)
def project_release_file_delete(request, org: str, project: str, version: str, file_id: int):
    found = project_or_404(request.auth, org, project)
    return _delete_file(request, version, file_id, found)


# --- debug files ----------------------------------------------------------------------------------


class DifIn(Schema):
    name: str = Field(default="", max_length=250)
    debug_id: str | None = Field(default=None, max_length=100)
    chunks: list[str] = Field(max_length=100_000)


_DIFS = TypeAdapter(dict[str, DifIn])


def _dif_out(debug_file):
    kind = debug_file.object_kind
    return {
        "id": str(debug_file.pk),
        "uuid": debug_file.debug_id,
        "debugId": debug_file.debug_id,
        "codeId": debug_file.code_id or None,
        "objectName": debug_file.name,
        "cpuName": debug_file.cpu_name or "unknown",
        "headers": {"Content-Type": "application/octet-stream"},
        "size": debug_file.size,
        "sha1": debug_file.checksum,
        "dateCreated": debug_file.date_created.isoformat(),
        # sentry-cli knows symbolic's short object kinds only (exe, lib, dbg, ...).
        "data": {"type": kind, "features": debug_file.features} if kind else {"features": []},
        "symbolType": debug_file.file_format or "unknown",
    }


@project_router.post("/{org}/{project}/files/difs/assemble/", auth=UPLOAD)
def debug_files_assemble(request, org: str, project: str):
    """{sha1 of the file: {name, debug_id, chunks}} -> {sha1: {state, missingChunks, dif}}."""
    found = project_or_404(request.auth, org, project)
    try:
        files = _DIFS.validate_python(json_body(request))
    except PydanticValidationError as exc:
        raise ValidationError(
            [dict(e) for e in exc.errors(include_url=False, include_context=False)]
        )
    if len(files) > 1000:
        raise ApiError(400, "At most 1000 debug files per request.")
    store = _store()
    answer = {}
    for checksum, dif in files.items():
        if not is_sha1(checksum):
            raise ApiError(400, f"Debug files are keyed by their sha1; not one: {checksum!r}.")
        result = assemble.assemble_debug_file(
            store,
            project=found,
            checksum=checksum,
            name=dif.name,
            debug_id=dif.debug_id,
            chunks=_chunks_or_400(dif.chunks),
        )
        answer[checksum] = {
            "state": result.state,
            "missingChunks": result.missing,
            "detail": result.detail,
            "dif": _dif_out(result.obj) if result.obj is not None else None,
        }
    return answer
