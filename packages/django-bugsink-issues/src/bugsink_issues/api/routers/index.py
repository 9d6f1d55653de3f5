"""GET /api/0/ (sentry-cli `info`) and GET /api/0/auth/ (the new `sentry` CLI, the MCP server)."""

from ninja import Router

from bugsink_issues.api.auth import optional, scoped
from bugsink_issues.api.errors import ApiError
from bugsink_issues.api.schemas.users import AuthOut, IndexOut, UserOut, user_out

router = Router(tags=["index"])


@router.get("/", response=IndexOut, auth=optional(), summary="Who is calling")
def index(request):
    """Without credentials: `auth` and `user` are null."""
    principal = request.auth
    if principal.is_anonymous:
        return IndexOut(version="0", auth=None, user=None)
    return IndexOut(
        version="0",
        auth=AuthOut(scopes=principal.declared_scopes()),
        user=user_out(principal.user) if principal.user is not None else None,
    )


@router.get("/auth/", response=UserOut, auth=scoped(), summary="The user of the token")
def current_user(request):
    if request.auth.user is None:
        raise ApiError(403, "An organization token belongs to no user.")
    return user_out(request.auth.user)
