"""make the touchpoints' external-id uniqueness a unique index, not a table constraint

Same name, same rule (one touch per external id, NULLs apart), same lookups. As an index it can
be dropped: a big touchpoint import into SQLite drops it and builds it once after its rows, in its
own transaction, the final CREATE UNIQUE proving the keys unique (imports/touches.py). Kept up row
by row, its random keys cost the import more than any other part of a row's insert.

SQLite cannot drop a table constraint, so the table is rebuilt (SQLite's documented procedure,
inside the revision's transaction: the copy, the swap and the indexes land together or not at
all). PostgreSQL builds the index concurrently under a temporary name, then swaps it for the
constraint's own index in one short transaction: the keys are guarded unique throughout.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 23:40:00
"""

import re
from collections.abc import Callable, Sequence

from alembic import op
from sqlalchemy import text

from closedloop.migrations import online

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "uq_touchpoints_external_id"
BUILDING = "uq_touchpoints_external_id_building"
TABLE_NAME = re.compile(r'^CREATE TABLE "?touchpoints"? \(')
CONSTRAINT = re.compile(r",\s*CONSTRAINT uq_touchpoints_external_id UNIQUE \(external_id\)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(_without_constraint, f"CREATE UNIQUE INDEX {NAME} ON touchpoints (external_id)")
        return
    online.create_index(BUILDING, "touchpoints", ["external_id"], unique=True)
    op.execute(f"ALTER TABLE touchpoints DROP CONSTRAINT {NAME}")
    op.execute(f"ALTER INDEX {BUILDING} RENAME TO {NAME}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(_with_constraint, None)
        return
    op.execute(f"ALTER TABLE touchpoints ADD CONSTRAINT {NAME} UNIQUE USING INDEX {NAME}")


def _without_constraint(sql: str) -> str:
    changed, found = CONSTRAINT.subn("", sql)
    if found != 1:
        raise RuntimeError("touchpoints: the external-id constraint to replace is not where 0001 put it")
    return changed


def _with_constraint(sql: str) -> str:
    return sql.rstrip().removesuffix(")").rstrip() + f", \n\tCONSTRAINT {NAME} UNIQUE (external_id)\n)"


def _rebuild_sqlite(table_sql: Callable[[str], str], index_sql: str | None) -> None:
    """Rebuild the touch table from its own CREATE statement as `table_sql` changes it: a copy
    with every row and id, then its indexes again (the unique one given, when given)."""
    bind = op.get_bind()
    current = bind.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'touchpoints'")
    ).scalar_one()
    indexes = bind.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'touchpoints'"
            " AND sql IS NOT NULL AND name != :name ORDER BY name"
        ),
        {"name": NAME},
    ).all()
    # A renamed table's statement names it quoted: "touchpoints".
    rebuilt = TABLE_NAME.sub("CREATE TABLE touchpoints_rebuilt (", table_sql(current), count=1)
    bind.exec_driver_sql(rebuilt)
    bind.exec_driver_sql("INSERT INTO touchpoints_rebuilt SELECT * FROM touchpoints")
    bind.exec_driver_sql("DROP TABLE touchpoints")
    bind.exec_driver_sql("ALTER TABLE touchpoints_rebuilt RENAME TO touchpoints")
    for _, sql in indexes:
        bind.exec_driver_sql(sql)
    if index_sql:
        bind.exec_driver_sql(index_sql)
