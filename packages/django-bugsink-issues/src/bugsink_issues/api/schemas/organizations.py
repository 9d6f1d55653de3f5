"""The organization (one per installation)."""

from datetime import datetime

from ninja import Schema

__all__ = ["OrganizationLinks", "OrganizationOut", "OrganizationSummary", "organization_out"]


class OrganizationLinks(Schema):
    # The new `sentry` CLI sends every later request of this organization to regionUrl.
    organizationUrl: str
    regionUrl: str


class OrganizationStatus(Schema):
    id: str
    name: str


class OrganizationSummary(Schema):
    id: str
    slug: str
    name: str
    dateCreated: datetime
    isEarlyAdopter: bool
    require2FA: bool
    requireEmailVerification: bool
    features: list[str]
    status: OrganizationStatus
    links: OrganizationLinks


class OrganizationOut(OrganizationSummary):
    """The detail adds nothing a client needs yet; a separate name keeps the OpenAPI honest."""


def organization_out(org, base_url, schema=OrganizationSummary):
    return schema(
        id=org.id,
        slug=org.slug,
        name=org.name,
        dateCreated=org.date_created(),
        isEarlyAdopter=False,
        require2FA=False,
        requireEmailVerification=False,
        features=[],
        status=OrganizationStatus(id="active", name="active"),
        links=OrganizationLinks(organizationUrl=base_url, regionUrl=base_url),
    )
