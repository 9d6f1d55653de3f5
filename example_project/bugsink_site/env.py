"""Reading the deployment's configuration from environment variables, with laptop defaults.

Plain functions, no Django imports: settings.py and the serve command both use them.
"""

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{name}={raw!r}: expected one of {sorted(TRUE_WORDS | FALSE_WORDS)}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a whole number") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """A comma-separated list of networks or addresses (10.0.0.0/8,192.168.1.5), each checked."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(
                f"{name}: {item!r} is not a network or an address (e.g. 10.0.0.0/8,192.168.1.5)"
            ) from None
    return networks


# Everything the deployment writes (the databases and their -wal/-shm, the spool, secret_key,
# serve.json, self_dsn, admin_password, locks) holds events or secrets: owner only.
PRIVATE_UMASK = 0o077


def make_files_private() -> None:
    """Files and directories this process and its children create: 0600 and 0700, whatever the
    umask it was started with (settings.py calls it before the first file is created)."""
    os.umask(PRIVATE_UMASK)


def data_dir() -> Path:
    """BUGSINK_DATA_DIR (default ./data), absolute, created (0700) if missing."""
    path = Path(os.environ.get("BUGSINK_DATA_DIR") or "data").expanduser().resolve()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def secret_key(directory: Path) -> str:
    """SECRET_KEY from the environment, else one generated on first run and kept in the data dir.

    Several processes may start at once (serve, Gunicorn, the foreman): O_EXCL makes exactly one
    of them write the file; the others read what it wrote.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = directory / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(100):
            key = path.read_text().strip()
            if key:
                return key
            import time

            time.sleep(0.01)  # the writer has created the file but not yet written it
        raise RuntimeError(f"{path} is empty; delete it to have a new key generated")
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def database_from_url(url: str) -> dict:
    """A Django DATABASES entry from a postgres:// (or postgresql://) or sqlite:/// URL.

    Parsed here rather than with dj-database-url: two schemes are all this project supports, and the
    query string maps straight onto the driver's options (sslmode, connect_timeout, ...).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    options = dict(parse_qsl(parts.query))
    if scheme in ("postgres", "postgresql", "pgsql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
        }
    if scheme == "sqlite":
        # sqlite:////abs/path.sqlite3 (four slashes) or sqlite:///relative/to/cwd.sqlite3
        path = unquote(url.split("://", 1)[1].split("?", 1)[0])
        path = path[1:] if path.startswith("/") else path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(path).resolve())}
    raise ValueError(
        f"DATABASE_URL scheme {parts.scheme!r} is not supported: use postgres://user:password@host"
        ":port/dbname (or leave DATABASE_URL unset for SQLite in BUGSINK_DATA_DIR)"
    )


# WAL lets the UI read while the digest writes; synchronous=NORMAL is durable against process
# crashes (and loses at most the last transactions on power loss, never corrupts) at a fraction of
# FULL's fsyncs. Django >= 5.1 runs init_command on every new connection.
# 8 KiB pages, set before WAL makes a new file (an existing file keeps its size): an event's row
# (a ~5 KB payload compressed, with its columns: a little over 2 KB) fits once in a 4 KiB page and
# three times in 8 KiB, 4,271 -> 2,898 bytes on disk per event of the 4 KB mix. The benchmarks'
# harness.settings.SQLITE_WAL says the same.
SQLITE_INIT = (
    "PRAGMA page_size=8192;PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
    "PRAGMA temp_store=MEMORY"
)


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "init_command": SQLITE_INIT,
            # Writers take the lock at BEGIN: no deadlock-then-"database is locked" on upgrade
            # from a read to a write inside a transaction.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,  # seconds a writer waits for the lock (busy timeout)
        },
    }


def base_url_host(base_url: str) -> str:
    return urlsplit(base_url).hostname or "127.0.0.1"


def origin_of(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"
