"""One Django for the whole deployment: the supervisor loads the site once, then forks Gunicorn and
the foreman from it instead of starting two fresh interpreters.

A fresh `manage.py runworker` imported its own Django, the ORM, every app's models and allauth's
(`django.setup()` alone is some 46 MiB), private to it. Forked from this image, the foreman shares
those pages with the supervisor and the web processes and copies only what it writes to. Gunicorn
is forked too: its master finds the preloaded app already imported, and its workers share the same
pages again.

What a forked child must not inherit, and why it does not:
- database connections: none is open here (close_all() before every fork besides); a SQLite
  handle used on both sides of a fork corrupts the database;
- threads: fork() copies only the calling thread; the image starts none before its first forks
  (the supervisor's port-watching thread comes after them and exits once the port answers);
- sockets: Gunicorn's listeners are made in its master, after the fork; the foreman's wake-up
  (inotify) is made by the foreman itself;
- signal handlers: the supervisor's are reset to the defaults, then the command installs its own.

Each restart is a fresh fork of the clean image: nothing a dead child did survives in the next.
The child runs the same command it would have exec()ed (`python -m gunicorn ...`, `manage.py
runworker ...`), with its arguments as its command line (ps, and tools that tell the processes
apart by their arguments, see the same as before).
"""

import gc
import os
import runpy
import signal
import subprocess
import sys
import time
import traceback

from bugsink_site import supervisor
from bugsink_site.supervisor import Child, die_with_parent

# Modules the children import at their start or first task, imported here once instead of in each.
PRELOAD = (
    "bugsink_site.wsgi",  # the app and its URLconf, as Gunicorn's preload_app would
    "gunicorn.app.wsgiapp",
    "gunicorn.arbiter",
    "bugsink_site.gunicorn_worker",
    "bugsink_site.gc_tuning",
    "bugsink_site.worker_urls",
    "bugsink_site.management.commands.runworker",
    "snappea.management.commands.runsnappea",
    "snappea.foreman",
    "bugsink_ingest.tasks",
    "bugsink_issues.alerts.tasks",
    "bugsink_issues.lifecycle.tasks",
    "bugsink_issues.monitors.tasks",
)


def load_image() -> None:
    """Load the site in this process, to be forked from: Django set up, the modules above
    imported, no connection open, and the result frozen out of the collector's sight (a child's
    collections then walk only what the child made, and never write to the shared objects)."""
    import importlib

    import django
    from django.apps import apps
    from django.db import connections
    from django.urls import get_resolver

    django.setup()
    for module in PRELOAD:
        importlib.import_module(module)
    # Caches each process would otherwise fill at its first request or task, each its own copy:
    # the models' field maps and the URLconfs' reverse lookups (the site's, the worker's).
    for model in apps.get_models(include_auto_created=True):
        model._meta.get_fields()
    for urlconf in (None, "bugsink_site.worker_urls"):
        get_resolver(urlconf).reverse_dict  # noqa: B018  (filled on first access)
    connections.close_all()
    gc.collect()
    gc.freeze()


class ForkedProcess:
    """A forked child, answering as subprocess.Popen does for what the supervisor asks."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: it is gone, how is unknown
                self.returncode = 255
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)


class ForkedChild(Child):
    """A child forked from this process's image that runs `args` as if they had been exec()ed."""

    def spawn(self, parent_pid: int) -> ForkedProcess:
        from django.db import connections

        connections.close_all()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return ForkedProcess(pid)
        code = 1
        try:
            os.setsid()
            die_with_parent(parent_pid)()
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            set_command_line(self.args)
            run_as_executed(self.args)
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc.code)
        except BaseException:
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)


def run_as_executed(args: list[str]) -> None:
    """Run `args` (`python -m gunicorn ...` or `python manage.py ...`) in this process."""
    if args[1:3] == ["-m", "gunicorn"]:
        import gunicorn
        from gunicorn.app.wsgiapp import run

        # As `python -m` sets it: Gunicorn's re-exec (USR2) runs sys.argv again.
        sys.argv = [os.path.join(os.path.dirname(gunicorn.__file__), "__main__.py"), *args[3:]]
        run(prog="gunicorn")
    elif os.path.basename(args[1]) == "manage.py":
        sys.argv = args[1:]
        runpy.run_path(args[1], run_name="__main__")
    else:
        raise ValueError(f"cannot run {args!r} in a forked child")


def set_command_line(args: list[str]) -> None:
    """Make /proc/self/cmdline read `args` (a forked child has its parent's): the bytes between
    arg_start and arg_end, written through /proc/self/mem as setproctitle does. The image's own
    command line (its JSON spec) leaves room; what does not fit is cut."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # fields 48 and 49 of proc(5)
        room = end - start
        title = "\0".join(args).encode()[: room - 1]
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            mem.write(title + b"\0" * (room - len(title)))
    except (OSError, IndexError, ValueError):
        pass  # only what ps shows: the child works all the same


def _exit_code(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    load_image()
    return supervisor.main(argv, forked=ForkedChild)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
