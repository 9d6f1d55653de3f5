"""Running a JavaScript build whose Sentry bundler plugin uploads to the tracker under test."""

import os
import subprocess

from harness.processes import ROOT

JS = ROOT / "tests" / "js"


def run_plugin_build(command, cwd, site, token, release):
    """Run `command` in `cwd` with the tracker's URL, a token and the release in its environment;
    the build must say "built" and its plugin must report no error (a failed upload never fails
    a build by itself)."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(cwd),
            "NODE_PATH": str(JS / "node_modules"),
            "TRACKER_URL": site.base_url,
            "TRACKER_TOKEN": token,
            "RELEASE": release,
            # No telemetry, no update check: the build talks to the tracker only.
            "SENTRY_CLI_NO_TELEMETRY": "1",
            "SENTRY_CLI_NO_UPDATE_CHECK": "1",
            "DO_NOT_TRACK": "1",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "built" in result.stdout, output
    assert "error" not in output.lower(), output
    return result


def bundle_for_the_browser(out, entry, page):
    """`entry` (JavaScript importing the npm packages of tests/js) bundled by esbuild into
    out/bundle.js, beside `page` as out/index.html; returns `out`."""
    (out / "entry.js").write_text(entry)
    subprocess.run(
        [
            str(JS / "node_modules" / ".bin" / "esbuild"),
            str(out / "entry.js"),
            "--bundle",
            "--format=iife",
            f"--outfile={out / 'bundle.js'}",
            "--log-level=warning",
        ],
        cwd=JS,
        check=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NODE_PATH": str(JS / "node_modules")},
    )
    (out / "index.html").write_text(page)
    return out
