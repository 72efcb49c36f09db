"""Alembic environment: runs on the connection handed over by `closedloop.store.upgrade`.

Each revision is its own transaction, so an upgrade that fails stops at the last revision that
completed. On PostgreSQL the session's lock waits and statements are bounded (`guard.UpgradePolicy`)
so a migration blocked by a long transaction fails fast instead of queueing the application behind it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlalchemy.engine import Connection

import closedloop.models  # noqa: F401 - registers every table on the metadata
from closedloop.db import Base
from closedloop.migrations import guard

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection, config.attributes.get("policy", guard.UpgradePolicy()))
        return
    # The alembic command line (scripts/regen_migration.sh): a scratch SQLite store.
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        _run_on(conn, guard.UpgradePolicy())


def _run_on(connection: Connection, policy: guard.UpgradePolicy) -> None:
    bounded = connection.dialect.name == "postgresql"
    if bounded:
        guard.apply_timeouts(connection, policy)
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if bounded:
            guard.reset_timeouts(connection)


run_migrations()
