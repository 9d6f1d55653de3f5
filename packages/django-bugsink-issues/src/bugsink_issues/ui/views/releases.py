"""A project's Releases page: each release with its first and last event, the issues new in it,
its health (sessions, crash-free sessions and users, adoption), its deploys per environment, its
commits, and the artifact bundles and files uploaded for it; deleting a release, a bundle or a
file (admins of the project's team). A release's own page: all of that for one release, its
deploys and commits in full, and the issues first seen in it and those seen in it."""

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
from bugsink_issues.digest.tags import MAX_VALUE
from bugsink_issues.lifecycle import managed_releases
from bugsink_issues.models import (
    ArtifactBundle,
    ArtifactFile,
    Deploy,
    Issue,
    IssueTagValue,
    Release,
    ReleaseCommit,
    ReleaseHealthBucket,
)
from bugsink_issues.ui import access
from bugsink_issues.ui.views.common import page

MAX_RELEASES = 50
NEW_ISSUES_SHOWN = 5
DETAIL_ROWS = 100  # issues, commits and deploys listed on a release's page


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


def _release_detail(project, release):
    version = release.version
    since = timezone.now() - timedelta(days=app_settings.RELEASE_HEALTH_WINDOW_DAYS)
    health = ReleaseHealthBucket.objects.figures_by_release(project, since, [version])
    new_issues = Issue.objects.filter(project=project, first_release=version).order_by("-last_seen")
    # The issues with events in it: the digest counts each issue's release tag values exactly
    # (tag values are kept to their first MAX_VALUE characters, as the digest stores them).
    seen = (
        IssueTagValue.objects.filter(
            issue__project=project,
            tag_value__project=project,
            tag_value__key="release",
            tag_value__value=version[:MAX_VALUE],
        )
        .select_related("issue")
        .order_by("-count", "-last_seen")
    )
    return {
        "health": health.get(version),
        "new_issue_count": new_issues.count(),
        "new_issues": list(new_issues[:DETAIL_ROWS]),
        "seen_issue_count": seen.count(),
        "seen": list(seen[:DETAIL_ROWS]),
        "deploys": list(
            Deploy.objects.filter(version=version, projects=project).order_by(
                "-date_finished", "-pk"
            )[:DETAIL_ROWS]
        ),
        "commit_count": ReleaseCommit.objects.filter(version=version).count(),
        "commits": list(
            ReleaseCommit.objects.filter(version=version).order_by("position", "pk")[:DETAIL_ROWS]
        ),
        "bundles": list(
            ArtifactBundle.objects.filter(projects=project, version=version).order_by(
                "-date_created"
            )
        ),
        "files": list(
            ArtifactFile.objects.filter(project=project, bundle__isnull=True, version=version)
        ),
    }


@login_required
def release_detail(request, project_id, release_id):
    project = access.project_or_404(request.user, project_id)
    release = get_object_or_404(Release, project=project, pk=release_id)
    return page(
        request,
        "bugsink_issues/releases/detail.html",
        {
            "project": project,
            "release": release,
            **_release_detail(project, release),
            "shown": DETAIL_ROWS,
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
