"""Releases, deploys and commits on both paths the clients use:

- /api/0/organizations/{org}/releases/...: sentry-cli 3.x, the new `sentry` CLI, the MCP server;
- /api/0/projects/{org}/{project}/releases/...: sentry-cli 2.x (and so the esbuild/rollup plugins).

A release on the organization path is the version across the caller's projects that have it; on
the project path, that project's row alone.
"""

from django.http import Http404, HttpResponse
from ninja import Router, Status

from bugsink_issues.api.auth import scoped
from bugsink_issues.api.errors import ApiError, empty_response
from bugsink_issues.api.lookups import project_or_404, projects_by_slugs
from bugsink_issues.api.organization import organization_or_404
from bugsink_issues.api.pagination import paginate
from bugsink_issues.api.release_health import windows_from_query
from bugsink_issues.api.schemas.releases import (
    CommitOut,
    DeployIn,
    DeployOut,
    ReleaseIn,
    ReleaseOut,
    ReleaseUpdateIn,
    commit_out,
    deploy_out,
    releases_out,
    version_page_queryset,
)
from bugsink_issues.lifecycle import managed_releases
from bugsink_issues.models import Deploy, Release, ReleaseCommit

organization_router = Router(tags=["releases"])
project_router = Router(tags=["releases"])

READ = scoped("project:read", "project:releases", "org:read")
WRITE = scoped("project:releases", "project:write")


# --- shared ---------------------------------------------------------------------------------------


def _visible_releases(principal, project=None):
    releases = Release.objects.filter(project__in=principal.visible_projects().values("pk"))
    return releases.filter(project=project) if project is not None else releases


def _release_rows_or_404(principal, version, project=None):
    rows = list(_visible_releases(principal, project).filter(version=version))
    if not rows:
        raise Http404(f"Release {version!r} not found.")
    return rows


def _check_version(version):
    reason = managed_releases.invalid_version_reason(version)
    if reason:
        raise ApiError(400, reason)


def _release_answer(principal, version, project=None, health=None):
    projects = principal.visible_projects()
    if project is not None:
        projects = projects.filter(pk=project.pk)
    (out,) = releases_out([version], projects.values("pk"), health)
    return out


def _list(request, response, principal, project=None):
    health = windows_from_query(request)  # before any work: a bad period is a 400
    releases = _visible_releases(principal, project)
    query = request.GET.get("query", "").strip()
    if query:
        releases = releases.filter(version__icontains=query)
    project_ids = [p for p in request.GET.getlist("project") if p.lstrip("-").isdigit()]
    if project is None and project_ids and "-1" not in project_ids:
        releases = releases.filter(project_id__in=[int(p) for p in project_ids])
    versions = paginate(request, response, version_page_queryset(releases))
    projects = principal.visible_projects()
    if project is not None:
        projects = projects.filter(pk=project.pk)
    return releases_out(versions, projects.values("pk"), health)


def _create(principal, projects, payload):
    _check_version(payload.version)
    created = managed_releases.create_release(
        projects,
        payload.version,
        date_started=payload.dateStarted,
        date_released=payload.dateReleased,
        ref=payload.ref,
        url=payload.url,
    )
    _store_commits(payload)
    # 208 for an existing release, as Sentry answers (sentry-cli prints "Created" for both).
    return Status(201 if created else 208, _release_answer(principal, payload.version))


def _store_commits(payload, version=None):
    version = version or payload.version
    if payload.commits is not None:
        managed_releases.set_commits(
            version,
            [
                {
                    "id": c.id,
                    "repository": c.repository,
                    "message": c.message,
                    "author_name": c.author_name,
                    "author_email": c.author_email,
                    "timestamp": c.timestamp,
                    "patch_set": c.patch_set,
                }
                for c in payload.commits
            ],
        )
    elif payload.refs is not None:
        # Explicit refs (`--commit repo@sha`, `--auto` with a matching repository): the commit
        # named, without the history between the refs (no repository integration to ask).
        managed_releases.set_commits(
            version,
            [
                {"id": r.commit, "repository": r.repository, "previous_commit_id": r.previousCommit}
                for r in payload.refs
            ],
        )


def _update(principal, version, payload, project=None):
    rows = _release_rows_or_404(principal, version, project)
    managed_releases.update_release(
        rows,
        date_started=payload.dateStarted,
        date_released=payload.dateReleased,
        ref=payload.ref,
        url=payload.url,
    )
    _store_commits(payload, version)
    return _release_answer(principal, version, project)


# --- organization paths ---------------------------------------------------------------------------


@organization_router.get("/{org}/releases/", response=list[ReleaseOut], auth=READ)
def organization_releases(request, response: HttpResponse, org: str):
    organization_or_404(org)
    return _list(request, response, request.auth)


@organization_router.post(
    "/{org}/releases/", response={201: ReleaseOut, 208: ReleaseOut}, auth=WRITE
)
def organization_release_create(request, org: str, payload: ReleaseIn):
    organization_or_404(org)
    if not payload.projects:
        raise ApiError(400, "Name the release's projects: projects is required.")
    projects = projects_by_slugs(request.auth, payload.projects)
    return _create(request.auth, projects, payload)


@organization_router.get("/{org}/releases/{version}/", response=ReleaseOut, auth=READ)
def organization_release(request, org: str, version: str):
    organization_or_404(org)
    health = windows_from_query(request)
    _release_rows_or_404(request.auth, version)
    return _release_answer(request.auth, version, health=health)


@organization_router.put("/{org}/releases/{version}/", response=ReleaseOut, auth=WRITE)
def organization_release_update(request, org: str, version: str, payload: ReleaseUpdateIn):
    organization_or_404(org)
    return _update(request.auth, version, payload)


@organization_router.delete("/{org}/releases/{version}/", response={204: None}, auth=WRITE)
def organization_release_delete(request, org: str, version: str):
    organization_or_404(org)
    managed_releases.delete_release(_release_rows_or_404(request.auth, version))
    return empty_response()


@organization_router.get("/{org}/releases/{version}/deploys/", response=list[DeployOut], auth=READ)
def release_deploys(request, response: HttpResponse, org: str, version: str):
    organization_or_404(org)
    _release_rows_or_404(request.auth, version)
    deploys = Deploy.objects.filter(
        version=version, projects__in=request.auth.visible_projects().values("pk")
    ).distinct()
    return [
        deploy_out(d)
        for d in paginate(request, response, deploys.order_by("-date_finished", "-pk"))
    ]


@organization_router.post(
    "/{org}/releases/{version}/deploys/", response={201: DeployOut}, auth=WRITE
)
def release_deploy_create(request, org: str, version: str, payload: DeployIn):
    organization_or_404(org)
    rows = _release_rows_or_404(request.auth, version)
    projects = [r.project for r in rows]
    if payload.projects:
        wanted = {p.pk for p in projects_by_slugs(request.auth, payload.projects)}
        projects = [p for p in projects if p.pk in wanted]
    deploy = managed_releases.add_deploy(
        version,
        projects,
        environment=payload.environment,
        name=payload.name,
        url=payload.url,
        date_started=payload.dateStarted,
        date_finished=payload.dateFinished,
    )
    return Status(201, deploy_out(deploy))


@organization_router.get("/{org}/releases/{version}/commits/", response=list[CommitOut], auth=READ)
def release_commits(request, response: HttpResponse, org: str, version: str):
    organization_or_404(org)
    _release_rows_or_404(request.auth, version)
    commits = ReleaseCommit.objects.filter(version=version).order_by("position", "pk")
    return [commit_out(c) for c in paginate(request, response, commits)]


@organization_router.get("/{org}/releases/{version}/previous-with-commits/", auth=READ)
def release_previous_with_commits(request, org: str, version: str):
    """{} when there is none (sentry-cli then sends up to 20 commits of the local log)."""
    organization_or_404(org)
    _release_rows_or_404(request.auth, version)
    previous = managed_releases.previous_release_with_commits(
        version, _visible_releases(request.auth)
    )
    if previous is None:
        return {}
    previous_version, created, last_commit = previous
    return {
        "version": previous_version,
        "dateCreated": created,
        "lastCommit": {"id": last_commit} if last_commit else None,
    }


@organization_router.get("/{org}/repos/", response=list[dict], auth=READ)
def repositories(request, response: HttpResponse, org: str):
    """No repository integrations: an empty list, on which `set-commits --auto` falls back to the
    local git history (and explicit `--commit repo@sha` refs are stored as sent)."""
    organization_or_404(org)
    return paginate(request, response, [])


# --- project paths --------------------------------------------------------------------------------


@project_router.get("/{org}/{project}/releases/", response=list[ReleaseOut], auth=READ)
def project_releases(request, response: HttpResponse, org: str, project: str):
    found = project_or_404(request.auth, org, project)
    return _list(request, response, request.auth, found)


@project_router.post(
    "/{org}/{project}/releases/", response={201: ReleaseOut, 208: ReleaseOut}, auth=WRITE
)
def project_release_create(request, org: str, project: str, payload: ReleaseIn):
    found = project_or_404(request.auth, org, project)
    projects = [found]
    if payload.projects:
        projects += [p for p in projects_by_slugs(request.auth, payload.projects) if p != found]
    return _create(request.auth, projects, payload)


@project_router.get("/{org}/{project}/releases/{version}/", response=ReleaseOut, auth=READ)
def project_release(request, org: str, project: str, version: str):
    found = project_or_404(request.auth, org, project)
    health = windows_from_query(request)
    _release_rows_or_404(request.auth, version, found)
    return _release_answer(request.auth, version, found, health)


@project_router.put("/{org}/{project}/releases/{version}/", response=ReleaseOut, auth=WRITE)
def project_release_update(request, org: str, project: str, version: str, payload: ReleaseUpdateIn):
    found = project_or_404(request.auth, org, project)
    return _update(request.auth, version, payload, found)


@project_router.delete("/{org}/{project}/releases/{version}/", response={204: None}, auth=WRITE)
def project_release_delete(request, org: str, project: str, version: str):
    found = project_or_404(request.auth, org, project)
    managed_releases.delete_release(_release_rows_or_404(request.auth, version, found))
    return empty_response()
