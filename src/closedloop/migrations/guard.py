"""Upgrades that cannot stall a live PostgreSQL store: bounded lock waits, retried revision by revision.

A DDL statement waiting for a lock queues every later query on its table behind it, so a migration
stuck behind one long transaction would stall the whole application. On PostgreSQL each statement of
an upgrade therefore waits at most `lock_timeout` for a lock and runs at most `statement_timeout`.
A revision that gave up on a lock is retried after a pause that doubles each time: every revision
runs in its own transaction, so a retry starts at the revision that failed and none is half-applied.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from closedloop.errors import ClosedloopError

log = logging.getLogger(__name__)

LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of "canceling statement due to lock timeout"
QUERY_CANCELED = "57014"  # SQLSTATE of "canceling statement due to statement timeout"
BLOCKERS_SHOWN = 3


@dataclass(frozen=True)
class UpgradePolicy:
    """How long an upgrade may wait and run on PostgreSQL (seconds), and how often it tries."""

    lock_timeout: float = 5.0
    # Guards DDL that holds its lock while it works (a table rewrite): the application waits that long.
    statement_timeout: float = 60.0
    attempts: int = 3
    first_delay: float = 1.0  # before the second attempt; doubled before each later one


class MigrationTimedOut(ClosedloopError):
    """An upgrade gave up waiting for a lock, or a statement ran past its time; the store is unchanged
    from the last revision that completed."""


def apply_timeouts(connection: Connection, policy: UpgradePolicy) -> None:
    """Bound every lock wait and statement of this session (committed, so alembic starts clean)."""
    connection.exec_driver_sql(f"SET lock_timeout = '{round(policy.lock_timeout * 1000)}ms'")
    connection.exec_driver_sql(f"SET statement_timeout = '{round(policy.statement_timeout * 1000)}ms'")
    connection.commit()


def reset_timeouts(connection: Connection) -> None:
    """Give the pooled connection back with the server's defaults."""
    connection.rollback()
    connection.exec_driver_sql("RESET lock_timeout")
    connection.exec_driver_sql("RESET statement_timeout")
    connection.commit()


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, if the driver gave one."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def run_with_retries(engine: Engine, run: Callable[[], None], policy: UpgradePolicy) -> None:
    """Run the upgrade, again after a pause when it gave up on a lock; a clear error after the last try."""
    delay = policy.first_delay
    for attempt in range(1, policy.attempts + 1):
        try:
            run()
            return
        except DBAPIError as exc:
            state = sqlstate(exc)
            if state == QUERY_CANCELED:
                raise MigrationTimedOut(_statement_message(engine, policy)) from exc
            if state != LOCK_NOT_AVAILABLE:
                raise
            if attempt == policy.attempts:
                raise MigrationTimedOut(_lock_message(engine, policy)) from exc
            log.warning(
                "upgrade waited more than %gs for a lock (attempt %d of %d); retrying in %gs",
                policy.lock_timeout,
                attempt,
                policy.attempts,
                delay,
            )
            time.sleep(delay)
            delay *= 2


def _lock_message(engine: Engine, policy: UpgradePolicy) -> str:
    revision, blockers = _state(engine)
    return (
        f"the upgrade waited more than {policy.lock_timeout:g}s for a table lock, {policy.attempts} times: "
        f"another transaction holds it{blockers}. The store is still at revision {revision}. End that "
        "transaction (or raise CLOSEDLOOP_MIGRATION_LOCK_TIMEOUT) and run `closedloop init` again."
    )


def _statement_message(engine: Engine, policy: UpgradePolicy) -> str:
    revision, _ = _state(engine)
    return (
        f"a migration statement ran longer than {policy.statement_timeout:g}s and was cancelled so the "
        f"application is not held up behind it. The store is still at revision {revision}; run this "
        "upgrade in a quiet hour with the application stopped."
    )


def _state(engine: Engine) -> tuple[str | None, str]:
    """The store's revision and the oldest open transactions (the likely holders), for the message."""
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        rows = connection.execute(
            text(
                "SELECT pid, state, EXTRACT(EPOCH FROM now() - xact_start) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND xact_start IS NOT NULL ORDER BY xact_start LIMIT :n"
            ),
            {"n": BLOCKERS_SHOWN},
        ).all()
    found = ", ".join(f"pid {pid} ({state}, open {age:.0f}s)" for pid, state, age in rows)
    return revision, f" (oldest open transactions: {found})" if found else ""
