"""Writing the generated tables into the store in one transaction, as fast as each engine allows.

SQLite: executemany on the raw DBAPI connection. PostgreSQL: COPY FROM STDIN, then each id
sequence is moved past the explicit ids. Columns a table has but the generator does not fill
(added later by another domain) get their model default, or NULL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from closedloop.db import Base, UTCDateTime
from closedloop.demo.frame import NULL, Table, to_db
from closedloop.errors import ConfigurationError, Conflict
from closedloop.i18n import translate

CHUNK = 50_000
BIG_TABLE = 20_000
# Never cleared by --replace: the workspace, its definitions, the audit log and the people.
KEPT = frozenset(
    {
        "alembic_version",
        "workspace_settings",
        "pipeline_stages",
        "policy_versions",
        "policy_approvals",
        "audit_log",
        "users",
        "teams",
        "business_calendars",
        "api_keys",
        "user_sessions",
    }
)
# Tables matched by a natural key: an existing row keeps its id and is reused.
# (Order matters: users last, so their team ids are already mapped.)
NATURAL_KEYS = {"business_calendars": "name", "teams": "name", "regions": "code", "users": "email"}


@dataclass
class Timing:
    table: str
    rows: int
    seconds: float


def prepare_store(engine: Engine) -> None:
    """Create the schema of an empty store; refuse one that exists but is out of date."""
    from closedloop.store import is_initialised, upgrade

    if is_initialised(engine):
        return
    if inspect(engine).has_table("workspace_settings"):
        raise ConfigurationError("the store is out of date: run `closedloop init` first")
    upgrade(engine)


def lead_count(conn: Connection) -> int:
    return int(conn.execute(text("SELECT COUNT(*) FROM leads")).scalar_one())


def clear(conn: Connection) -> None:
    """Delete the rows of every data table, children first."""
    import closedloop.models  # noqa: F401 - every table registered on the metadata

    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in KEPT:
            conn.execute(table.delete())


def reconcile(conn: Connection, tables: list[Table], updates: list[tuple]) -> list[tuple]:
    """Reuse rows of users, teams, calendars and regions that already exist; give new rows free ids.

    Rewrites ids (and every column referring to them) in the generated tables, drops the rows
    that already exist, and returns the updates with their ids mapped.
    """
    by_name = {t.name: t for t in tables}
    for name, key in NATURAL_KEYS.items():
        table = by_name[name]
        meta = Base.metadata.tables[name]
        existing = {row[0]: row[1] for row in conn.execute(select(meta.c[key], meta.c.id))}
        if not existing:
            continue
        top = int(conn.execute(select(func.max(meta.c.id))).scalar_one() or 0)
        ids = np.asarray(table.columns["id"][1])
        keys = list(table.columns[key][1])
        mapping, fresh = {}, []
        for i, (old, value) in enumerate(zip(ids.tolist(), keys, strict=True)):
            if value in existing:
                mapping[old] = existing[value]
            else:
                top += 1
                mapping[old] = top
                fresh.append(i)
        _remap(tables, name, mapping)
        updates = [(t, mapping.get(i, i) if t == name else i, c, v) for t, i, c, v in updates]
        updates = [(t, i, c, mapping.get(v, v) if _refers(t, c, name) else v) for t, i, c, v in updates]
        reused = [mapping[old] for old, value in zip(ids.tolist(), keys, strict=True) if value in existing]
        if name == "users":
            updates += _refresh_users(table, reused)
        if name == "business_calendars" and reused:
            days = Base.metadata.tables["calendar_days"]
            conn.execute(days.delete().where(days.c.calendar_id.in_(reused)))
        keep = np.array(fresh, dtype=np.int64)
        for column, (kind, values) in list(table.columns.items()):
            table.columns[column] = (
                kind,
                np.asarray(values, dtype=object if kind in ("str", "json", "obj") else None)[keep],
            )
    return updates


def _refers(table: str, column: str, target: str) -> bool:
    if column not in Base.metadata.tables[table].c:
        return False
    col = Base.metadata.tables[table].c[column]
    return any(fk.column.table.name == target for fk in col.foreign_keys)


def _remap(tables: list[Table], target: str, mapping: dict[int, int]) -> None:
    lookup = np.vectorize(lambda v: mapping.get(v, v), otypes=[np.int64])
    for table in tables:
        for column, (kind, values) in list(table.columns.items()):
            is_target = table.name == target and column == "id"
            if is_target or _refers(table.name, column, target):
                arr = np.asarray(values, dtype=np.int64)
                table.columns[column] = (kind, np.where(arr == NULL, NULL, lookup(arr)) if len(arr) else arr)


def _refresh_users(table: Table, reused: list[int]) -> list[tuple]:
    """Existing demo users get the demo password, name, role and team back (applied after the insert)."""
    out = []
    for i, user_id in enumerate(np.asarray(table.columns["id"][1]).tolist()):
        if user_id in reused:
            for column in ("password_hash", "name", "role", "team_id"):
                value = table.columns[column][1][i]
                out.append(("users", user_id, column, int(value) if column == "team_id" else value))
    return out


def _completed(table: Table, *, end_ts: int) -> list[tuple[str, str, Any]]:
    """(column, kind, values) for every column of the real table, defaults filled in."""
    meta = Base.metadata.tables[table.name]
    n = len(table)
    out = []
    for column in meta.columns:
        if column.name in table.columns:
            kind, values = table.columns[column.name]
            out.append((column.name, kind, values))
            continue
        if isinstance(column.type, UTCDateTime) and (not column.nullable or column.default is not None):
            out.append((column.name, "ts", np.full(n, end_ts)))
        elif column.default is not None and column.default.is_scalar:
            out.append((column.name, "obj", [column.default.arg] * n))
        elif column.default is not None and column.default.is_callable:
            value = column.default.arg(None)
            out.append((column.name, "json" if isinstance(value, dict | list) else "obj", [value] * n))
        elif (column.nullable or column.primary_key) and column.server_default is None:
            continue  # left out of the INSERT: NULL
        else:
            raise RuntimeError(f"demo loader: {table.name}.{column.name} has no value and no default")
    return out


def _chunks(
    columns: list[tuple[str, str, Any]], n: int, *, postgres: bool
) -> Iterator[tuple[int, list[tuple]]]:
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        converted = [to_db(kind, values[lo:hi], postgres=postgres) for _, kind, values in columns]
        yield hi - lo, list(zip(*converted, strict=True))


def insert_tables(
    conn: Connection,
    tables: list[Table],
    *,
    end_ts: int,
    on_rows: Callable[[str, int], None] = lambda *_: None,
) -> list[Timing]:
    """Bulk-insert every table in order on the connection's open transaction."""
    postgres = conn.dialect.name == "postgresql"
    raw = conn.connection.dbapi_connection
    timings = []
    for table in tables:
        started = time.perf_counter()
        n = len(table)
        if n == 0:
            continue
        columns = _completed(table, end_ts=end_ts)
        names = ", ".join(f'"{c[0]}"' for c in columns)
        indexes = _drop_indexes(conn, table.name) if n >= BIG_TABLE else []
        cursor = raw.cursor()
        try:
            if postgres:
                with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                    for count, rows in _chunks(columns, n, postgres=True):
                        for row in rows:
                            copy.write_row(row)
                        on_rows(table.name, count)
            else:
                marks = ", ".join("?" * len(columns))
                sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
                for count, rows in _chunks(columns, n, postgres=False):
                    cursor.executemany(sql, rows)
                    on_rows(table.name, count)
        finally:
            cursor.close()
        for definition in indexes:
            conn.exec_driver_sql(definition)
        timings.append(Timing(table.name, n, time.perf_counter() - started))
    return timings


def _drop_indexes(conn: Connection, table: str) -> list[str]:
    """Drop a table's secondary indexes (rebuilt after the bulk insert: sorting beats row-by-row upkeep)."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = :t AND i.schemaname = current_schema() "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
            ),
            {"t": table},
        ).all()
    else:
        rows = conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
            ),
            {"t": table},
        ).all()
    for name, _ in rows:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def apply_updates(conn: Connection, updates: list[tuple]) -> None:
    for table, row_id, column, value in updates:
        if column not in Base.metadata.tables[table].c:
            continue  # the column is gone from the model
        conn.execute(text(f'UPDATE "{table}" SET "{column}" = :v WHERE id = :id'), {"v": value, "id": row_id})


def reset_sequences(conn: Connection) -> None:
    """PostgreSQL: move every id sequence past the explicit ids just inserted."""
    if conn.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM "{table.name}"'
            )
        )


def load(
    engine: Engine,
    tables: list[Table],
    updates: list[tuple],
    *,
    replace: bool,
    end_ts: int,
    audit: Callable[[Session, list[Timing]], None],
    on_rows: Callable[[str, int], None] = lambda *_: None,
) -> list[Timing]:
    """Load the demo in one transaction: refuse or clear existing leads, insert, audit, commit."""
    import closedloop.models  # noqa: F401

    prepare_store(engine)
    with engine.begin() as conn:
        if lead_count(conn) and not replace:
            raise Conflict(translate("demo.error.already_loaded"))
        if replace:
            clear(conn)
        updates = reconcile(conn, tables, updates)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        timings = insert_tables(conn, tables, end_ts=end_ts, on_rows=on_rows)
        apply_updates(conn, updates)
        reset_sequences(conn)
        with Session(bind=conn) as session:
            audit(session, timings)
            session.flush()
    return timings
