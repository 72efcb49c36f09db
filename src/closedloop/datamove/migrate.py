"""`closedloop migrate-store --to URL`: copy every table into another (empty) store and verify it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine

from closedloop.datamove.fingerprint import store_fingerprint
from closedloop.db import Base
from closedloop.errors import UserError
from closedloop.store import upgrade

BATCH = 5000
SEED_TABLES = ("workspace_settings", "pipeline_stages", "policy_versions")


@dataclass(frozen=True)
class TableReport:
    table: str
    rows: int
    checksum: str


def migrate_store(
    source: Engine, target: Engine, *, progress: Callable[[str, int], None] | None = None
) -> list[TableReport]:
    """Copy all rows from `source` into `target` (migrated first), then compare counts and checksums."""
    upgrade(target)
    with target.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in SEED_TABLES:
                continue
            if conn.scalar(select(func.count()).select_from(table)):
                raise UserError(f"the target store is not empty (table {table.name} has rows)")
    with source.connect() as src, target.begin() as dst:
        for table in reversed(Base.metadata.sorted_tables):
            dst.execute(table.delete())
        for table in Base.metadata.sorted_tables:
            result = src.execution_options(yield_per=BATCH).execute(select(table))
            for batch in result.mappings().partitions(BATCH):
                dst.execute(insert(table), [dict(row) for row in batch])
                if progress:
                    progress(table.name, len(batch))
        if target.dialect.name == "postgresql":
            _reset_sequences(dst)
    with source.connect() as src, target.connect() as dst:
        before, after = store_fingerprint(src), store_fingerprint(dst)
    mismatched = [name for name in before if before[name] != after[name]]
    if mismatched:
        raise UserError(f"verification failed: tables differ after the copy: {', '.join(mismatched)}")
    return [TableReport(name, rows, checksum) for name, (rows, checksum) in before.items()]


def _reset_sequences(conn) -> None:
    """Move each serial id sequence past the copied ids, so new rows do not collide."""
    for table in Base.metadata.sorted_tables:
        if "id" not in table.columns:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
            )
        )
