"""The organization: GET /api/0/organizations/, /organizations/{org}/, and its projects."""

from django.http import HttpResponse
from ninja import Router

from bugsink_issues.api.auth import scoped
from bugsink_issues.api.lookups import member_team_ids
from bugsink_issues.api.organization import organization, organization_or_404, public_base_url
from bugsink_issues.api.pagination import paginate
from bugsink_issues.api.schemas.organizations import (
    OrganizationOut,
    OrganizationSummary,
    organization_out,
)
from bugsink_issues.api.schemas.projects import ProjectOut, project_out, projects_for_listing

router = Router(tags=["organizations"])

READ = scoped("org:read")


@router.get("/", response=list[OrganizationSummary], auth=READ, summary="List organizations")
def organization_list(request, response: HttpResponse):
    return paginate(request, response, [organization_out(organization(), public_base_url(request))])


@router.get("/{org}/", response=OrganizationOut, auth=READ, summary="Organization detail")
def organization_detail(request, org: str):
    return organization_out(organization_or_404(org), public_base_url(request), OrganizationOut)


@router.get(
    "/{org}/projects/",
    response=list[ProjectOut],
    auth=scoped("org:read", "project:read"),
    summary="List the organization's projects",
)
def organization_projects(request, response: HttpResponse, org: str):
    organization_or_404(org)
    projects = projects_for_listing(request.auth.visible_projects()).order_by("name", "pk")
    page = paginate(request, response, projects)
    teams = member_team_ids(request.auth)
    return [project_out(project, member_team_ids=teams) for project in page]
