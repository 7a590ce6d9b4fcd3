"""Opening the MLflow store: which one, quickly failing when it cannot be reached, patient
when sqlite is busy, and one-line errors instead of tracebacks.

Every command that reads or writes runs (the study, Tune, the report commands) opens its store
with :func:`open_client`, so ``MLFLOW_TRACKING_URI`` is honoured everywhere. The study's and
Tune's drivers check it first with :func:`check_store` and leave the opening to their tracker
(:func:`pipelines.tracking.start_tracker`).
"""

from __future__ import annotations

import functools
import os
import socket
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

# MLflow's HTTP client retries 7 times with a 2 s backoff factor and a 120 s timeout: about four
# minutes before an unreachable server is reported. A user's own settings win.
for _name, _value in (("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"), ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1"),
                      ("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")):
    os.environ.setdefault(_name, _value)

CONNECT_TIMEOUT_S = 5.0
LOCK_RETRIES = 8  # sqlite "database is locked": retry with backoff 0.5, 1, 2, ... s (about 2 min)


class TrackingError(RuntimeError):
    """The MLflow store cannot be used; the message is one line naming its URI."""


def tracking_uri(output_dir: str | Path) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the output folder's own sqlite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path(output_dir).resolve()}/mlflow.db"


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def sqlite_path(uri: str) -> Path:
    """The database file of a ``sqlite:///`` URI (``file:`` URIs and query strings too)."""
    path = uri[len("sqlite:///"):].split("?", 1)[0]
    return Path(path[len("file:"):] if path.startswith("file:") else path)


def check_reachable(uri: str, write: bool = True, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """For an http(s) store, a TCP connection within ``timeout`` s; a sqlite store's folder must
    exist and, for ``write``, take a write (sqlite also writes a journal beside the file)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("http", "https"):
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            socket.create_connection((parsed.hostname or "localhost", port), timeout=timeout).close()
        except OSError as err:
            raise TrackingError(f"MLflow tracking server {uri} is unreachable: {_first_line(err)}") from None
    elif parsed.scheme == "sqlite":
        db = sqlite_path(uri)
        if not db.parent.is_dir():
            raise TrackingError(f"MLflow store {uri}: folder {db.parent} does not exist")
        if not write:
            return
        for path in (db, db.parent):
            if path.exists() and not os.access(path, os.W_OK):
                raise TrackingError(f"MLflow store {uri} is read-only ({path} is not writable)")
        if db.is_file():
            _retrying(_try_write, uri)(uri, db)


def _try_write(uri: str, db: Path) -> None:
    """Write to the store and roll it back (``user_version`` to its own value), as a run would."""
    import sqlite3

    query = uri.split("?", 1)[1] if "?" in uri else ""
    try:
        con = sqlite3.connect(f"file:{db}" + (f"?{query}" if query else ""), uri=True, timeout=5)
        try:
            con.execute("BEGIN IMMEDIATE")
            version = con.execute("PRAGMA user_version").fetchone()[0]
            con.execute(f"PRAGMA user_version = {int(version)}")
            con.execute("ROLLBACK")
        finally:
            con.close()
    except sqlite3.OperationalError as err:  # locked or read-only: retried or worded by _retrying
        raise RuntimeError(str(err)) from None
    except sqlite3.DatabaseError as err:  # e.g. "file is not a database"
        raise TrackingError(f"MLflow store {uri}: {db}: {_first_line(err)}") from None


def _retrying(fn: Callable, uri: str) -> Callable:
    """``fn`` retried while sqlite reports a lock; other store errors become TrackingError."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        delay = 0.5
        for attempt in range(LOCK_RETRIES + 1):
            try:
                return fn(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 (MlflowException, sqlalchemy, requests)
                text = str(err)
                if "database is locked" in text and attempt < LOCK_RETRIES:
                    time.sleep(delay)
                    delay = min(delay * 2, 30.0)
                    continue
                if "database is locked" in text:
                    raise TrackingError(f"MLflow store {uri}: database is locked after {LOCK_RETRIES} retries "
                                        "(another process holds it)") from None
                if "readonly database" in text or "read-only" in text:
                    raise TrackingError(f"MLflow store {uri} is read-only (attempt to write a readonly database)") from None
                if type(err).__name__ in ("MlflowException", "ConnectionError", "RestException"):
                    raise TrackingError(f"MLflow store {uri}: {_first_line(err)}") from None
                raise
        raise AssertionError("unreachable")

    return call


class _Client:
    """An MlflowClient whose every call goes through :func:`_retrying`."""

    def __init__(self, client: Any, uri: str) -> None:
        self._client, self._uri = client, uri

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._client, name)
        return _retrying(value, self._uri) if callable(value) else value


def open_client(uri: str, write: bool = True) -> Any:
    """An MlflowClient on ``uri``, checked: an unreachable server or (for ``write``) a read-only
    store is a :class:`TrackingError` within seconds; a locked sqlite store is retried with backoff."""
    from mlflow.tracking import MlflowClient

    check_reachable(uri, write)
    client = _Client(MlflowClient(uri), uri)
    client.search_experiments(max_results=1)  # a server that accepts connections but fails
    return client


def check_store(output_dir: str | Path) -> None:
    """Check an output folder's store as :func:`open_client` checks it before MLflow is imported
    (a server that takes connections, a sqlite file that takes a write), without importing
    MLflow (2 s): for a driver whose store the study's tracker opens."""
    check_reachable(tracking_uri(output_dir))


def open_store(output_dir: str | Path, write: bool = True) -> Any:
    """The client of an output folder's store (``MLFLOW_TRACKING_URI`` if set)."""
    return open_client(tracking_uri(output_dir), write)
