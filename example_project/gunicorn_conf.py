"""Gunicorn's configuration for the reference deployment (`manage.py serve` passes it with -c).

Every value can be overridden from the environment (the names below) or Gunicorn's own
GUNICORN_CMD_ARGS.
"""

import os
import sys

# The worker class below lives in bugsink_site, beside this file: importable however Gunicorn was
# started (serve runs it from here, a benchmark or a unit file may not).
_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours taskset/cgroup cpusets, unlike cpu_count
    except AttributeError:
        return os.cpu_count() or 1


wsgi_app = "bugsink_site.wsgi:application"
bind = [os.environ.get("BUGSINK_BIND", "127.0.0.1:8000")]

# One process per CPU, a few threads each: gthread, whose main thread watches every connection
# with a poller and hands requests to a pool of threads (no monkeypatching, which gevent would
# need and which fights SQLite and Django's thread-local connections). The buffering variant
# reads each request whole in that main thread before a pool thread sees it, so slow or stalled
# clients (headers or bodies trickled in) hold no thread: see bugsink_site.gunicorn_worker.
worker_class = "bugsink_site.gunicorn_worker.BufferingThreadWorker"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(max(_usable_cpus(), 1), 8))
threads = int(os.environ.get("BUGSINK_WEB_THREADS", "4"))

# Load the app once in the master and fork: workers start fast and share its memory pages.
preload_app = True
# A worker silent for this long is killed and replaced (a request never legitimately takes 30 s).
timeout = 30
# On SIGTERM, in-flight requests get this long to finish.
graceful_timeout = 20
# SDKs reuse connections; a few seconds covers a burst without pinning threads to idle clients.
keepalive = 5
# Recycle workers now and then, so that a slow leak anywhere can never grow without bound.
max_requests = 20000
max_requests_jitter = 2000
# Request-line and header limits as Gunicorn's defaults; bodies are limited by the ingest app.
limit_request_line = 8190
# Heartbeat files in RAM: a slow or full disk must not make healthy workers look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Behind a reverse proxy on another host, set FORWARDED_ALLOW_IPS to its address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Gunicorn >= 25.1's control socket (`gunicornc`): in the data dir, so that two deployments on one
# machine never share one (the default is a single path per user).
_data_dir = os.environ.get("BUGSINK_DATA_DIR", "")
control_socket = os.path.join(_data_dir, "gunicorn.ctl")
control_socket_disable = not _data_dir or len(control_socket) > 100  # AF_UNIX path limit

proc_name = "bugsink-web"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = "-" if os.environ.get("ACCESS_LOG", "").lower() in ("1", "true", "yes", "on") else None


def pre_fork(server, worker):
    """In the master, before each fork: no database connection may be inherited by a worker.

    With preload_app the master has imported Django; should anything there have opened a
    connection, a SQLite handle shared across fork() can corrupt the database.
    """
    import gc

    from django.db import connections

    connections.close_all()
    # What the preloaded app left alive (Django, the apps, the API's schemas: a few hundred
    # thousand objects) is frozen out of the collector's sight before the fork, so that a worker's
    # full collection walks only what its requests made: a full walk of the whole image was a
    # 50-90 ms pause in one request of about ten on the API's issue list.
    gc.freeze()
