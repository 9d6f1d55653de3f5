"""Finding and checking the DSN key of a request.

Messages help fix a DSN but never say whether a project id exists.
"""

import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.http import HttpRequest

from bugsink_ingest.conf import ingest_settings
from bugsink_ingest.errors import IngestError

_KEY_RE = re.compile(r"sentry_key\s*=\s*([^,\s]+)")
_CLIENT_RE = re.compile(r"sentry_client\s*=\s*([^,]+?)\s*(?:,|$)")
MAX_CLIENT = 200  # sentry_client is free text from the client


class AuthError(IngestError):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status


@dataclass(frozen=True)
class KeyInfo:
    key_id: int
    public_key: str
    project_id: int
    is_active: bool
    key_limit: int | None
    project_limit: int | None


@dataclass(frozen=True)
class Credentials:
    key: str | None  # sentry_key
    client: str  # sentry_client ("raven-js/3.27.2"), "" when the request named none


def credentials_from_request(request: HttpRequest) -> Credentials:
    """sentry_key and sentry_client from X-Sentry-Auth, Authorization: Sentry, or the query
    string (the first of them that has a key)."""
    for header in ("HTTP_X_SENTRY_AUTH", "HTTP_AUTHORIZATION"):
        value: str = request.META.get(header, "")
        if value[:7].lower() == "sentry ":
            if match := _KEY_RE.search(value):
                named = _CLIENT_RE.search(value)
                return Credentials(match.group(1), named.group(1)[:MAX_CLIENT] if named else "")
    query_string = request.META.get("QUERY_STRING", "")
    if not query_string:
        return Credentials(None, "")
    query: dict[str, list[str]] = parse_qs(query_string)
    client = query.get("sentry_client", [""])[0][:MAX_CLIENT]
    return Credentials(query["sentry_key"][0] if query.get("sentry_key") else None, client)


def key_from_request(request: HttpRequest) -> str | None:
    """The sentry_key from X-Sentry-Auth, Authorization: Sentry, or the query string."""
    return credentials_from_request(request).key


def parse_dsn(dsn: object) -> tuple[str, int] | None:
    """(public_key, project_id) from a DSN string, or None."""
    if not isinstance(dsn, str):
        return None
    try:
        parts = urlsplit(dsn)
        key = parts.username
        project_id = int(parts.path.rstrip("/").rsplit("/", 1)[-1])
    except ValueError:
        return None
    return (key, project_id) if key else None


_cache: dict[str, tuple[float, KeyInfo | None]] = {}


def lookup_key(public_key: str) -> KeyInfo | None:
    """The key's row, cached per process for KEY_CACHE_SECONDS (saves a query per event)."""
    now = time.monotonic()
    hit = _cache.get(public_key)
    if hit and hit[0] > now:
        return hit[1]
    from bugsink_ingest.models import ProjectKey

    row = (
        ProjectKey.objects.filter(public_key=public_key)
        .values_list(
            "id",
            "project_id",
            "is_active",
            "rate_limit_per_minute",
            "project__rate_limit_per_minute",
        )
        .first()
    )
    info = KeyInfo(row[0], public_key, row[1], row[2], row[3], row[4]) if row else None
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[public_key] = (now + ingest_settings.KEY_CACHE_SECONDS, info)
    return info


def missing_key() -> AuthError:
    return AuthError(
        401,
        "No DSN key in the request: send sentry_key in X-Sentry-Auth, in the query string, "
        "or in the envelope header's dsn. Check that the SDK was given the full DSN.",
    )


def authenticate(public_key: str | None, project_id: int) -> KeyInfo:
    if not public_key:
        raise missing_key()
    # New keys are 32 hex digits; older installations may hold other short alphanumeric keys.
    if not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", public_key):
        raise AuthError(401, "The DSN key has unexpected characters: copy the DSN again.")
    info = lookup_key(public_key)
    if info is None or info.project_id != project_id:
        raise AuthError(
            403,
            f"No active key {public_key} for project {project_id}: check both the key and the "
            "number at the end of your DSN against the project's settings.",
        )
    if not info.is_active:
        raise AuthError(
            403, f"The DSN key {public_key} is disabled: use another key of the project."
        )
    return info
