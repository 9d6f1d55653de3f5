"""A project's client keys (DSNs): listed, one by id (the public key), and made.

    GET|POST /projects/{org}/{project}/keys/
    GET      /projects/{org}/{project}/keys/{key_id}/

Reading needs project:read; making a key project:write and, as in the UI, admin rights on the
project's team (a 403 otherwise).
"""

from datetime import datetime

from django.http import Http404, HttpResponse
from ninja import Field, Router, Schema, Status

from bugsink_ingest.dsn import dsn_for_key
from bugsink_ingest.models import ProjectKey
from bugsink_issues.api.auth import scoped
from bugsink_issues.api.errors import ApiError
from bugsink_issues.api.lookups import project_or_404
from bugsink_issues.api.pagination import paginate
from bugsink_issues.ui.access import can_manage_project

router = Router(tags=["projects"])


class KeyDsnOut(Schema):
    public: str
    secret: str = Field(description="The same as `public`: keys here have no secret part.")
    csp: str
    security: str
    minidump: str | None
    nel: str | None
    unreal: str | None
    cdn: str | None
    crons: str | None
    playstation: str | None


class KeyRateLimitOut(Schema):
    window: int = Field(description="Seconds.")
    count: int


class ProjectKeyOut(Schema):
    id: str = Field(description="The public key.")
    name: str
    label: str
    public: str
    secret: str
    projectId: int
    isActive: bool
    rateLimit: KeyRateLimitOut | None
    dsn: KeyDsnOut
    browserSdkVersion: str
    browserSdk: dict
    dateCreated: datetime
    dynamicSdkLoaderOptions: dict


class ProjectKeyIn(Schema):
    name: str | None = Field(None, description="A label for people.")


def key_out(key):
    dsn = dsn_for_key(key)
    # The security endpoint sits where the DSN's project id does: <scheme>://<host>[/prefix]/api/N/
    scheme_host, _, rest = dsn.partition("@")
    base = scheme_host.split("://", 1)[0] + "://" + rest.rsplit("/", 1)[0]
    security = f"{base}/api/{key.project_id}/security/?sentry_key={key.public_key}"
    rate = key.rate_limit_per_minute
    return ProjectKeyOut(
        id=key.public_key,
        name=key.label or "Default",
        label=key.label or "Default",
        public=key.public_key,
        secret=key.public_key,
        projectId=key.project_id,
        isActive=key.is_active,
        rateLimit=KeyRateLimitOut(window=60, count=rate) if rate else None,
        dsn=KeyDsnOut(
            public=dsn,
            secret=dsn,
            csp=security,
            security=security,
            minidump=None,
            nel=None,
            unreal=None,
            cdn=None,
            crons=None,
            playstation=None,
        ),
        browserSdkVersion="latest",
        browserSdk={"choices": [["latest", "latest"]]},
        dateCreated=key.created_at,
        dynamicSdkLoaderOptions={
            "hasReplay": False,
            "hasPerformance": False,
            "hasDebug": False,
        },
    )


@router.get(
    "/projects/{org}/{project}/keys/",
    response=list[ProjectKeyOut],
    auth=scoped("project:read"),
    summary="List a project's client keys",
)
def project_keys(request, response: HttpResponse, org: str, project: str, status: str = ""):
    found = project_or_404(request.auth, org, project)
    keys = ProjectKey.objects.filter(project=found).order_by("created_at", "pk")
    if status == "active":
        keys = keys.filter(is_active=True)
    elif status == "inactive":
        keys = keys.filter(is_active=False)
    return [key_out(k) for k in paginate(request, response, keys)]


@router.post(
    "/projects/{org}/{project}/keys/",
    response={201: ProjectKeyOut},
    auth=scoped("project:write"),
    summary="Create a new client key",
)
def project_key_create(request, org: str, project: str, payload: ProjectKeyIn):
    found = project_or_404(request.auth, org, project)
    user = request.auth.user
    if user is None or not can_manage_project(user, found):
        raise ApiError(403, "Only admins of the project's team may make keys.")
    key = ProjectKey.objects.create(project=found, label=(payload.name or "")[:200])
    return Status(201, key_out(key))


@router.get(
    "/projects/{org}/{project}/keys/{key_id}/",
    response=ProjectKeyOut,
    auth=scoped("project:read"),
    summary="Retrieve a client key",
)
def project_key(request, org: str, project: str, key_id: str):
    found = project_or_404(request.auth, org, project)
    key = ProjectKey.objects.filter(project=found, public_key=key_id).first()
    if key is None:
        raise Http404(f"Key {key_id!r} not found.")
    return key_out(key)
