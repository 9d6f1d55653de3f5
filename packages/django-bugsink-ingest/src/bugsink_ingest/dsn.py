"""DSNs for project keys."""

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from bugsink_ingest.conf import ingest_settings

if TYPE_CHECKING:
    from bugsink_ingest.models import ProjectKey


def dsn_for_key(key: "ProjectKey") -> str:
    """`http://<public_key>@<host>[/<prefix>]/<project_id>` for a ProjectKey."""
    base = urlsplit(ingest_settings.BASE_URL)
    prefix = base.path.rstrip("/")
    netloc = f"{key.public_key}@{base.netloc}"
    return urlunsplit((base.scheme, netloc, f"{prefix}/{key.project_id}", "", ""))
