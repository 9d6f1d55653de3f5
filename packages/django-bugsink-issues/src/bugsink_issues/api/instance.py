"""The one NinjaAPI of the web API, with every router mounted. The OpenAPI 3 document is generated
from the code and served at /api/0/openapi.json.

Another resource: a module in api/routers/ with a `router`, added to ROUTERS below.
"""

from ninja import NinjaAPI

from bugsink_issues import __version__
from bugsink_issues.api.errors import install_handlers
from bugsink_issues.api.renderers import JsonRenderer
from bugsink_issues.api.routers import (
    attachments,
    events,
    feedback,
    index,
    issue_notes,
    issue_tags,
    issues,
    keys,
    organizations,
    projects,
    releases,
    teams,
    uploads,
)

__all__ = ["ROUTERS", "api"]

# (prefix under /api/0/, router)
ROUTERS = [
    ("", index.router),
    ("organizations/", organizations.router),
    ("organizations/", releases.organization_router),
    ("organizations/", uploads.organization_router),
    ("projects/", projects.router),
    ("projects/", releases.project_router),
    ("projects/", uploads.project_router),
    # Issues and what hangs off them; their paths are spelt out in full (they span
    # /projects/, /organizations/ and /issues/).
    ("", issues.router),
    ("", events.router),
    ("", issue_tags.router),
    ("", issue_notes.router),
    ("", attachments.router),
    ("", feedback.router),
    ("", keys.router),
    ("", teams.router),
]

api = NinjaAPI(
    title="Bugsink web API",
    version=__version__,
    description=(
        "Sentry's web API (/api/0/) on Sentry's paths and field names, for sentry-cli, the "
        "Sentry bundler plugins, the Sentry MCP server and other Sentry API clients. Bearer "
        "tokens with Sentry's scopes; one organization per installation."
    ),
    urls_namespace="bugsink_api",
    renderer=JsonRenderer(),
    openapi_url="/openapi.json",
    # The interactive docs page loads its scripts from a CDN (no CSP would allow it): the
    # document alone is served; any OpenAPI viewer reads it.
    docs_url=None,
)
install_handlers(api)
for prefix, router in ROUTERS:
    api.add_router(prefix, router)
