"""The real sentry-cli, 3.x (the PyPI wheel) and 2.x (npm @sentry/cli, what the esbuild and rollup
plugins run), against the reference deployment (`manage.py serve`): info, organizations and
projects, the release lifecycle with commits and deploys, and source maps: a TypeScript bundle
built by esbuild, `sourcemaps inject` + `upload`, then a real @sentry/node event from the bundle
whose stored frames are the TypeScript ones."""

import json
import os
import re
import shutil
import subprocess
import urllib.parse
import urllib.request

import pytest

from harness.deployment import ADMIN_EMAIL, Deployment
from harness.processes import ROOT, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

JS = ROOT / "tests" / "js"
CLI3 = shutil.which("sentry-cli")  # the PyPI wheel in the test environment
CLI2 = str(JS / "node_modules" / ".bin" / "sentry-cli")
CLIS = [pytest.param(CLI3, id="cli3"), pytest.param(CLI2, id="cli2")]

APP_TS = """\
import * as Sentry from "@sentry/node";

interface Order {
  id: number;
  total: number;
}

function computeTotal(order: Order): number {
  if (order.total < 0) {
    throw new Error("negative total for order " + order.id);
  }
  return order.total;
}

export function checkout(orders: Order[]): number {
  let sum = 0;
  for (const o of orders) {
    sum += computeTotal(o);
  }
  return sum;
}

Sentry.init({ dsn: process.env.DSN, release: process.env.RELEASE, defaultIntegrations: false });
try {
  checkout([{ id: 7, total: -1 }]);
} catch (e) {
  Sentry.captureException(e);
}
Sentry.flush(10000).then((ok) => process.exit(ok ? 0 : 3));
"""
THROW_LINE = 10  # `throw new Error(...)` in APP_TS, 1-based


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("sentry-cli") / "data")
    deployment.start()
    try:
        yield deployment
    finally:
        deployment.stop(timeout=30)


@pytest.fixture(scope="module")
def token(site):
    return site.manage("bugsink_create_token", "--user", ADMIN_EMAIL).strip().splitlines()[-1]


def cli_env(site, token, home, **extra):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "SENTRY_URL": site.base_url,
        "SENTRY_AUTH_TOKEN": token,
        "SENTRY_ORG": "bugsink",
        "SENTRY_PROJECT": "demo",
        "SENTRY_CLI_NO_TELEMETRY": "1",
        "SENTRY_CLI_NO_UPDATE_CHECK": "1",
        "SENTRY_LOG_LEVEL": "warn",
    }
    env.update(extra)
    return env


def run(cli, *args, env, cwd=None, check=True):
    result = subprocess.run(
        [cli, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def api_get(site, token, path):
    request = urllib.request.Request(
        site.base_url + path, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("cli", CLIS)
def test_info_organizations_projects(site, token, tmp_path, cli):
    env = cli_env(site, token, tmp_path)
    info = run(cli, "info", env=env).stdout
    assert ADMIN_EMAIL in info and "project:releases" in info
    orgs = run(cli, "organizations", "list", env=env).stdout
    assert "bugsink" in orgs
    projects = run(cli, "projects", "list", env=env).stdout
    assert "demo" in projects


def test_organization_token_alone_configures_the_cli(site, tmp_path):
    org_token = site.manage("bugsink_create_token", "--user", ADMIN_EMAIL, "--organization")
    org_token = org_token.strip().splitlines()[-1]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SENTRY_AUTH_TOKEN": org_token,  # no SENTRY_URL, no SENTRY_ORG: both come from it
        "SENTRY_CLI_NO_TELEMETRY": "1",
    }
    listed = run(CLI3, "releases", "list", "-p", "demo", env=env)
    assert listed.returncode == 0
    run(CLI3, "releases", "new", "org-token-1.0", "-p", "demo", env=env)
    assert api_get(site, org_token, "/api/0/organizations/bugsink/releases/org-token-1.0/")


def git(cwd, *args):
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(cwd),
            "GIT_AUTHOR_NAME": "Dev",
            "GIT_AUTHOR_EMAIL": "dev@example.com",
            "GIT_COMMITTER_NAME": "Dev",
            "GIT_COMMITTER_EMAIL": "dev@example.com",
        },
    )


@pytest.mark.parametrize("cli", CLIS)
def test_release_lifecycle_with_commits_and_deploys(site, token, tmp_path, cli):
    version = f"lifecycle-{os.path.basename(cli)}-{tmp_path.name}"[:60]
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://github.com/acme/web.git")
    for n in range(3):
        (repo / f"f{n}.txt").write_text(str(n))
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", f"commit {n}")
    env = cli_env(site, token, tmp_path)

    assert f"Created release {version}" in run(cli, "releases", "new", version, env=env).stdout
    # Again: the existing release answers 208, which the CLI takes as success too.
    run(cli, "releases", "new", version, env=env)
    run(cli, "releases", "set-commits", version, "--auto", env=env, cwd=repo)
    commits = api_get(site, token, f"/api/0/organizations/bugsink/releases/{version}/commits/")
    assert [c["message"].strip() for c in commits] == ["commit 2", "commit 1", "commit 0"]
    run(
        cli,
        "releases",
        "set-commits",
        version,
        "--commit",
        "acme/web@abc123",
        env=env,
        cwd=repo,
        check=False,
    )  # fmt: skip  (no repository integration: "Unknown repo" is the CLI's own)
    run(cli, "releases", "finalize", version, env=env)
    detail = api_get(site, token, f"/api/0/organizations/bugsink/releases/{version}/")
    assert detail["dateReleased"] is not None
    assert detail["commitCount"] == 3 and detail["projects"][0]["slug"] == "demo"

    deployed = run(cli, "deploys", "new", "-r", version, "-e", "production", "-n", "blue", env=env)
    assert "production" in deployed.stdout
    listed = run(cli, "deploys", "list", "-r", version, env=env).stdout
    assert "production" in listed and "blue" in listed
    assert version in run(cli, "releases", "list", env=env).stdout
    assert run(cli, "releases", "info", version, env=env).returncode == 0

    assert "Deleted release" in run(cli, "releases", "delete", version, env=env).stdout
    gone = run(cli, "releases", "info", version, env=env, check=False)
    assert gone.returncode != 0


def build_app(tmp_path):
    """The TypeScript app bundled (minified, with its map) by esbuild; @sentry/node stays outside
    the bundle and comes from tests/js."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.ts").write_text(APP_TS)
    dist = tmp_path / "dist"
    subprocess.run(
        [
            str(JS / "node_modules" / ".bin" / "esbuild"),
            str(src / "app.ts"),
            "--bundle",
            "--minify",
            "--sourcemap",
            "--platform=node",
            "--external:@sentry/node",
            f"--outfile={dist / 'app.js'}",
            "--log-level=warning",
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    return dist


def run_app(site, dist, release):
    result = subprocess.run(
        ["node", str(dist / "app.js")],
        env={
            "PATH": os.environ["PATH"],
            "NODE_PATH": str(JS / "node_modules"),
            "DSN": site.demo_dsn(),
            "RELEASE": release,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def issue_page_with(site, marker):
    """The UI's page of the newest issue whose title has `marker` (the issue list, then the page)."""
    ui = site.browser()
    ui.login()
    found = {}

    def appeared():
        query = urllib.parse.quote(marker)
        status, _, body = ui.get(f"/projects/{site.demo_project_id()}/?q={query}")
        links = re.findall(r'href="(/issues/\d+/)"', body)
        if status == 200 and links:
            found["page"] = ui.get(links[0])[2]
        return bool(found)

    wait_for(appeared, timeout=60, what=f"an issue with {marker!r}")
    return found["page"]


@pytest.mark.parametrize("cli", CLIS)
def test_sourcemaps_inject_and_upload_map_the_node_sdk_event(site, token, tmp_path, cli):
    dist = build_app(tmp_path)
    env = cli_env(site, token, tmp_path)
    release = f"maps-{tmp_path.name}"[:60]
    run(cli, "sourcemaps", "inject", str(dist), env=env)
    assert "debugId" in (dist / "app.js").read_text()
    if cli == CLI2:
        # sentry-cli 2.x: release-bound, by URL (`~/` + the file's absolute path) as well.
        run(cli, "releases", "new", release, env=env)
        args = ["--release", release, "--url-prefix", f"~{dist}"]
    else:
        args = []  # debug ids only
    uploaded = run(cli, "sourcemaps", "upload", *args, str(dist), env=env)
    assert "error" not in uploaded.stderr.lower(), uploaded.stderr
    run_app(site, dist, release)
    page = issue_page_with(site, "negative total")
    assert "app.ts" in page
    assert "computeTotal" in page
    # The frame's place as the UI prints it: `:line:column` (the column of `throw` in app.ts).
    assert re.search(rf">:{THROW_LINE}:\d+<", page), "the throwing frame is not at app.ts:10"


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler for the ELF file")
def test_debug_files_upload_is_accepted_and_kept(site, token, tmp_path):
    (tmp_path / "hello.c").write_text("int main(void) { return 0; }\n")
    elf = tmp_path / "hello"
    subprocess.run(["cc", "-g", "-o", str(elf), str(tmp_path / "hello.c")], check=True)
    env = cli_env(site, token, tmp_path)
    result = run(CLI3, "debug-files", "upload", "--wait", str(elf), env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout, result.stdout
    # Again: the file is known, so nothing is uploaded.
    again = run(CLI3, "debug-files", "upload", str(elf), env=env)
    assert "error" not in again.stderr.lower()
