"""Objects addressed by a path, through the caller's visibility: what a caller may not see is a
404, as in the UI (ids and slugs of other teams' projects cannot be probed)."""

from django.http import Http404

from bugsink_issues.api.errors import ApiError
from bugsink_issues.api.organization import organization_or_404
from bugsink_issues.models import TeamMembership

__all__ = ["member_team_ids", "project_or_404", "projects_by_slugs"]


def project_or_404(principal, organization_slug, project_slug, queryset=None):
    """The project `project_slug` (or its numeric id, as Sentry's paths allow) of the organization,
    if `principal` may see it."""
    organization_or_404(organization_slug)
    projects = principal.visible_projects() if queryset is None else queryset
    project = projects.filter(slug=project_slug).first()
    if project is None and str(project_slug).isdigit():
        project = projects.filter(pk=int(project_slug)).first()
    if project is None:
        raise Http404(f"Project {project_slug!r} not found.")
    return project


def member_team_ids(principal):
    if principal.user is None:
        return frozenset()
    return frozenset(
        TeamMembership.objects.filter(user=principal.user).values_list("team_id", flat=True)
    )


def projects_by_slugs(principal, slugs):
    """The projects named in a request body (a release's `projects`), all visible to `principal`;
    a 400 that names the others."""
    wanted = list(dict.fromkeys(str(s) for s in slugs))
    found = {p.slug: p for p in principal.visible_projects().filter(slug__in=wanted)}
    unknown = [slug for slug in wanted if slug not in found]
    if unknown:
        raise ApiError(400, f"Invalid project slugs: {', '.join(unknown)}.")
    return [found[slug] for slug in wanted]
