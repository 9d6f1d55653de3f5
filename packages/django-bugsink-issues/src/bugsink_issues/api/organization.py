"""The one organization of an installation, and the public base URL the API names itself by.

Sentry's clients address everything through an organization slug; an installation has exactly one,
named by BUGSINK_ISSUES_ORGANIZATION_SLUG / _NAME. The base URL matters more than it looks: the new
`sentry` CLI (inside the vite and webpack plugins) sends every later request to the organization's
`links.regionUrl`, and refuses a chunk-upload URL on any other origin; an org token embeds it too.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min
from django.http import Http404
from django.utils import timezone

from bugsink_issues.conf import app_settings

__all__ = ["Organization", "organization", "organization_or_404", "public_base_url"]


@dataclass(frozen=True)
class Organization:
    id: str
    slug: str
    name: str

    def date_created(self) -> datetime:
        """When the installation got its first project (now, before it has one)."""
        from bugsink_ingest.models import Project

        first = Project.objects.aggregate(first=Min("created_at"))["first"]
        return first or timezone.now()


def organization() -> Organization:
    return Organization(
        id="1", slug=app_settings.ORGANIZATION_SLUG, name=app_settings.ORGANIZATION_NAME
    )


def organization_or_404(slug) -> Organization:
    org = organization()
    if slug != org.slug:
        raise Http404(f"Organization {slug!r} not found.")
    return org


def public_base_url(request=None) -> str:
    """BUGSINK_ISSUES_BASE_URL; without it, the scheme and host `request` came in on."""
    if app_settings.BASE_URL:
        return app_settings.BASE_URL.rstrip("/")
    if request is None:
        return ""
    return request.build_absolute_uri("/").rstrip("/")
