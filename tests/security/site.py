"""Acting on a running reference deployment as its users would: projects, alert channels through
the UI's forms, events through the real sentry-sdk; and reading what it stored."""

import html
import json
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from harness.deployment import Deployment, UIClient

CREATE_PROJECT = """
import json
from bugsink_ingest.models import Project, ProjectKey
from bugsink_site.bootstrap import dsn_for
project = Project.objects.create(name={name})
key = ProjectKey.objects.create(project=project, label="security tests")
print(json.dumps([project.pk, dsn_for(key)]))
"""

# An application's error, as sentry-sdk reports it.
SEND_EXCEPTION = """
import sys
import sentry_sdk
sentry_sdk.init(sys.argv[1], traces_sample_rate=0)
try:
    raise ValueError(sys.argv[2])
except ValueError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(10)
"""

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def new_project(site: Deployment, name: str) -> tuple[int, str]:
    """A project of its own for a test (alerts go to every channel of a project): (id, DSN)."""
    out = site.manage("shell", "-c", CREATE_PROJECT.format(name=json.dumps(name)))
    project_id, dsn = json.loads(out.strip().splitlines()[-1])
    return project_id, dsn


def send_exception(dsn: str, message: str):
    subprocess.run([sys.executable, "-c", SEND_EXCEPTION, dsn, message], check=True, timeout=60)


def csrf_token(client: UIClient, path: str) -> str:
    status, _, page = client.get(path)
    assert status == 200, page[:500]
    token = CSRF.search(page)
    assert token, f"no CSRF token on {path}"
    return token.group(1)


def add_channel(client: UIClient, project_id: int, kind: str, target: str) -> str:
    """Submit the project settings' "Add channel" form; the text of the page it lands on."""
    settings_path = f"/projects/{project_id}/settings/"
    status, _, page = client.post(
        f"/projects/{project_id}/channels/new/",
        {
            "csrfmiddlewaretoken": csrf_token(client, settings_path),
            "channel-kind": kind,
            "channel-name": f"{kind} channel",
            "channel-target": target,
            "channel-secret": "",
            "channel-on_new_issue": "on",
            "channel-on_regression": "on",
            "channel-on_unmute": "on",
        },
    )
    assert status == 200, page[:500]
    return html.unescape(page)


def send_test_alert(client: UIClient, project_id: int, channel_id: int) -> str:
    settings_path = f"/projects/{project_id}/settings/"
    status, _, page = client.post(
        f"/projects/{project_id}/channels/{channel_id}/test/",
        {"csrfmiddlewaretoken": csrf_token(client, settings_path)},
    )
    assert status == 200, page[:500]
    return html.unescape(page)


def query(site: Deployment, sql: str, *args, data_dir: Path | None = None):
    """Rows from the deployment's main database (read-only, a connection per look)."""
    path = (data_dir or site.data_dir) / "db.sqlite3"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as conn:
        return conn.execute(sql, args).fetchall()


def channels(site: Deployment, project_id: int) -> dict[str, int]:
    """target -> id of the project's alert channels."""
    rows = query(
        site, "SELECT target, id FROM bugsink_issues_alertchannel WHERE project_id = ?", project_id
    )
    return dict(rows)


def deliveries(site: Deployment, channel_id: int) -> list[tuple[str, str, str]]:
    """(trigger, status, error) of a channel's finished deliveries, oldest first."""
    return query(
        site,
        "SELECT trigger, status, error FROM bugsink_issues_alertdelivery "
        "WHERE channel_id = ? AND finished_at IS NOT NULL ORDER BY id",
        channel_id,
    )
