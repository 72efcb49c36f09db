"""The analytics engine: one DuckDB connection per process with the operational store attached.

All engine specifics live here. DuckDB attaches the store read-only: SQLite through
sqlite_scanner, PostgreSQL through postgres_scanner, both loaded offline from their PyPI
packages into an extension directory this project controls (never the user's home).
Store tables are visible as `store.<table>` (for example `store.leads`).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    import duckdb

STORE = "store"
_EXTENSIONS = {"sqlite": "sqlite_scanner", "postgresql": "postgres_scanner"}
_lock = threading.Lock()
_connections: dict[str, duckdb.DuckDBPyConnection] = {}
# Another engine running the same SQL (analytics/spark.py): anything with `query` and `rows`.
_elsewhere: ContextVar[Any] = ContextVar("closedloop_analytics_elsewhere", default=None)


@contextmanager
def using(runner: Any) -> Iterator[None]:
    """Inside the block, `query` and `rows` (and so every metric) run on `runner` instead of DuckDB."""
    token = _elsewhere.set(runner)
    try:
        yield
    finally:
        _elsewhere.reset(token)


def routed() -> bool:
    """True inside `using(...)`: the store URL is then only a name and DuckDB is not used."""
    return _elsewhere.get() is not None


def extension_directory() -> Path:
    """Where DuckDB keeps the extensions imported from their PyPI packages."""
    from closedloop.config import get_settings

    configured = get_settings().extension_dir
    path = (
        Path(configured) if configured else Path(tempfile.gettempdir()) / f"closedloop-duckdb-{os.getuid()}"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def attach_clause(url: str) -> tuple[str, str]:
    """(extension name, ATTACH statement) for the store at a SQLAlchemy URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise ValueError("the analytics engine needs a file-backed SQLite store")
        path = str(Path(database).resolve()).replace("'", "''")
        return _EXTENSIONS["sqlite"], f"ATTACH '{path}' AS {STORE} (TYPE sqlite, READ_ONLY)"
    if backend == "postgresql":
        parts = {
            "host": parsed.host or "127.0.0.1",
            "port": parsed.port or 5432,
            "dbname": parsed.database,
            "user": parsed.username,
            "password": parsed.password,
        }
        dsn = " ".join(f"{k}={v}" for k, v in parts.items() if v is not None).replace("'", "''")
        return _EXTENSIONS["postgresql"], f"ATTACH '{dsn}' AS {STORE} (TYPE postgres, READ_ONLY)"
    raise ValueError(f"unsupported store for analytics: {backend}")


def _load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    try:
        con.execute(f"LOAD {name}")
    except Exception:
        import duckdb_extensions

        duckdb_extensions.import_extension(name, con=con)
        con.execute(f"LOAD {name}")


def connect(url: str) -> duckdb.DuckDBPyConnection:
    """The process's DuckDB connection to the store at `url` (created once, then reused).

    Callers running in threads should use `.cursor()` on it: cursors share the attachment.
    """
    with _lock:
        con = _connections.get(url)
        if con is None:
            import duckdb

            extension, attach = attach_clause(url)
            con = duckdb.connect(config={"extension_directory": str(extension_directory())})
            _load_extension(con, extension)
            if extension == "sqlite_scanner":
                # DATETIME columns hold UTC; read them as TIMESTAMP (not text).
                con.execute("SET sqlite_all_varchar = false")
            con.execute(attach)
            con.execute("SET TimeZone = 'UTC'")
            _connections[url] = con
        return con


def close(url: str | None = None) -> None:
    """Close one store's connection (or all): tests and `restore` need a fresh view."""
    from closedloop.analytics import snapshot

    snapshot.forget(url)
    with _lock:
        urls = [url] if url else list(_connections)
        for key in urls:
            con = _connections.pop(key, None)
            if con is not None:
                con.close()


def query(url: str, sql: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
    """Run `sql` (positional `?` or named `$name` parameters) on a fresh cursor; an Arrow table."""
    if (runner := _elsewhere.get()) is not None:
        return runner.query(sql, params)
    cursor = connect(url).cursor()
    try:
        return cursor.execute(sql, params or []).to_arrow_table()
    finally:
        cursor.close()


def rows(url: str, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run `sql` and return its (few, aggregated) rows as dicts."""
    if (runner := _elsewhere.get()) is not None:
        return runner.rows(sql, params)
    cursor = connect(url).cursor()
    try:
        result = cursor.execute(sql, params or [])
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        cursor.close()
