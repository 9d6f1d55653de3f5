"""Who is calling and what they may do: bearer tokens with scopes, and the UI's own session.

Every operation names the scopes that admit it: `auth=scoped("project:releases", "project:write")`
(any one of them). No credentials or a bad token is a 401; valid credentials without one of the
scopes is a 403. The result lands in `request.auth`, a Principal, and every query of an endpoint
starts from `principal.visible_projects()` / `principal.visible_issues()`: the UI's visibility
rules (bugsink_issues.models.access), never a copy of them.

- User tokens act as their user, with their scopes.
- Organization tokens (`sntrys_`) have no user and the `org:ci` scope: releases and uploads for
  any project of the organization, and reads of the organization and its projects.
- The session of a logged-in user (for the UI's own scripts) carries every scope; the user's
  visibility still decides what they see. Unsafe methods need the CSRF token, as any form does.
  A request with an Authorization header is judged by that header alone.
"""

from dataclasses import dataclass

from django.conf import settings
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from bugsink_issues.api.errors import ApiError
from bugsink_issues.api.ratelimit import check_rate_limit
from bugsink_issues.models import Issue
from bugsink_issues.models.access import visible_projects
from bugsink_issues.models.api import SCOPES, ApiToken, TokenKind, expand_scopes

__all__ = ["BearerTokenAuth", "Principal", "SessionAuth", "optional", "scoped"]


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a user (or None for an organization token), the token (None for
    a session) and the scopes granted (implied ones included)."""

    user: object
    token: ApiToken | None
    scopes: frozenset[str]

    @property
    def is_anonymous(self):
        return self.user is None and self.token is None

    @property
    def is_organization_token(self):
        return self.token is not None and self.token.kind == TokenKind.ORGANIZATION

    def has_scope(self, *any_of):
        return not any_of or any(scope in self.scopes for scope in any_of)

    def visible_projects(self):
        """The projects this caller may see: the user's (as in the UI); all, for an organization
        token."""
        from bugsink_ingest.models import Project

        if self.is_organization_token:
            return Project.objects.all()
        if self.user is None:
            return Project.objects.none()
        return visible_projects(self.user)

    def visible_issues(self):
        if self.user is None:
            return Issue.objects.filter(project__in=self.visible_projects().values("pk"))
        return Issue.objects.visible_to(self.user)

    def declared_scopes(self):
        """The scopes as a client is told them (`auth.scopes` of GET /api/0/)."""
        return [scope for scope in SCOPES if scope in self.scopes]


class _ScopeCheck:
    """The part both ways of authenticating share: the scope check and the rate limit."""

    def __init__(self, any_of):
        unknown = set(any_of) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes {sorted(unknown)}")
        self.any_of = tuple(any_of)

    def admit(self, principal, identity):
        check_rate_limit(identity)
        if not principal.has_scope(*self.any_of):
            raise ApiError(
                403,
                "This token lacks the scope this request needs (one of: "
                + ", ".join(self.any_of)
                + ").",
            )
        return principal


class BearerTokenAuth(HttpBearer, _ScopeCheck):
    def __init__(self, *any_of):
        HttpBearer.__init__(self)
        _ScopeCheck.__init__(self, any_of)

    def authenticate(self, request, token):
        row = ApiToken.objects.for_secret(token.strip())
        if row is None:
            raise ApiError(401, "Invalid token.")
        if row.is_revoked:
            raise ApiError(401, "This token has been revoked.")
        if row.user is not None and not row.user.is_active:
            raise ApiError(401, "The user of this token is inactive.")
        row.mark_used()
        principal = Principal(user=row.user, token=row, scopes=row.granted_scopes())
        return self.admit(principal, f"token:{row.pk}")


class SessionAuth(APIKeyCookie, _ScopeCheck):
    """The logged-in user of the UI; unsafe methods need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, *any_of):
        APIKeyCookie.__init__(self, csrf=True)
        _ScopeCheck.__init__(self, any_of)

    def _get_key(self, request):
        if "Authorization" in request.headers:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # no session: no CSRF question either (a 401 follows, not a 403)
        if check_csrf(request):
            raise ApiError(403, "CSRF check failed: send the X-CSRFToken header.")
        return "session"  # however the host site logged the user in

    def authenticate(self, request, key):
        if key is None:
            return None
        user = request.user
        principal = Principal(user=user, token=None, scopes=expand_scopes(SCOPES))
        return self.admit(principal, f"user:{user.pk}")


def scoped(*any_of):
    """The `auth=` of an operation that needs one of the scopes `any_of` (none: any caller with
    valid credentials)."""
    return [BearerTokenAuth(*any_of), SessionAuth(*any_of)]


class _Anonymous:
    """Admits a request without credentials (request.auth = False); bad credentials still fail."""

    def __call__(self, request):
        if "Authorization" in request.headers:
            return None  # the bearer check before this one said no
        return _ANONYMOUS


_ANONYMOUS = Principal(user=None, token=None, scopes=frozenset())


def optional():
    """The `auth=` of an operation that also answers callers without credentials (GET /api/0/):
    `request.auth` is then a Principal without user, token or scopes."""
    return [*scoped(), _Anonymous()]
