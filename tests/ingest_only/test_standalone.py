"""The ingest app stands alone: its own test run, in a subprocess, under the ingest-only settings."""

import os
import subprocess
import sys

from harness.processes import ROOT


def test_ingest_only_project():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.ingest_only.settings"}
    env.pop("BUGSINK_TEST_POSTGRES", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/ingest_only/standalone_checks.py",
            "--ds=tests.ingest_only.settings",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
