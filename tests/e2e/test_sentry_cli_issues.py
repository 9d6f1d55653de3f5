"""sentry-cli (the PyPI wheel's binary) against the reference deployment: `issues list`, `issues
resolve / mute / unresolve` (one issue, and `-a` for all of them) and `events list`, with events
sent by the real Python SDK and a token made by `manage.py bugsink_create_token`.

What each command sends is in the API reference of the README; the traps it guards against: `mute`
sends the status "muted", `resolve -a` sends no filter at all (every issue of the project), and
the lists follow the `Link` header until results="false".
"""

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from harness.deployment import ADMIN_EMAIL, Deployment, StoredEvents
from harness.processes import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

SENDER = ROOT / "tests" / "e2e" / "senders" / "python_sdk.py"
ORG, PROJECT = "bugsink", "demo"


def sentry_cli_binary() -> str:
    found = shutil.which("sentry-cli", path=str(Path(sys.executable).parent)) or shutil.which(
        "sentry-cli"
    )
    assert found, "sentry-cli is in tests/requirements.txt: pip install -r tests/requirements.txt"
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("cli") / "data")
    try:
        deployment.start(wait_ready=True)
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture(scope="module")
def sent(site):
    """Five issues in the demo project, from the real Python SDK: three exceptions (two events
    each) and two log records; {marker: [event ids]}."""
    dsn = site.demo_dsn()
    markers = {}
    for mode in ("none", "none", "none", "logging"):
        marker = uuid.uuid4().hex[:10]
        result = subprocess.run(
            [sys.executable, str(SENDER), dsn, mode, marker],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        markers[marker] = json.loads(result.stdout.strip().splitlines()[-1])
    total = sum(len(ids) for ids in markers.values())
    reached, _ = StoredEvents(site.data_dir).wait_for(total, timeout=60)
    assert reached, site.log()[-3000:]
    return markers


@pytest.fixture(scope="module")
def token(site):
    # The default scopes: what `bugsink_create_token` gives sentry-cli users.
    return site.manage("bugsink_create_token", "--user", ADMIN_EMAIL).strip().splitlines()[-1]


@pytest.fixture(scope="module")
def cli(site, token, tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),  # no ~/.sentryclirc of the machine's user
        "SENTRY_URL": site.base_url,
        "SENTRY_AUTH_TOKEN": token,
        "SENTRY_ORG": ORG,
        "SENTRY_PROJECT": PROJECT,
        "SENTRY_CLI_NO_TELEMETRY": "1",
        "SENTRY_CLI_NO_UPDATE_CHECK": "1",
    }
    binary = sentry_cli_binary()

    def run(*args, ok=True):
        result = subprocess.run(
            [binary, *args], env=env, cwd=home, capture_output=True, text=True, timeout=60
        )
        if ok:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    return run


def api_get(site, token, path):
    request = urllib.request.Request(
        site.base_url + path, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("application/json")
        return json.loads(response.read())


def all_issues(site, token):
    return api_get(site, token, f"/api/0/projects/{ORG}/{PROJECT}/issues/?query=")


def issue_for(site, token, marker):
    (issue,) = [i for i in all_issues(site, token) if marker in i["title"]]
    return issue


def table_rows(output):
    """The data rows of a sentry-cli table, as lists of cell texts."""
    rows = []
    for line in output.splitlines():
        if line.startswith("|") and not set(line) <= set("|-+ "):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows[1:]  # the first is the header


def test_issues_list_shows_every_issue_with_short_ids(site, sent, token, cli):
    issues = all_issues(site, token)
    assert len(issues) == 5
    output = cli("issues", "list").stdout
    rows = table_rows(output)
    assert len(rows) == 5, output
    listed = {row[1] for row in rows}  # Issue ID | Short ID | Title | Last seen | Status | Level
    assert listed == {i["shortId"] for i in issues}
    assert all(short_id.startswith("DEMO-") for short_id in listed)
    for marker in sent:
        assert marker in output
    assert {row[4] for row in rows} == {"unresolved"}

    # --query goes through Sentry's search syntax: free text, and a status term.
    marker = next(iter(sent))
    rows = table_rows(cli("issues", "list", "--query", f"is:unresolved {marker}").stdout)
    assert len(rows) == 1 and marker in rows[0][2]
    assert table_rows(cli("issues", "list", "--query", "is:resolved").stdout) == []


def test_resolve_mute_unresolve_one_issue(site, sent, token, cli):
    marker = list(sent)[1]
    issue = issue_for(site, token, marker)
    other = issue_for(site, token, list(sent)[2])

    result = cli("issues", "resolve", "-i", issue["id"])
    assert "Updated matching issues." in result.stdout, result.stdout + result.stderr
    assert issue_for(site, token, marker)["status"] == "resolved"
    assert issue_for(site, token, list(sent)[2])["status"] == other["status"]  # only that one

    cli("issues", "mute", "-i", issue["id"])  # sends status "muted", Sentry's older word
    muted = issue_for(site, token, marker)
    assert muted["status"] == "ignored" and muted["substatus"] == "archived_forever"

    cli("issues", "unresolve", "-i", issue["id"])
    assert issue_for(site, token, marker)["status"] == "unresolved"

    # The change is the issue's own history, with who did it.
    detail = api_get(site, token, f"/api/0/organizations/{ORG}/issues/{issue['shortId']}/")
    kinds = [a["type"] for a in detail["activity"]]
    assert kinds[:3] == ["set_unresolved", "set_ignored", "set_resolved"], kinds
    assert detail["activity"][0]["user"]["email"] == ADMIN_EMAIL


def test_resolve_all_sends_no_filter_and_resolves_every_issue(site, sent, token, cli):
    cli("issues", "resolve", "-a")
    statuses = {i["status"] for i in all_issues(site, token)}
    assert statuses == {"resolved"}
    rows = table_rows(cli("issues", "list").stdout)
    assert len(rows) == 5 and {row[4] for row in rows} == {"resolved"}
    cli("issues", "unresolve", "-a")
    assert {i["status"] for i in all_issues(site, token)} == {"unresolved"}


def test_unknown_issue_changes_nothing(site, sent, token, cli):
    before = {i["id"]: i["status"] for i in all_issues(site, token)}
    result = cli("issues", "resolve", "-i", "999999", ok=False)
    assert result.returncode == 0, result.stderr  # Sentry's answer: success, nothing changed
    assert {i["id"]: i["status"] for i in all_issues(site, token)} == before


def test_events_list_shows_every_event(site, sent, token, cli):
    output = cli("events", "list", "-U", "-T").stdout
    sent_ids = {event_id.replace("-", "") for ids in sent.values() for event_id in ids}
    # Event ID | Time | Title | User | Tags; a row's further tags take lines of their own.
    rows = [row for row in table_rows(output) if row[0]]
    assert {row[0].replace("-", "") for row in rows} == sent_ids, output
    assert "environment: production" in output and "level: error" in output


def test_a_token_without_the_scope_is_refused_with_the_servers_words(site, sent, cli, tmp_path):
    token = (
        site.manage("bugsink_create_token", "--user", ADMIN_EMAIL, "--scope", "project:read")
        .strip()
        .splitlines()[-1]
    )
    binary = sentry_cli_binary()
    result = subprocess.run(
        [binary, "issues", "list"],
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "SENTRY_URL": site.base_url,
            "SENTRY_AUTH_TOKEN": token,
            "SENTRY_ORG": ORG,
            "SENTRY_PROJECT": PROJECT,
            "SENTRY_CLI_NO_TELEMETRY": "1",
            "SENTRY_CLI_NO_UPDATE_CHECK": "1",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "event:read" in result.stderr and "403" in result.stderr, result.stderr
