"""Projects: GET /api/0/projects/ and /api/0/projects/{org}/{project}/."""

from django.http import HttpResponse
from ninja import Router

from bugsink_issues.api.auth import scoped
from bugsink_issues.api.lookups import member_team_ids, project_or_404
from bugsink_issues.api.organization import organization, public_base_url
from bugsink_issues.api.pagination import paginate
from bugsink_issues.api.schemas.organizations import organization_out
from bugsink_issues.api.schemas.projects import (
    ProjectDetailOut,
    ProjectListItemOut,
    project_out,
    projects_for_listing,
)

router = Router(tags=["projects"])

READ = scoped("project:read")


@router.get("/", response=list[ProjectListItemOut], auth=READ, summary="List your projects")
def project_list(request, response: HttpResponse):
    projects = projects_for_listing(request.auth.visible_projects()).order_by("name", "pk")
    page = paginate(request, response, projects)
    org = organization_out(organization(), public_base_url(request))
    teams = member_team_ids(request.auth)
    return [
        project_out(p, member_team_ids=teams, schema=ProjectListItemOut, organization=org)
        for p in page
    ]


@router.get("/{org}/{project}/", response=ProjectDetailOut, auth=READ, summary="Project detail")
def project_detail(request, org: str, project: str):
    queryset = projects_for_listing(request.auth.visible_projects())
    found = project_or_404(request.auth, org, project, queryset)
    return project_out(
        found,
        member_team_ids=member_team_ids(request.auth),
        schema=ProjectDetailOut,
        organization=organization_out(organization(), public_base_url(request)),
    )
