"""Headless Debian Chromium driven by Playwright (no browser download: executablePath)."""

import os
import shutil

import pytest

CHROMIUM = (
    os.environ.get("BUGSINK_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def launch_chromium(playwright):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            raise RuntimeError(
                f"chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium"
            )
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
