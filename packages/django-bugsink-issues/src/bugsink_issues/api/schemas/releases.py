"""Releases, deploys and commits, as sentry-cli, the bundler plugins and the MCP server read and
send them. A release is a version across the caller's projects that have it (one organization)."""

import re
from collections import defaultdict
from datetime import datetime

from django.db.models import Count, Max, Min
from ninja import Field, Schema

from bugsink_issues.api.release_health import HealthWindows, health_data_by_project
from bugsink_issues.models import Deploy, Issue, Release, ReleaseCommit, ReleaseHealthBucket

__all__ = [
    "CommitIn",
    "CommitOut",
    "DeployIn",
    "DeployOut",
    "RefIn",
    "commit_out",
    "ReleaseHealthOut",
    "ReleaseIn",
    "ReleaseOut",
    "ReleaseUpdateIn",
    "deploy_out",
    "releases_out",
    "short_version",
    "version_page_queryset",
]


# --- requests -----------------------------------------------------------------------------------


class RefIn(Schema):
    repository: str = Field(max_length=200)
    commit: str = Field(max_length=200)
    previousCommit: str | None = Field(default=None, max_length=200)


class CommitIn(Schema):
    id: str = Field(min_length=1, max_length=64)
    repository: str | None = None
    message: str | None = None
    author_name: str | None = None
    author_email: str | None = None
    timestamp: datetime | None = None
    patch_set: list[dict] | None = None


class ReleaseUpdateIn(Schema):
    ref: str | None = Field(default=None, max_length=250)
    url: str | None = Field(default=None, max_length=500)
    dateStarted: datetime | None = None
    dateReleased: datetime | None = None
    projects: list[str] | None = None
    refs: list[RefIn] | None = None
    commits: list[CommitIn] | None = None


class ReleaseIn(ReleaseUpdateIn):
    version: str = Field(min_length=1, max_length=250)


class DeployIn(Schema):
    environment: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=500)
    dateStarted: datetime | None = None
    dateFinished: datetime | None = None
    projects: list[str] | None = None


# --- answers ------------------------------------------------------------------------------------


class ReleaseHealthOut(Schema):
    """A release's health in one project (api/release_health.py); percentages 0..100."""

    durationP50: float | None
    durationP90: float | None
    crashFreeUsers: float | None
    crashFreeSessions: float | None
    totalUsers: int
    totalUsers24h: int
    totalProjectUsers24h: int
    totalSessions: int
    totalSessions24h: int
    totalProjectSessions24h: int
    sessionsCrashed: int
    sessionsErrored: int
    adoption: float | None
    sessionsAdoption: float | None
    hasHealthData: bool
    stats: dict[str, list[list[int]]]


class ReleaseProjectOut(Schema):
    id: int
    slug: str
    name: str
    newGroups: int
    platform: str | None
    platforms: list[str]
    hasHealthData: bool
    healthData: ReleaseHealthOut | None = None  # with `health=1` only


class CommitAuthorOut(Schema):
    name: str
    email: str


class CommitRepositoryOut(Schema):
    name: str


class CommitOut(Schema):
    id: str
    message: str | None
    dateCreated: datetime | None
    author: CommitAuthorOut | None
    repository: CommitRepositoryOut | None


class DeployOut(Schema):
    id: str
    environment: str
    name: str | None
    url: str | None
    dateStarted: datetime | None
    dateFinished: datetime


class ReleaseOut(Schema):
    id: int
    version: str
    shortVersion: str
    ref: str | None
    url: str | None
    status: str
    dateCreated: datetime
    dateStarted: datetime | None
    dateReleased: datetime | None
    firstEvent: datetime | None
    lastEvent: datetime | None
    newGroups: int
    commitCount: int
    lastCommit: CommitOut | None
    deployCount: int
    lastDeploy: DeployOut | None
    authors: list[CommitAuthorOut]
    owner: None = None
    data: dict
    projects: list[ReleaseProjectOut]


_HASH = re.compile(r"^[0-9a-f]{20,64}$")


def short_version(version):
    """ "pkg@1.2.3" -> "1.2.3"; a long commit hash -> its first 12 characters."""
    bare = version.rsplit("@", 1)[-1] if "@" in version else version
    return bare[:12] if _HASH.match(bare) else bare


def commit_out(commit):
    author = (
        CommitAuthorOut(name=commit.author_name, email=commit.author_email)
        if commit.author_name or commit.author_email
        else None
    )
    return CommitOut(
        id=commit.commit_id,
        message=commit.message or None,
        dateCreated=commit.timestamp,
        author=author,
        repository=CommitRepositoryOut(name=commit.repository) if commit.repository else None,
    )


def deploy_out(deploy):
    return DeployOut(
        id=str(deploy.pk),
        environment=deploy.environment,
        name=deploy.name or None,
        url=deploy.url or None,
        dateStarted=deploy.date_started,
        dateFinished=deploy.date_finished,
    )


def releases_out(versions, visible_projects, health: HealthWindows | None = None):
    """ReleaseOut for each of `versions` (in that order), over the Release rows of
    `visible_projects`: a fixed number of queries for the whole page (and, with `health`, a few
    more per project on it for each release's healthData)."""
    versions = list(versions)
    rows = defaultdict(list)
    for release in (
        Release.objects.filter(version__in=versions, project__in=visible_projects)
        .select_related("project")
        .order_by("project__name", "pk")
    ):
        rows[release.version].append(release)
    new_groups = defaultdict(int)
    for version, project_id, count in (
        Issue.objects.filter(first_release__in=versions, project__in=visible_projects)
        .values_list("first_release", "project_id")
        .annotate(n=Count("pk"))
    ):
        new_groups[(version, project_id)] = count
    commit_counts = dict(
        ReleaseCommit.objects.filter(version__in=versions)
        .values_list("version")
        .annotate(n=Count("pk"))
    )
    last_commits: dict[str, ReleaseCommit] = {}
    authors: dict[str, dict[str, CommitAuthorOut]] = defaultdict(dict)
    for commit in ReleaseCommit.objects.filter(version__in=versions).order_by("position", "pk"):
        last_commits.setdefault(commit.version, commit)
        if commit.author_email or commit.author_name:
            key = commit.author_email or commit.author_name
            authors[commit.version].setdefault(
                key, CommitAuthorOut(name=commit.author_name, email=commit.author_email)
            )
    deploys = Deploy.objects.filter(version__in=versions, projects__in=visible_projects).distinct()
    deploy_counts = dict(deploys.values_list("version").annotate(n=Count("pk", distinct=True)))
    last_deploys: dict[str, Deploy] = {}
    for deploy in deploys.order_by("-date_finished", "-pk"):
        last_deploys.setdefault(deploy.version, deploy)

    with_sessions = set(
        ReleaseHealthBucket.objects.filter(
            release__in=versions, project__in=visible_projects, sessions__gt=0
        )
        .values_list("release", "project_id")
        .distinct()
    )
    health_data = (
        health_data_by_project(
            {r.project_id for of_version in rows.values() for r in of_version}, versions, health
        )
        if health is not None
        else {}
    )

    out = []
    for version in versions:
        of_version = rows.get(version)
        if not of_version:
            continue
        firsts = [r.first_seen for r in of_version if r.first_seen]
        lasts = [r.last_seen for r in of_version if r.last_seen]
        released = [r.date_released for r in of_version if r.date_released]
        started = [r.date_started for r in of_version if r.date_started]
        last_commit = last_commits.get(version)
        last_deploy = last_deploys.get(version)
        out.append(
            ReleaseOut(
                id=min(r.pk for r in of_version),
                version=version,
                shortVersion=short_version(version),
                ref=next((r.ref for r in of_version if r.ref), None),
                url=next((r.url for r in of_version if r.url), None),
                status="open",
                dateCreated=min(r.date_created for r in of_version),
                dateStarted=min(started) if started else None,
                dateReleased=max(released) if released else None,
                firstEvent=min(firsts) if firsts else None,
                lastEvent=max(lasts) if lasts else None,
                newGroups=sum(new_groups[(version, r.project_id)] for r in of_version),
                commitCount=commit_counts.get(version, 0),
                lastCommit=commit_out(last_commit) if last_commit else None,
                deployCount=deploy_counts.get(version, 0),
                lastDeploy=deploy_out(last_deploy) if last_deploy else None,
                authors=list(authors[version].values()),
                data={},
                projects=[
                    ReleaseProjectOut(
                        id=r.project_id,
                        slug=r.project.slug,
                        name=r.project.name,
                        newGroups=new_groups[(version, r.project_id)],
                        platform=None,
                        platforms=[],
                        hasHealthData=(version, r.project_id) in with_sessions,
                        healthData=health_data.get((version, r.project_id)),
                    )
                    for r in of_version
                ],
            )
        )
    return out


def version_page_queryset(releases):
    """Distinct versions of a Release queryset, newest first (what a release list pages over)."""
    return (
        releases.values("version")
        .annotate(created=Min("date_created"), last=Max("last_seen"))
        .order_by("-created", "version")
        .values_list("version", flat=True)
    )
