"""Checks that the tracking store and the Ray cluster a plan names are there, with bounded waits.

Each check raises :class:`salesboost.errors.ConfigError` naming ``tracking.uri`` or
``ray.address``, so an unreachable service ends in one line before any run is created,
instead of a retry loop or a page of library text later.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import sqlite3
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from experiments.paths import DEFAULT_TRACKING_DB
from salesboost.errors import ConfigError

#: Longest wait for a tracking server or database to answer.
TRACKING_TIMEOUT_S = 10.0
#: Longest wait for a Ray cluster's head to accept a connection (the issue allows about 30 s).
RAY_TIMEOUT_S = 20.0
#: How long a refused connection to a Ray head is retried (a head node that is still starting).
RAY_RETRY_REFUSED_S = 2.0
#: Database backends MLflow supports, with the default port and the driver SQLAlchemy needs.
DATABASES = {
    "postgresql": (5432, ("psycopg2", "psycopg", "pg8000")),
    "mysql": (3306, ("pymysql", "MySQLdb", "mysql.connector")),
    "mssql": (1433, ("pymssql", "pyodbc")),
}
ALLOWED_URIS = (
    "sqlite:////absolute/path/mlflow.db, http(s)://host:port (an MLflow server) "
    "or postgresql://, mysql://, mssql:// (a database)"
)
SQLITE_MAGIC = b"SQLite format 3\x00"
#: Tables every MLflow SQLite store has; a database with other tables and not these is someone else's.
MLFLOW_TABLES = frozenset({"alembic_version", "experiments", "runs"})


def check_tracking_uri(uri: str | None) -> None:
    """Check that ``uri`` (None: the repository's ``mlflow.db``) names a store MLflow can use here."""
    if uri is None:
        _check_sqlite_file(DEFAULT_TRACKING_DB, "tracking.uri (default mlflow.db)")
        return
    if not uri.strip():
        raise ConfigError("tracking.uri", f"must not be empty; use null for ./mlflow.db or {ALLOWED_URIS}")
    parsed = urllib.parse.urlsplit(uri)
    scheme = parsed.scheme.split("+")[0].lower()  # postgresql+psycopg2:// names a driver
    if scheme == "sqlite":
        _check_sqlite_uri(uri)
    elif scheme in ("http", "https"):
        _check_server(uri, parsed)
    elif scheme in DATABASES:
        _check_database(uri, parsed, scheme)
    else:
        got = f"scheme {parsed.scheme!r}" if parsed.scheme else "no scheme"
        raise ConfigError("tracking.uri", f"{uri!r} has an unsupported store ({got}); use {ALLOWED_URIS}")


def _check_sqlite_uri(uri: str) -> None:
    # sqlite:///name.db is relative to the current directory; an absolute path has four slashes.
    path = uri.split("?", maxsplit=1)[0].removeprefix("sqlite:///")
    if not uri.startswith("sqlite:////") or path.rstrip("/") in ("", ":memory:"):
        raise ConfigError(
            "tracking.uri",
            f"a SQLite store needs an absolute file path, sqlite:////absolute/path/mlflow.db (got {uri!r})",
        )
    _check_sqlite_file(Path(path), "tracking.uri")


def _check_sqlite_file(db: Path, key: str) -> None:
    if db.is_dir():
        raise ConfigError(key, f"{db} is a directory; name a database file in it, e.g. {db / 'mlflow.db'}")
    if db.exists():
        try:
            with db.open("rb") as handle:
                head = handle.read(len(SQLITE_MAGIC))
        except OSError as error:
            raise ConfigError(key, f"cannot read {db}: {error.strerror}") from None
        if head and head != SQLITE_MAGIC:
            raise ConfigError(key, f"{db} is not a SQLite database; name a new file or an MLflow store") from None
        if head:
            _check_mlflow_tables(db, key)
    writable_dir(db.parent, key, "the database's directory")


def _check_mlflow_tables(db: Path, key: str) -> None:
    """Refuse a SQLite file that is damaged or holds tables that are not an MLflow store's.

    The file is opened read-only, so the check leaves it byte for byte as it was.
    """
    uri = f"file:{urllib.parse.quote(str(db))}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=TRACKING_TIMEOUT_S)) as connection:
            check = connection.execute("PRAGMA quick_check").fetchone()
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as error:
        raise ConfigError(
            key, f"cannot read {db} as a SQLite database ({error}); name a new file or an MLflow store"
        ) from None
    verdict = check[0] if check else "no answer"
    if verdict != "ok":
        raise ConfigError(key, f"{db} is a damaged SQLite database (quick_check: {verdict}); name another file")
    if tables and not tables.issuperset(MLFLOW_TABLES):
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise ConfigError(
            key,
            f"{db} is a SQLite database but not an MLflow store (its tables: {shown}); "
            "name a new file, an empty database or an existing MLflow store",
        )


def writable_dir(path: Path, key: str, what: str = "") -> None:
    """Check that ``path`` is, or can be created as, a directory this process can write in.

    Nothing is created: the nearest existing ancestor is probed with a temporary file.
    """
    label = f"{what} {path}" if what else str(path)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(key, f"{label} cannot be created: {existing} is a file, not a directory")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        where = "" if existing == path else f" (in {existing})"
        raise ConfigError(key, f"cannot write in {label}{where}: {reason}; choose a writable directory") from None


def _check_server(uri: str, parsed: urllib.parse.SplitResult) -> None:
    if not parsed.hostname:
        raise ConfigError("tracking.uri", f"no host in {uri!r}; expected http(s)://host:port")
    health = uri.rstrip("/") + "/health"
    request = urllib.request.Request(health, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=TRACKING_TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ConfigError(
            "tracking.uri",
            f"no MLflow server answers at {uri} ({_reason(reason)}, waited up to {TRACKING_TIMEOUT_S:.0f} s); "
            "start it or point tracking.uri at a running one",
        ) from None
    if status in (401, 403):  # the server is there; MLflow reports credentials itself
        return
    if status != 200:
        raise ConfigError("tracking.uri", f"{uri} answers but is not an MLflow server (GET /health gave HTTP {status})")


def _check_database(uri: str, parsed: urllib.parse.SplitResult, scheme: str) -> None:
    default_port, drivers = DATABASES[scheme]
    if not any(importlib.util.find_spec(name.split(".")[0]) for name in drivers):
        raise ConfigError(
            "tracking.uri", f"a {scheme} store needs one of the Python packages {', '.join(drivers)}; none is installed"
        )
    if not parsed.hostname:
        raise ConfigError("tracking.uri", f"no host in {uri!r}; expected {scheme}://user:password@host:port/database")
    try:
        port = parsed.port or default_port
    except ValueError:
        raise ConfigError("tracking.uri", f"invalid port in {uri!r}") from None
    error = _connect(parsed.hostname, port, TRACKING_TIMEOUT_S)
    if error:
        raise ConfigError(
            "tracking.uri", f"no {scheme} database answers at {parsed.hostname}:{port} ({error}); check the address"
        )


def check_ray_address(address: str | None) -> None:
    """Check that the Ray cluster at ``address`` (None: a private local Ray) accepts connections."""
    if address is None or address == "local":
        return
    target = address
    if address == "auto":
        target = _auto_address()
    host, port = _host_port(target, address)
    error = _connect(host, port, RAY_TIMEOUT_S, retry_refused=RAY_RETRY_REFUSED_S)
    if error:
        where = f"auto found {target}" if address == "auto" else target
        raise ConfigError(
            "ray.address",
            f"no Ray cluster answers at {where} ({error}); start it (`ray start --head`) "
            "or leave ray.address unset for a private local Ray",
        )


def _auto_address() -> str:
    """The cluster ``ray.init(address="auto")`` would join: ``RAY_ADDRESS`` or this machine's latest."""
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    from ray._private.services import get_ray_address_from_environment  # noqa: PLC0415 - Ray's own lookup

    try:
        found = get_ray_address_from_environment("auto", None)
    except ConnectionError:
        found = None
    if not found or found == "auto":
        raise ConfigError(
            "ray.address",
            "auto: no Ray cluster is running on this machine; start one (`ray start --head`), "
            "give host:port, or leave ray.address unset for a private local Ray",
        )
    return found


def _host_port(target: str, address: str) -> tuple[str, int]:
    rest = target.removeprefix("ray://")
    host, sep, port_text = rest.rpartition(":")
    host = host.strip("[]")
    shown = address if address == target else f"{address} ({target})"
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(
            "ray.address",
            f"expected auto, host:port or ray://host:port with a port in 1..65535 (got {shown!r})",
        )
    return host, int(port_text)


def _connect(host: str, port: int, timeout: float, *, retry_refused: float = 0.0) -> str | None:
    """None if ``host:port`` accepts a TCP connection within ``timeout`` seconds, else why not.

    A refused connection is retried for ``retry_refused`` seconds; an unknown host is not.
    """
    deadline = time.monotonic() + timeout
    refused_until = time.monotonic() + min(retry_refused, timeout)
    while True:
        left = deadline - time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=max(0.1, left)):
                return None
        except socket.gaierror:
            return f"unknown host {host!r}"
        except ConnectionRefusedError:
            if time.monotonic() >= refused_until:
                return "connection refused"
            time.sleep(0.5)
        except TimeoutError:
            return f"no answer within {timeout:.0f} s"
        except OSError as error:
            return error.strerror or type(error).__name__


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "no answer"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    return str(getattr(reason, "strerror", None) or reason)
