"""Schema changes a revision can make while the application keeps writing (docs/DEPLOYMENT.md).

A plain `CREATE INDEX` on PostgreSQL blocks every write to its table until the index is built.
`create_index` builds it `CONCURRENTLY` instead, outside the revision's transaction (PostgreSQL
refuses a concurrent build inside one); SQLite has a single writer anyway and builds it plainly.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

# A concurrent build that failed (lock timeout, cancelled) leaves its index behind, marked invalid.
INVALID_INDEX = (
    "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace AND NOT i.indisvalid"
)


def create_index(
    name: str, table: str, columns: list[str], *, where: str | None = None, unique: bool = False
) -> None:
    """Build an index without blocking writes to `table`; `where` makes it partial (SQL on both stores)."""
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(
            name, table, columns, unique=unique, sqlite_where=_predicate(where), if_not_exists=True
        )
        return
    with op.get_context().autocommit_block():
        if op.get_bind().execute(text(INVALID_INDEX), {"name": name}).first() is not None:
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        # The build may take long on a big table but blocks no one: only lock waits stay bounded.
        previous = op.get_bind().exec_driver_sql("SHOW statement_timeout").scalar_one()
        op.get_bind().exec_driver_sql("SET statement_timeout = 0")
        try:
            op.create_index(
                name,
                table,
                columns,
                unique=unique,
                postgresql_where=_predicate(where),
                postgresql_concurrently=True,
                if_not_exists=True,
            )
        finally:
            op.get_bind().execute(text("SELECT set_config('statement_timeout', :v, false)"), {"v": previous})


def drop_index(name: str, table: str) -> None:
    """Drop an index without blocking writes to `table` (the downgrade of `create_index`)."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(name, table_name=table, if_exists=True)
        return
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)


def _predicate(where: str | None) -> object:
    return text(where) if where else None
