"""The supervisor (`manage.py serve` exec()s it) idles for the whole life of a deployment: it must
stay a small interpreter, without Django and without the standard library's heavier modules (see
bugsink_site.supervisor; `python -m benchmarks memory` has its PSS)."""

import subprocess
import sys

from harness.processes import ROOT

# Each of these would cost the supervisor 1-3 MiB (logging and dataclasses pull in traceback,
# inspect, ast, dis, ...), for nothing it does.
NOT_IMPORTED = ("django", "logging", "dataclasses", "pathlib", "inspect", "ast")


def modules_after_importing(module: str) -> set[str]:
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'example_project')!r})\n"
        f"import {module}\n"
        "print('\\n'.join(sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_the_supervisor_imports_no_django_and_little_of_the_standard_library():
    loaded = modules_after_importing("bugsink_site.supervisor")
    assert "bugsink_site.supervisor" in loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in NOT_IMPORTED)
    assert heavy == []


def test_the_check_sees_a_heavy_import():
    # The same check on a module that imports logging finds it (the check can fail).
    loaded = modules_after_importing("logging.handlers")
    assert "logging" in loaded


def run_script(script: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys\nsys.path.insert(0, {str(ROOT / 'example_project')!r})\n{script}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_forked_child_names_its_command_and_reports_its_end_as_popen_does():
    # bugsink_site.shared_image without Django: the fork, the command line, the exit status.
    out = run_script(
        "import os, signal, time\n"
        "from bugsink_site.shared_image import ForkedProcess, set_command_line\n"
        "read, write = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    set_command_line(['python', 'manage.py', 'runworker', 'runsnappea'])\n"
        "    os.write(write, b'x')\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "os.read(read, 1)\n"
        "child = ForkedProcess(pid)\n"
        "print(open(f'/proc/{pid}/cmdline').read().rstrip(chr(0)).split(chr(0)))\n"
        "print(child.poll())\n"
        "child.send_signal(signal.SIGKILL)\n"
        "print(child.wait(10), child.returncode, child.poll())\n"
        "quick = ForkedProcess(os.fork() or os._exit(3))\n"
        "print(quick.wait(10))\n"
    )
    cmdline, running, killed, exited = out.splitlines()
    assert cmdline == "['python', 'manage.py', 'runworker', 'runsnappea']"
    assert running == "None"
    assert killed == "-9 -9 -9"
    assert exited == "3"
