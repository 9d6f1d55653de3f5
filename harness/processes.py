"""Real processes: free ports, a process group started and stopped cleanly, waiting for a port or a
condition."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=30.0, what="condition", interval=0.05):
    """The predicate's first true value, polled every `interval` s; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {timeout}s")


def start(args, *, env=None, cwd=ROOT, log_path: Path | None = None) -> subprocess.Popen:
    """Start a process in its own process group, its output to log_path (or inherited)."""
    out = open(log_path, "ab") if log_path else None
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
        start_new_session=True,
    )
    proc._log_file = out  # type: ignore[attr-defined]
    return proc


def stop(proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 15.0) -> int:
    """Signal the whole process group, wait, and kill it if it does not exit in time."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    log_file = getattr(proc, "_log_file", None)
    if log_file:
        log_file.close()
    return proc.returncode
