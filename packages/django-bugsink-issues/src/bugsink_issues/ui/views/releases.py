"""A project's Releases page: each release with its first and last event, the issues new in it,
its health (sessions, crash-free sessions and users, adoption), its deploys per environment, its
commits, and the artifact bundles and files uploaded for it; deleting a release, a bundle or a
file (admins of the project's team)."""

from collections import defaultdict
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from bugsink_issues.artifacts import assemble
from bugsink_issues.artifacts.store import StoreNotConfigured, blob_store
from bugsink_issues.conf import app_settings
from bugsink_issues.lifecycle import managed_releases
from bugsink_issues.models import (
    ArtifactBundle,
    ArtifactFile,
    Deploy,
    Issue,
    Release,
    ReleaseCommit,
    ReleaseHealthBucket,
)
from bugsink_issues.ui import access
from bugsink_issues.ui.views.common import page

MAX_RELEASES = 50
NEW_ISSUES_SHOWN = 5


def _overview(project):
    releases = list(
        Release.objects.filter(project=project).order_by("-sort_order", "-pk")[:MAX_RELEASES]
    )
    versions = [r.version for r in releases]
    new_issues = defaultdict(list)
    for issue in Issue.objects.filter(project=project, first_release__in=versions).order_by(
        "-last_seen"
    ):
        new_issues[issue.first_release].append(issue)
    # version -> environment -> the latest deploy there
    deploys: dict[str, dict[str, Deploy]] = defaultdict(dict)
    for deploy in Deploy.objects.filter(version__in=versions, projects=project).order_by(
        "-date_finished", "-pk"
    ):
        deploys[deploy.version].setdefault(deploy.environment, deploy)
    commit_counts: dict[str, int] = defaultdict(int)
    for version in ReleaseCommit.objects.filter(version__in=versions).values_list(
        "version", flat=True
    ):
        commit_counts[version] += 1
    bundles = defaultdict(list)
    for bundle in ArtifactBundle.objects.filter(projects=project).order_by("-date_created"):
        bundles[bundle.version].append(bundle)
    files = defaultdict(list)
    for f in ArtifactFile.objects.filter(
        project=project, bundle__isnull=True, version__in=versions
    ):
        files[f.version].append(f)
    since = timezone.now() - timedelta(days=app_settings.RELEASE_HEALTH_WINDOW_DAYS)
    health = ReleaseHealthBucket.objects.figures_by_release(project, since, versions)
    rows = [
        {
            "release": release,
            "health": health.get(release.version),
            "new_issue_count": len(new_issues[release.version]),
            "new_issues": new_issues[release.version][:NEW_ISSUES_SHOWN],
            "deploys": sorted(deploys[release.version].values(), key=lambda d: d.environment),
            "commit_count": commit_counts[release.version],
            "bundles": bundles.pop(release.version, []),
            "files": files[release.version],
        }
        for release in releases
    ]
    # Bundles bound by debug ids only, or to a release the project has no row for (yet).
    unbound = [b for group in bundles.values() for b in group]
    return rows, unbound


@login_required
def project_releases(request, project_id):
    project = access.project_or_404(request.user, project_id)
    rows, unbound = _overview(project)
    return page(
        request,
        "bugsink_issues/releases/list.html",
        {
            "project": project,
            "rows": rows,
            "unbound_bundles": unbound,
            "can_manage": access.can_manage_project(request.user, project),
            "health_days": app_settings.RELEASE_HEALTH_WINDOW_DAYS,
        },
    )


def _store_or_none():
    try:
        return blob_store()
    except StoreNotConfigured:
        return None


@login_required
@require_POST
def release_delete(request, project_id, release_id):
    project = access.project_or_404(request.user, project_id, manage=True)
    release = get_object_or_404(Release, project=project, pk=release_id)
    managed_releases.delete_release([release])
    messages.success(request, f"Release {release.version} deleted.")
    return redirect("bugsink_issues:project_releases", project_id=project.pk)


@login_required
@require_POST
def bundle_delete(request, project_id, bundle_id):
    project = access.project_or_404(request.user, project_id, manage=True)
    bundle = get_object_or_404(ArtifactBundle, projects=project, pk=bundle_id)
    store = _store_or_none()
    if store is not None:
        assemble.remove_bundle_from_project(store, bundle, project)
    messages.success(request, "Artifact bundle deleted.")
    return redirect("bugsink_issues:project_releases", project_id=project.pk)


@login_required
@require_POST
def release_file_delete(request, project_id, file_id):
    project = access.project_or_404(request.user, project_id, manage=True)
    artifact = get_object_or_404(ArtifactFile, project=project, bundle__isnull=True, pk=file_id)
    store = _store_or_none()
    if store is not None:
        assemble.delete_release_file(store, artifact)
    messages.success(request, f"File {artifact.url} deleted.")
    return redirect("bugsink_issues:project_releases", project_id=project.pk)
