"""Teams and members, read-only: what the caller can see of them in the UI.

    GET /organizations/{org}/teams/              GET /teams/{org}/{team}/
    GET /teams/{org}/{team}/projects/            GET /teams/{org}/{team}/members/
    GET /projects/{org}/{project}/teams/
    GET /organizations/{org}/members/            GET /organizations/{org}/members/{member_id}/

A team is addressed by its slug (its name slugified) or its id; a member by the user's id. A user
sees the teams they belong to (a superuser every team) and the members of those teams; an
organization token sees every team.
"""

from datetime import datetime

from django.db.models import Count
from django.http import Http404, HttpResponse
from django.utils.text import slugify
from ninja import Field, Router, Schema

from bugsink_issues.api.auth import scoped
from bugsink_issues.api.lookups import member_team_ids, project_or_404
from bugsink_issues.api.organization import organization_or_404
from bugsink_issues.api.pagination import paginate
from bugsink_issues.api.schemas.projects import ProjectOut, project_out, projects_for_listing
from bugsink_issues.api.schemas.users import UserOut, user_out
from bugsink_issues.models import Team, TeamMembership
from bugsink_issues.models.access import TeamRole

router = Router(tags=["teams"])

TEAM_READ = scoped("team:read", "org:read")
MEMBER_READ = scoped("member:read")
# What a member may do, in Sentry's scope words (a team admin also manages the team's projects).
TEAM_ACCESS = {
    TeamRole.ADMIN: ["event:read", "event:write", "project:read", "project:write", "team:read",
                     "team:write", "member:read"],
    TeamRole.MEMBER: ["event:read", "event:write", "project:read", "team:read", "member:read"],
}  # fmt: skip


class AvatarOut(Schema):
    avatarType: str
    avatarUuid: str | None


class TeamOut(Schema):
    id: str
    slug: str
    name: str
    dateCreated: datetime
    isMember: bool
    teamRole: str | None = Field(description="admin or contributor; null if not a member.")
    flags: dict[str, bool]
    access: list[str]
    hasAccess: bool
    isPending: bool
    memberCount: int
    avatar: AvatarOut
    externalTeams: list
    projects: list[ProjectOut]


class TeamRoleOut(Schema):
    teamSlug: str
    role: str


class MemberOut(Schema):
    id: str = Field(description="The user's id.")
    email: str
    name: str
    user: UserOut
    orgRole: str
    role: str
    roleName: str
    pending: bool
    expired: bool
    flags: dict[str, bool]
    dateCreated: datetime
    inviteStatus: str
    inviterName: str | None
    teams: list[str]
    teamRoles: list[TeamRoleOut]


def team_slug(team):
    return slugify(team.name) or str(team.pk)


def visible_teams(principal):
    if principal.user is None:
        return Team.objects.all() if principal.is_organization_token else Team.objects.none()
    return Team.objects.visible_to(principal.user)


def _team_or_404(principal, slug):
    for team in visible_teams(principal):
        if team_slug(team) == slug or str(team.pk) == slug:
            return team
    raise Http404(f"Team {slug!r} not found.")


class TeamPage:
    """Team answers for a page of teams, with roles, member counts and projects loaded once."""

    def __init__(self, principal, teams):
        self.principal = principal
        self.teams = list(teams)
        ids = [t.pk for t in self.teams]
        self.roles = {}
        if principal.user is not None:
            self.roles = dict(
                TeamMembership.objects.filter(user=principal.user, team_id__in=ids).values_list(
                    "team_id", "role"
                )
            )
        self.counts = dict(
            TeamMembership.objects.filter(team_id__in=ids)
            .values_list("team_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        projects = principal.visible_projects().filter(team_link__team_id__in=ids)
        links = projects_for_listing(projects).order_by("name", "pk")
        member_of = member_team_ids(principal)
        self.projects: dict[int, list] = {}
        for project in links:
            self.projects.setdefault(project.team_link.team_id, []).append(
                project_out(project, member_team_ids=member_of)
            )

    def out(self, team):
        role = self.roles.get(team.pk)
        superuser = getattr(self.principal.user, "is_superuser", False)
        if superuser or role == TeamRole.ADMIN:
            access = TEAM_ACCESS[TeamRole.ADMIN]
        else:
            access = TEAM_ACCESS[TeamRole.MEMBER] if role else []
        return TeamOut(
            id=str(team.pk),
            slug=team_slug(team),
            name=team.name,
            dateCreated=team.created_at,
            isMember=role is not None,
            teamRole=("admin" if role == TeamRole.ADMIN else "contributor") if role else None,
            flags={"idp:provisioned": False},
            access=access,
            hasAccess=True,
            isPending=False,
            memberCount=self.counts.get(team.pk, 0),
            avatar=AvatarOut(avatarType="letter_avatar", avatarUuid=None),
            externalTeams=[],
            projects=self.projects.get(team.pk, []),
        )

    def outs(self):
        return [self.out(t) for t in self.teams]


def _members_out(memberships):
    """MemberOut per user of `memberships` (TeamMembership rows with team and user)."""
    by_user: dict[int, list] = {}
    for membership in memberships:
        by_user.setdefault(membership.user_id, []).append(membership)
    out = []
    for rows in by_user.values():
        user = rows[0].user
        superuser = user.is_superuser
        role = "owner" if superuser else "member"
        out.append(
            MemberOut(
                id=str(user.pk),
                email=getattr(user, "email", "") or "",
                name=user.get_full_name() or user.get_username(),
                user=user_out(user),
                orgRole=role,
                role=role,
                roleName=role.capitalize(),
                pending=False,
                expired=False,
                flags={"sso:linked": False, "sso:invalid": False},
                dateCreated=min(r.created_at for r in rows),
                inviteStatus="approved",
                inviterName=None,
                teams=[team_slug(r.team) for r in rows],
                teamRoles=[
                    TeamRoleOut(
                        teamSlug=team_slug(r.team),
                        role="admin" if r.role == TeamRole.ADMIN else "contributor",
                    )
                    for r in rows
                ],
            )
        )
    return out


def _visible_memberships(principal):
    return TeamMembership.objects.filter(team__in=visible_teams(principal)).select_related(
        "team", "user"
    )


@router.get(
    "/organizations/{org}/teams/",
    response=list[TeamOut],
    auth=TEAM_READ,
    summary="List an organization's teams",
)
def organization_teams(request, response: HttpResponse, org: str):
    organization_or_404(org)
    page = paginate(request, response, visible_teams(request.auth).order_by("name", "pk"))
    return TeamPage(request.auth, page).outs()


@router.get("/teams/{org}/{team}/", response=TeamOut, auth=TEAM_READ, summary="Retrieve a team")
def team_detail(request, org: str, team: str):
    organization_or_404(org)
    found = _team_or_404(request.auth, team)
    return TeamPage(request.auth, [found]).out(found)


@router.get(
    "/teams/{org}/{team}/projects/",
    response=list[ProjectOut],
    auth=scoped("project:read"),
    summary="List a team's projects",
)
def team_projects(request, response: HttpResponse, org: str, team: str):
    organization_or_404(org)
    found = _team_or_404(request.auth, team)
    projects = projects_for_listing(
        request.auth.visible_projects().filter(team_link__team=found)
    ).order_by("name", "pk")
    member_of = member_team_ids(request.auth)
    return [
        project_out(p, member_team_ids=member_of) for p in paginate(request, response, projects)
    ]


@router.get(
    "/teams/{org}/{team}/members/",
    response=list[MemberOut],
    auth=MEMBER_READ,
    summary="List a team's members",
)
def team_members(request, response: HttpResponse, org: str, team: str):
    organization_or_404(org)
    found = _team_or_404(request.auth, team)
    memberships = found.memberships.select_related("team", "user").order_by("user_id")
    users = paginate(request, response, list(dict.fromkeys(m.user_id for m in memberships)))
    return _members_out(
        _visible_memberships(request.auth).filter(user_id__in=users).order_by("user_id", "team_id")
    )


@router.get(
    "/projects/{org}/{project}/teams/",
    response=list[TeamOut],
    auth=scoped("project:read"),
    summary="List a project's teams",
)
def project_teams(request, org: str, project: str):
    found = project_or_404(request.auth, org, project)
    teams = visible_teams(request.auth).filter(project_links__project=found)
    return TeamPage(request.auth, teams).outs()


@router.get(
    "/organizations/{org}/members/",
    response=list[MemberOut],
    auth=MEMBER_READ,
    summary="List an organization's members",
)
def organization_members(request, response: HttpResponse, org: str):
    organization_or_404(org)
    memberships = _visible_memberships(request.auth)
    user_ids = sorted(set(memberships.values_list("user_id", flat=True)))
    page = paginate(request, response, user_ids)
    return _members_out(memberships.filter(user_id__in=page).order_by("user_id", "team_id"))


@router.get(
    "/organizations/{org}/members/{member_id}/",
    response=MemberOut,
    auth=MEMBER_READ,
    summary="Retrieve an organization member",
)
def organization_member(request, org: str, member_id: str):
    organization_or_404(org)
    rows = []
    if member_id.isdigit():
        rows = list(
            _visible_memberships(request.auth).filter(user_id=int(member_id)).order_by("team_id")
        )
    elif member_id == "me" and request.auth.user is not None:
        rows = list(
            _visible_memberships(request.auth).filter(user=request.auth.user).order_by("team_id")
        )
    if not rows:
        raise Http404(f"Member {member_id!r} not found.")
    return _members_out(rows)[0]
