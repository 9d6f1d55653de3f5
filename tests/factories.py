"""Factories for the tests: spooled events made from samples and captures, SDK-shaped payloads, and
users, teams and projects wired the way the UI's access policy reads them.

Plain functions that build (and, for models, save) real objects; fixtures in the conftest files
call them. Nothing here is a fake: the events go through the real digest.
"""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bugsink_ingest.spool import SpooledAttachment, SpooledEvent

__all__ = [
    "DATA",
    "SpooledAttachment",
    "SpooledEvent",
    "capture_payload",
    "load_sample",
    "make_project",
    "make_team",
    "make_user",
    "python_exception",
    "sample_paths",
    "spooled",
]

# Copies of the shared samples (161 real payloads) and of a few captured SDK requests (decoded).
DATA = Path(__file__).parent / "issues" / "data"


def sample_paths():
    return sorted(DATA.glob("samples/*.json"))


def load_sample(name):
    return json.loads((DATA / "samples" / name).read_bytes())


def capture_payload(prefix):
    """The last item of a captured envelope (the event JSON), as a dict."""
    (path,) = DATA.glob(f"captures/{prefix}-*.decoded.txt")
    return json.loads(path.read_bytes().strip().split(b"\n")[-1])


def spooled(project, payload, *, event_id=None, kind="event", received_at=None, attachments=()):
    """A SpooledEvent as the ingest hands it to the digest (payload: a dict or raw bytes)."""
    if not isinstance(payload, bytes):
        payload = json.dumps(payload).encode()
    return SpooledEvent(
        spool_id=uuid.uuid4().hex,
        project_id=project.pk if hasattr(project, "pk") else project,
        event_id=event_id or uuid.uuid4().hex,
        received_at=received_at or datetime.now(UTC),
        payload=payload,
        kind=kind,
        attachments=attachments,
    )


def python_exception(
    exc_type="ValueError", value="bad value", frames=(("app.views", "index"),), **extra
):
    """A small Python-SDK-shaped exception event."""
    return {
        "platform": "python",
        "level": "error",
        "exception": {
            "values": [
                {
                    "type": exc_type,
                    "value": value,
                    "mechanism": {"type": "django", "handled": False},
                    "stacktrace": {
                        "frames": [
                            {
                                "module": module,
                                "function": function,
                                "filename": module.replace(".", "/") + ".py",
                                "lineno": 10 + i,
                                "context_line": "    do_something()",
                                "in_app": True,
                            }
                            for i, (module, function) in enumerate(frames)
                        ]
                    },
                }
            ]
        },
        **extra,
    }


def make_user(username, *, superuser=False, password="pw"):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if superuser:
        return User.objects.create_superuser(username, password=password)
    return User.objects.create_user(username, password=password)


def make_team(name, *, admins=(), members=()):
    """A team with its admins and (plain) members."""
    from bugsink_issues.models import Team, TeamMembership
    from bugsink_issues.models.access import TeamRole

    team = Team.objects.create(name=name)
    for user in admins:
        TeamMembership.objects.create(team=team, user=user, role=TeamRole.ADMIN)
    for user in members:
        TeamMembership.objects.create(team=team, user=user, role=TeamRole.MEMBER)
    return team


def make_project(name, *, team=None):
    """A project, in `team` if given (a project without a team is for superusers only)."""
    from bugsink_ingest.models import Project
    from bugsink_issues.models import ProjectTeam

    project = Project.objects.create(name=name)
    if team is not None:
        ProjectTeam.objects.create(project=project, team=team)
    return project
