"""Runs Gunicorn and the background worker side by side, and never leaves half of them running.

- Each child gets its own session, so a Ctrl-C in the terminal reaches only the supervisor, which
  then sends each child exactly one SIGTERM (two would make the foreman skip its grace period).
- A child that dies is started again after a short backoff (doubling); one that dies more than
  max_restarts times within a minute stops everything, and the supervisor exits non-zero (systemd or Docker restart it then).
- If the supervisor itself is killed, the kernel sends the children SIGTERM (PR_SET_PDEATHSIG).

`manage.py serve` prepares everything with Django loaded, then exec()s `python -m
bugsink_site.supervisor SPEC` in the same process: the supervisor imports no Django, so it idles in a
few MB instead of keeping a whole Django in memory for the life of the deployment. For the same
reason it imports little of the standard library (no logging, dataclasses or pathlib: together some
3 MiB of a process that only waits).

With the foreman as the worker, serve asks for the opposite: it exec()s `python -m
bugsink_site.shared_image SPEC`, which loads the site once and runs this supervisor with the
children marked "fork" forked from it, so that they share one Django instead of importing one each.
"""

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
try:
    _libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
except OSError:
    _libc = None


def die_with_parent(parent_pid: int):
    """What a child runs first: SIGTERM when this process dies, or exit if it has already."""

    def preexec():
        if _libc is not None:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class Child:
    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name = name
        self.args = args
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.exits: list[float] = []  # monotonic times of unexpected exits
        self.restart_at: float | None = None

    def __repr__(self) -> str:
        return f"Child({self.name!r}, pid={self.pid})"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def spawn(self, parent_pid: int):
        """A new process for this child, in a session of its own; a subprocess.Popen or an
        object that answers as one does (pid, poll, wait, send_signal, returncode)."""
        return subprocess.Popen(
            self.args,
            env=self.env,
            start_new_session=True,
            preexec_fn=die_with_parent(parent_pid),
        )


class Supervisor:
    def __init__(
        self,
        children: list[Child],
        *,
        stop_timeout: float = 40.0,
        max_restarts: int = 5,
        restart_window: float = 60.0,
        first_backoff: float = 0.5,
        state_file: str | None = None,
        out=None,
    ):
        self.children = children
        self.stop_timeout = stop_timeout
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self.first_backoff = first_backoff
        self.state_file = state_file
        self.out = out or sys.stdout
        self._signals: list[int] = []
        self._wake = threading.Event()

    def say(self, message: str):
        print(f"[serve] {message}", file=self.out, flush=True)

    # Signals only record what happened; the loop acts on them.
    def _on_signal(self, signum, frame):
        self._signals.append(signum)
        self._wake.set()

    def install_signal_handlers(self):
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def start_child(self, child: Child):
        child.proc = child.spawn(os.getpid())
        child.restart_at = None
        self.say(f"{child.name} started (pid {child.proc.pid})")
        self._write_state()

    def run(self, on_started=None) -> int:
        """Start every child and supervise them until a signal or a failure; the exit code."""
        for child in self.children:
            self.start_child(child)
        if on_started:
            on_started(self)
        try:
            return self._loop()
        finally:
            self._write_state(stopped=True)

    def _loop(self) -> int:
        while True:
            if self._signals:
                self.say(f"{signal.Signals(self._signals[0]).name} received, stopping")
                self.stop_all()
                return 0
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        self.start_child(child)
                    continue
                code = child.proc.poll()
                if code is None:
                    continue
                child.exits = [t for t in child.exits if now - t < self.restart_window] + [now]
                if len(child.exits) > self.max_restarts:
                    self.say(
                        f"{child.name} exited with {code} {len(child.exits)} times within "
                        f"{self.restart_window:.0f}s; stopping everything"
                    )
                    self.stop_all()
                    return 1
                backoff = min(self.first_backoff * 2 ** (len(child.exits) - 1), 10.0)
                self.say(f"{child.name} exited with {code}; restarting in {backoff:.1f}s")
                child.restart_at = now + backoff
                self._write_state()
            self._wake.wait(0.2)
            self._wake.clear()

    def stop_all(self):
        """One SIGTERM to each running child, then SIGKILL whatever outlives stop_timeout.

        A further signal to the supervisor while it waits kills the children at once.
        """
        signals_seen = len(self._signals)
        running = [c for c in self.children if c.proc and c.proc.poll() is None]
        for child in running:
            self._signal(child, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while any(c.proc.poll() is None for c in running):
            if time.monotonic() > deadline or len(self._signals) > max(signals_seen, 1):
                for child in running:
                    if child.proc.poll() is None:
                        self.say(f"{child.name} did not stop in time; killing it")
                        self._signal(child, signal.SIGKILL)
                for child in running:
                    child.proc.wait(5)
                break
            self._wake.wait(0.1)
            self._wake.clear()
        for child in running:
            self.say(f"{child.name} stopped ({child.proc.returncode})")

    @staticmethod
    def _signal(child: Child, sig):
        try:
            if sig == signal.SIGKILL:
                # The child's whole group: Gunicorn's workers die with their master.
                os.killpg(child.proc.pid, sig)
            else:
                child.proc.send_signal(sig)  # the child passes it on in its own way
        except ProcessLookupError:
            pass

    def _write_state(self, stopped: bool = False):
        """The pids, for operators and tests (e.g. to kill -9 the worker on purpose)."""
        if not self.state_file:
            return
        state = {
            "supervisor": None if stopped else os.getpid(),
            **{c.name: (None if stopped else c.pid) for c in self.children},
        }
        tmp = f"{self.state_file}.tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps(state))
        os.replace(tmp, self.state_file)


def announce_when_listening(supervisor: Supervisor, host: str, port: int, url: str, timeout=60.0):
    """Say when the web server answers (the supervisor reports it if it dies instead)."""
    target = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not supervisor._signals:
        try:
            with socket.create_connection((target, port), timeout=0.5):
                supervisor.say(f"listening on {url}")
                return
        except OSError:
            time.sleep(0.05)


def main(argv: list[str], forked: type[Child] = Child) -> int:
    """Supervise SPEC's children: those marked "fork" as `forked` (bugsink_site.shared_image's
    entry passes its own), the others as processes started afresh."""
    spec = json.loads(argv[0])
    children = [
        (forked if c.get("fork") else Child)(c["name"], c["args"], dict(os.environ))
        for c in spec["children"]
    ]
    supervisor = Supervisor(
        children,
        stop_timeout=spec["stop_timeout"],
        max_restarts=spec["max_restarts"],
        first_backoff=spec["first_backoff"],
        state_file=spec["state_file"],
    )
    supervisor.install_signal_handlers()
    announce = spec.get("announce")

    def on_started(sup):
        if announce:
            threading.Thread(
                target=announce_when_listening,
                args=(sup, announce["host"], announce["port"], announce["url"]),
                daemon=True,
            ).start()

    return supervisor.run(on_started=on_started)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
