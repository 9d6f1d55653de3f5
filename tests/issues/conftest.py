"""Helpers for the bugsink_issues tests: spooled events made from samples and captures."""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bugsink_ingest.spool import SpooledAttachment, SpooledEvent  # noqa: F401  (re-exported)

# Copies of the shared samples (161 real payloads) and of a few captured SDK requests (decoded).
DATA = Path(__file__).parent / "data"


def sample_paths():
    return sorted(DATA.glob("samples/*.json"))


def load_sample(name):
    return json.loads((DATA / "samples" / name).read_bytes())


def capture_payload(prefix):
    """The last item of a captured envelope (the event JSON), as a dict."""
    (path,) = DATA.glob(f"captures/{prefix}-*.decoded.txt")
    return json.loads(path.read_bytes().strip().split(b"\n")[-1])


def spooled(project, payload, *, event_id=None, kind="event", received_at=None, attachments=()):
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


@pytest.fixture
def project(db):
    from bugsink_ingest.models import Project

    return Project.objects.create(name="Test project")


@pytest.fixture
def digest(django_capture_on_commit_callbacks):
    """Digest spooled events like the hand-off does, running on-commit callbacks (signals)."""
    from bugsink_issues.digest import digest_batch

    def run(events):
        with django_capture_on_commit_callbacks(execute=True):
            digest_batch(list(events))

    return run
