"""DSNs for project keys."""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from bugsink_ingest import conf  # noqa: F401  (defaults)


def dsn_for_key(key) -> str:
    """`http://<public_key>@<host>[/<prefix>]/<project_id>` for a ProjectKey."""
    base = urlsplit(settings.BUGSINK_INGEST_BASE_URL)
    prefix = base.path.rstrip("/")
    netloc = f"{key.public_key}@{base.netloc}"
    return urlunsplit((base.scheme, netloc, f"{prefix}/{key.project_id}", "", ""))
