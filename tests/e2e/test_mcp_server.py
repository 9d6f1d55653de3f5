"""The official Sentry MCP server (npm @sentry/mcp-server, tests/js) against the reference deployment,
driven through its stdio interface as an MCP client drives it: JSON-RPC `initialize`,
`tools/list`, `tools/call`.

It lists issues, shows an issue with the stack trace of its latest event (short ids such as
DEMO-3 in every path), finds an event by its id alone (through an issue search for the bare id),
lists an issue's events and tag values, changes an issue's status and finds the project's DSN.
It speaks http only with --insecure-http; no LLM key is set, so queries pass through verbatim.
"""

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import pytest

from harness.deployment import ADMIN_EMAIL, Deployment, StoredEvents
from harness.processes import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

SENDER = ROOT / "tests" / "e2e" / "senders" / "python_sdk.py"
MCP_SERVER = ROOT / "tests" / "js" / "node_modules" / "@sentry" / "mcp-server" / "dist" / "index.js"
ORG = "bugsink"


class McpClient:
    """A line-delimited JSON-RPC 2.0 client over a child process's stdin/stdout."""

    def __init__(self, argv, env, cwd):
        self.stderr_path = cwd / "mcp-server.stderr"
        self.stderr = open(self.stderr_path, "wb")  # a file: a full pipe would stall the server
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            cwd=cwd,
        )
        self.answers: queue.Queue = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.answers.put(json.loads(line))
            except ValueError:
                continue  # not a JSON-RPC message (nothing else should be on stdout)

    def _send(self, message):
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def notify(self, method, params=None):
        self._send({"jsonrpc": "2.0", "method": method, **({"params": params} if params else {})})

    def request(self, method, params=None, timeout=60.0):
        self.next_id += 1
        wanted = self.next_id
        self._send({"jsonrpc": "2.0", "id": wanted, "method": method, "params": params or {}})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.answers.get(timeout=0.5)
            except queue.Empty:
                assert self.proc.poll() is None, self.stderr_path.read_text()[-3000:]
                continue
            if message.get("id") == wanted:
                assert "error" not in message, message
                return message["result"]
        raise AssertionError(f"no answer to {method} within {timeout} s")

    def call_tool(self, name, **arguments):
        """The text the tool answers; fails on a tool error (the server's message shown)."""
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        text = "".join(part.get("text", "") for part in result.get("content", []))
        assert not result.get("isError"), f"{name}: {text}"
        return text

    def close(self):
        self.proc.stdin.close()  # end of input: the server exits
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.stderr.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("mcp") / "data")
    try:
        deployment.start(wait_ready=True)
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture(scope="module")
def sent(site):
    """Two issues from the real Python SDK (two events each): {marker: [event ids]}."""
    markers = {}
    for _ in range(2):
        marker = uuid.uuid4().hex[:10]
        result = subprocess.run(
            [sys.executable, str(SENDER), site.demo_dsn(), "none", marker],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        markers[marker] = json.loads(result.stdout.strip().splitlines()[-1])
    reached, _ = StoredEvents(site.data_dir).wait_for(4, timeout=60)
    assert reached, site.log()[-3000:]
    return markers


@pytest.fixture(scope="module")
def token(site):
    scopes = ["org:read", "project:read", "team:read", "member:read", "event:read", "event:write"]
    args = [arg for scope in scopes for arg in ("--scope", scope)]
    return (
        site.manage("bugsink_create_token", "--user", ADMIN_EMAIL, *args).strip().splitlines()[-1]
    )


@pytest.fixture(scope="module")
def mcp(site, token, tmp_path_factory):
    node = shutil.which("node")
    assert node and MCP_SERVER.exists(), "npm install --prefix tests/js (the MCP server)"
    home = tmp_path_factory.mktemp("mcp-home")
    host = site.base_url.removeprefix("http://")
    client = McpClient(
        [node, str(MCP_SERVER), f"--access-token={token}", f"--host={host}", "--insecure-http"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home), "DO_NOT_TRACK": "1"},
        cwd=home,
    )
    try:
        init = client.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "bugsink-tests", "version": "1"},
            },
        )
        assert init["serverInfo"]["name"] == "Sentry MCP", init
        client.notify("notifications/initialized")
        yield client
    finally:
        client.close()


def api_get(site, token, path):
    request = urllib.request.Request(
        site.base_url + path, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def issues_by_marker(site, token, sent):
    issues = api_get(site, token, f"/api/0/projects/{ORG}/demo/issues/?query=")
    return {m: next(i for i in issues if m in i["title"]) for m in sent}


def test_tools_are_listed(mcp):
    tools = {tool["name"] for tool in mcp.request("tools/list")["tools"]}
    assert {"search_issues", "get_sentry_resource", "update_issue", "whoami"} <= tools


def test_whoami_and_projects(mcp, site):
    assert ADMIN_EMAIL in mcp.call_tool("whoami")
    assert "**demo**" in mcp.call_tool("find_projects", organizationSlug=ORG)
    dsns = mcp.call_tool("find_dsns", organizationSlug=ORG, projectSlug="demo")
    assert site.demo_dsn() in dsns


def test_search_issues_lists_them_with_short_ids(mcp, site, token, sent):
    issues = issues_by_marker(site, token, sent)
    text = mcp.call_tool("search_issues", organizationSlug=ORG, query="is:unresolved")
    assert "Found **2** issues" in text, text
    for marker, issue in issues.items():
        assert issue["shortId"] in text and marker in text
    # Free text is passed through as it is (no LLM key): the search must take it.
    marker = next(iter(sent))
    text = mcp.call_tool(
        "search_issues", organizationSlug=ORG, query=marker, projectSlugOrId="demo"
    )
    assert issues[marker]["shortId"] in text
    assert issues[list(sent)[1]]["shortId"] not in text


def test_issue_resource_shows_the_stack_trace(mcp, site, token, sent):
    marker = next(iter(sent))
    issue = issues_by_marker(site, token, sent)[marker]
    text = mcp.call_tool(
        "get_sentry_resource",
        resourceType="issue",
        organizationSlug=ORG,
        resourceId=issue["shortId"],
    )
    assert f"# Issue {issue['shortId']}" in text, text
    assert f"OrderError_{marker}" in text
    assert "**Occurrences**: 2" in text
    # The stack trace of the latest event: the sender's own frames, with its source line.
    assert "Full Stacktrace" in text and "python_sdk.py" in text and "parse_order" in text, text
    assert "raise error_type(" in text
    assert "Most Relevant Frame" in text  # from inApp


def test_event_resource_is_found_by_the_event_id_alone(mcp, site, token, sent):
    marker = list(sent)[1]
    event_id = sent[marker][-1].replace("-", "")
    issue = issues_by_marker(site, token, sent)[marker]
    text = mcp.call_tool(
        "get_sentry_resource", resourceType="event", organizationSlug=ORG, resourceId=event_id
    )
    assert f"# Issue {issue['shortId']}" in text, text
    assert f"**Event ID**: {event_id}" in text
    assert "python_sdk.py" in text


def test_issue_events_and_tag_values(mcp, site, token, sent):
    marker = next(iter(sent))
    issue = issues_by_marker(site, token, sent)[marker]
    text = mcp.call_tool(
        "search_issue_events",
        organizationSlug=ORG,
        issueId=issue["shortId"],
        query="environment:production",
    )
    for event_id in sent[marker]:
        assert event_id.replace("-", "") in text, text
    text = mcp.call_tool(
        "get_issue_tag_values", organizationSlug=ORG, issueId=issue["shortId"], tagKey="environment"
    )
    assert "production" in text, text


def test_update_issue_changes_its_status(mcp, site, token, sent):
    marker = list(sent)[1]
    issue = issues_by_marker(site, token, sent)[marker]
    text = mcp.call_tool(
        "update_issue", organizationSlug=ORG, issueId=issue["shortId"], status="resolved"
    )
    assert "**resolved**" in text, text
    detail = api_get(site, token, f"/api/0/organizations/{ORG}/issues/{issue['shortId']}/")
    assert detail["status"] == "resolved"
    mcp.call_tool(
        "update_issue",
        organizationSlug=ORG,
        issueId=issue["shortId"],
        status="ignored",
        ignoreMode="forDuration",
        ignoreDurationMinutes=60,
    )
    detail = api_get(site, token, f"/api/0/organizations/{ORG}/issues/{issue['shortId']}/")
    assert detail["status"] == "ignored" and "ignoreUntil" in detail["statusDetails"], detail
