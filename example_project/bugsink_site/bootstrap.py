"""What the first run creates: the admin account and a demo project to send events to."""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

DEFAULT_ADMIN_EMAIL = "admin@localhost"
DEMO_PROJECT_SLUG = "demo"


@dataclass
class AdminAccount:
    email: str
    password: str | None  # set only when generated now (see hand_over_password)
    created: bool


def parse_admin_spec(spec: str) -> tuple[str, str]:
    email, sep, password = spec.partition(":")
    if not sep or "@" not in email or not password:
        raise ValueError("BUGSINK_ADMIN must look like email:password")
    return email.strip(), password


def ensure_admin(spec: str | None = None) -> AdminAccount:
    """Create the admin on first run: from BUGSINK_ADMIN, else with a generated password.

    Runs again at every start but changes nothing once a superuser exists (or the named one does).
    """
    User = get_user_model()
    spec = os.environ.get("BUGSINK_ADMIN", "") if spec is None else spec
    if spec:
        email, password = parse_admin_spec(spec)
        if User.objects.filter(username=email).exists():
            return AdminAccount(email, None, created=False)
        User.objects.create_superuser(username=email, email=email, password=password)
        return AdminAccount(email, None, created=True)
    existing = User.objects.filter(is_superuser=True).order_by("id").first()
    if existing:
        return AdminAccount(existing.email or existing.get_username(), None, created=False)
    password = secrets.token_urlsafe(12)
    User.objects.create_superuser(
        username=DEFAULT_ADMIN_EMAIL, email=DEFAULT_ADMIN_EMAIL, password=password
    )
    return AdminAccount(DEFAULT_ADMIN_EMAIL, password, created=True)


ADMIN_PASSWORD_FILE = "admin_password"


def save_password(directory: Path, account: AdminAccount) -> Path:
    """Write a generated login to a file only the service user can read; its path.

    A service's output goes to a journal or a log collector that others read, so a generated
    password is printed only to a terminal (`serve` decides); otherwise it is kept here.
    """
    path = directory / ADMIN_PASSWORD_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        os.fchmod(f.fileno(), 0o600)  # an older file of another mode
        f.write(
            f"login: {account.email}\npassword: {account.password}\n"
            "(change the password after logging in, then delete this file)\n"
        )
    return path


def ensure_demo_project() -> str | None:
    """The demo project's DSN; the project is created on first run (when there is none at all)."""
    from bugsink_ingest.models import Project, ProjectKey

    with transaction.atomic():
        if not Project.objects.exists():
            project = Project.objects.create(name="Demo", slug=DEMO_PROJECT_SLUG)
            ProjectKey.objects.create(project=project, label="demo")
        give_demo_a_team()
    key = (
        ProjectKey.objects.filter(project__slug=DEMO_PROJECT_SLUG, is_active=True)
        .select_related("project")
        .first()
    )
    return dsn_for(key) if key else None


def give_demo_a_team() -> None:
    """The Demo project belongs to a team its admins are in (admins there), so that the members
    they add see it; a project without a team is for superusers only."""
    from bugsink_ingest.models import Project
    from bugsink_issues.models import ProjectTeam, Team, TeamMembership

    demo = Project.objects.filter(slug=DEMO_PROJECT_SLUG, team_link__isnull=True).first()
    if demo is None:
        return
    team, _ = Team.objects.get_or_create(name="Demo team")
    for admin in get_user_model().objects.filter(is_superuser=True):
        TeamMembership.objects.get_or_create(team=team, user=admin, defaults={"role": "admin"})
    ProjectTeam.objects.assign(demo, team)


def dsn_for(key) -> str:
    try:
        from bugsink_ingest.dsn import dsn_for_key
    except ImportError:  # the ingest app's helper is the reference; this is the same shape
        base = urlsplit(settings.BUGSINK_INGEST_BASE_URL)
        return f"{base.scheme}://{key.public_key}@{base.netloc}{base.path.rstrip('/')}/{key.project_id}"
    return dsn_for_key(key)
