"""Releases as release tooling manages them (sentry-cli, the bundler plugins, through the web API):
created before their first event, finalized, deployed, given commits, deleted.

A version names one release across the projects that have it (one organization per
installation); each project has its own Release row, and deploys and commits belong to the
version (models/releases.py).
"""

from django.db import transaction

from bugsink_issues.lifecycle.releases import ensure_release, reorder_releases
from bugsink_issues.models import Deploy, Release, ReleaseCommit

__all__ = [
    "MAX_COMMITS",
    "add_deploy",
    "create_release",
    "delete_release",
    "invalid_version_reason",
    "previous_release_with_commits",
    "set_commits",
    "update_release",
]

MAX_COMMITS = 1000
_FIELDS = ("date_started", "date_released", "ref", "url")


def invalid_version_reason(version):
    """Why `version` cannot name a release (None if it can), as Sentry's rules have it."""
    if not version or not version.strip():
        return "The version is empty."
    if len(version) > 250:
        return "The version is longer than 250 characters."
    if version in (".", "..", "latest") or any(c in version for c in "/\n\r\t\f\v\\"):
        return f"{version!r} cannot be a release version (no slashes, newlines or tabs)."
    return None


@transaction.atomic
def create_release(projects, version, **fields):
    """The release `version` for each of `projects`; returns True if any row was made."""
    fields = {k: v for k, v in fields.items() if k in _FIELDS and v is not None}
    created_any = False
    for project in projects:
        release, created = ensure_release(project.pk, version, **fields)
        created_any |= created
        if not created and fields:
            _apply(release, fields)
    return created_any


def _apply(release, fields):
    changed = [name for name, value in fields.items() if getattr(release, name) != value]
    for name in changed:
        setattr(release, name, fields[name])
    if changed:
        release.save(update_fields=changed)


@transaction.atomic
def update_release(releases, **fields):
    fields = {k: v for k, v in fields.items() if k in _FIELDS and v is not None}
    for release in releases:
        _apply(release, fields)


@transaction.atomic
def delete_release(releases):
    """Delete Release rows; deploys and commits go with the version's last row."""
    releases = list(releases)
    versions = {r.version for r in releases}
    project_ids = {r.project_id for r in releases}
    Release.objects.filter(pk__in=[r.pk for r in releases]).delete()
    for project_id in project_ids:
        reorder_releases(project_id)
    gone = versions - set(
        Release.objects.filter(version__in=versions).values_list("version", flat=True)
    )
    Deploy.objects.filter(version__in=gone).delete()
    ReleaseCommit.objects.filter(version__in=gone).delete()


@transaction.atomic
def set_commits(version, commits):
    """Replace the commits of `version`. commits: dicts with id, repository, message,
    author_name, author_email, timestamp, patch_set, previous_commit_id (all but id optional),
    newest first; at most MAX_COMMITS are kept."""
    ReleaseCommit.objects.filter(version=version).delete()
    seen, rows = set(), []
    for position, commit in enumerate(commits[:MAX_COMMITS]):
        key = (commit.get("repository") or "", commit["id"])
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            ReleaseCommit(
                version=version,
                position=position,
                commit_id=commit["id"][:64],
                repository=(commit.get("repository") or "")[:200],
                previous_commit_id=(commit.get("previous_commit_id") or "")[:64],
                message=commit.get("message") or "",
                author_name=(commit.get("author_name") or "")[:200],
                author_email=(commit.get("author_email") or "")[:200],
                timestamp=commit.get("timestamp"),
                patch_set=commit.get("patch_set") or [],
            )
        )
    ReleaseCommit.objects.bulk_create(rows)
    return rows


@transaction.atomic
def add_deploy(
    version, projects, *, environment, name="", url="", date_started=None, date_finished=None
):
    deploy = Deploy(
        version=version,
        environment=environment,
        name=name or "",
        url=url or "",
        date_started=date_started,
    )
    if date_finished is not None:
        deploy.date_finished = date_finished
    deploy.save()
    deploy.projects.set(projects)
    return deploy


def previous_release_with_commits(version, visible_releases):
    """The newest release created before `version` (among `visible_releases`, a Release queryset)
    that has commits, as (version, date created, last commit id) or None."""
    current = visible_releases.filter(version=version).order_by("date_created").first()
    if current is None:
        return None
    with_commits = ReleaseCommit.objects.values("version")
    previous = (
        visible_releases.filter(date_created__lt=current.date_created, version__in=with_commits)
        .exclude(version=version)
        .order_by("-date_created")
        .first()
    )
    if previous is None:
        return None
    last = ReleaseCommit.objects.filter(version=previous.version).order_by("position").first()
    return previous.version, previous.date_created, last.commit_id if last else None
