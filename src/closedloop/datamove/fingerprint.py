"""Per-table row counts and checksums that compare equal across SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, select

from closedloop.db import Base


def canonical(value: Any) -> Any:
    """A store-independent form of a column value (UTC ISO times, decimal strings, sorted JSON)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return repr(round(value, 9))
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def table_fingerprint(conn: Connection, table: Table) -> tuple[int, str]:
    """(row count, SHA-256 over the canonical rows in primary-key order)."""
    digest = hashlib.sha256()
    count = 0
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(yield_per=5000).execute(select(table).order_by(*order))
    for row in result:
        digest.update(json.dumps([canonical(v) for v in row], default=str, ensure_ascii=False).encode())
        count += 1
    return count, digest.hexdigest()


def store_fingerprint(conn: Connection) -> dict[str, tuple[int, str]]:
    """Fingerprints of every table of the schema."""
    return {table.name: table_fingerprint(conn, table) for table in Base.metadata.sorted_tables}
