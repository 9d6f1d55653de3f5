"""Projects (bugsink_ingest.Project, addressed by slug) and the team summary they carry."""

from datetime import datetime

from django.db.models import Min
from django.utils.text import slugify
from ninja import Schema

from bugsink_issues.api.schemas.organizations import OrganizationSummary

__all__ = [
    "ProjectDetailOut",
    "ProjectListItemOut",
    "ProjectOut",
    "TeamSummary",
    "project_out",
    "projects_for_listing",
    "team_summary",
]


class TeamSummary(Schema):
    id: str
    slug: str
    name: str


class ProjectOut(Schema):
    id: str
    slug: str
    name: str
    platform: str | None
    dateCreated: datetime
    firstEvent: datetime | None
    isBookmarked: bool
    isMember: bool
    hasAccess: bool
    isPublic: bool
    status: str
    features: list[str]
    team: TeamSummary | None
    teams: list[TeamSummary]


class ProjectListItemOut(ProjectOut):
    organization: OrganizationSummary


class ProjectDetailOut(ProjectOut):
    organization: OrganizationSummary


def team_summary(team):
    return TeamSummary(id=str(team.pk), slug=slugify(team.name) or str(team.pk), name=team.name)


def projects_for_listing(queryset):
    """`queryset` with what project_out() reads, in one query."""
    return queryset.select_related("team_link__team").annotate(
        first_event=Min("issues__first_seen")
    )


def project_out(project, *, member_team_ids, schema=ProjectOut, **extra):
    """`member_team_ids`: the teams the caller is a member of (isMember)."""
    link = getattr(project, "team_link", None)
    team = team_summary(link.team) if link is not None else None
    return schema(
        id=str(project.pk),
        slug=project.slug,
        name=project.name,
        platform=None,
        dateCreated=project.created_at,
        firstEvent=getattr(project, "first_event", None),
        isBookmarked=False,
        isMember=link is not None and link.team_id in member_team_ids,
        hasAccess=True,
        isPublic=False,
        status="active",
        features=[],
        team=team,
        teams=[team] if team is not None else [],
        **extra,
    )
