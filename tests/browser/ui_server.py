"""Real Gunicorn servers of the UI for the browser tests, the events the real SDK sends them, and
a logged-in Chromium page. The fixtures in conftest.py build on these."""

import json
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from harness.processes import ROOT, free_port, start, stop, wait_for_port

# The standard UI server's users and projects: alice is an admin of both teams, carol a member of
# the Shop team only.
SETUP = """
from django.contrib.auth import get_user_model
from bugsink_ingest.models import Project, ProjectKey
from bugsink_issues.models.access import ProjectTeam, Team, TeamMembership
User = get_user_model()
user = User.objects.create_user("alice", password="correct horse")
carol = User.objects.create_user("carol", password="correct horse")
team = Team.objects.create(name="Shop team")
ops = Team.objects.create(name="Ops")
TeamMembership.objects.create(team=team, user=user, role="admin")
TeamMembership.objects.create(team=team, user=carol, role="member")
TeamMembership.objects.create(team=ops, user=user, role="admin")
project = Project.objects.create(name="Shop")
ProjectTeam.objects.create(project=project, team=team)
key = ProjectKey.objects.create(project=project, public_key="ab" * 16)
print(project.pk)
"""


@contextmanager
def ui_site(settings_module, setup, *, prefix=""):
    """A migrated site under Gunicorn (one worker, four threads); yields its base URL, the output
    of `setup` (Python run in `manage.py shell`), the DSN of the key "abab..." and its data dir."""
    directory = Path(tempfile.mkdtemp(prefix="ui-browser-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "DJANGO_SETTINGS_MODULE": settings_module,
        "UI_TEST_DIR": str(directory),
        "UI_TEST_BASE_URL": base,
        "HOST_SITE_DIR": str(directory),
        "HOST_SITE_BASE_URL": base,
        "PYTHONPATH": str(ROOT),
        "BUGSINK_TEST_POSTGRES": "",
    }
    full = {**os.environ, **env}
    run = [sys.executable, "-m", "django"]
    subprocess.run([*run, "migrate", "-v0"], env=full, cwd=ROOT, check=True, timeout=120)
    out = subprocess.run(
        [*run, "shell", "-c", setup],
        env=full,
        cwd=ROOT,
        check=True,
        timeout=60,
        capture_output=True,
    )
    project_id = int(out.stdout.decode().split()[-1])
    proc = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            *("--workers", "1", "--threads", "4", "--worker-class", "gthread"),
            *("--bind", f"127.0.0.1:{port}"),
            "django.core.wsgi:get_wsgi_application()",
        ],
        env=env,
        log_path=directory / "gunicorn.log",
    )
    try:
        wait_for_port(port, proc, timeout=60)
        yield {
            "base": base,
            "dsn": f"http://{'ab' * 16}@127.0.0.1:{port}{prefix}/{project_id}",
            "project_id": project_id,
            "dir": directory,
        }
    finally:
        stop(proc)


def send(server, mode):
    """Events sent by the real sentry-sdk (tests/browser/sender.py); their ids."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "sender.py"), server["dsn"], mode],
        capture_output=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    )
    ids = json.loads(out.stdout.decode().strip().splitlines()[-1])
    assert ids, out.stderr.decode()
    return ids


def new_page(chromium, *, width=1280, height=860):
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.dialogs = []
    page.console = []
    page.on("console", lambda m: page.console.append(m.text))
    return context, page


def log_in(page, server, username="alice", password="correct horse"):
    """Through the UI's own login page (the standard server's LOGIN_URL)."""
    page.goto(server["base"] + "/")
    assert "/login/" in page.url  # LOGIN_URL: the login page
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click(".bsk-main button[type=submit]")
    page.wait_for_url(server["base"] + "/")
