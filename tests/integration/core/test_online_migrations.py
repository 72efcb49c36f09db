"""Upgrading a store while the application writes to it (docs/DEPLOYMENT.md, "Upgrades").

Each PostgreSQL test gets its own database at revision 0001 and upgrades it to head, which builds
`ix_handoffs_awaiting_response` (revision 0002) concurrently. Writer threads insert leads and
hand-offs throughout; each writer's session has the upgrade's lock timeout, so a writer held up
longer than that by the migration fails instead of waiting. A transaction left open on the
hand-offs table makes the build wait; the test holds one open until the writers have committed
more rows while the build waits for it, so writes during the build are certain, not a race.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, insert, inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from tests.conftest import PG_ADMIN_URL, require_service
from tests.e2e.conftest import closedloop

from closedloop.db import Base, make_engine
from closedloop.handoffs.models import Handoff
from closedloop.leads.models import Lead
from closedloop.marketing.models import Touchpoint
from closedloop.migrations.guard import MigrationTimedOut, UpgradePolicy
from closedloop.store import alembic_config, current_revision, head_revision, upgrade

INDEX = "ix_handoffs_awaiting_response"
EXTERNAL_ID = "uq_touchpoints_external_id"
WRITERS = 3
HISTORY = 50_000  # hand-offs already in the table, so the build has something to read
MORE = 10  # rows each writer commits while the build waits, and again after the upgrade
HANG = 30.0  # generous bound on any wait in this file (not a speed assertion)
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """An empty PostgreSQL database of its own, dropped afterwards."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"closedloop_online_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as exc:
        admin.dispose()
        require_service(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {type(exc).__name__}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=WRITERS + 3)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Move the schema to `revision` with alembic itself (a store as an older release left it)."""
    cfg = alembic_config()
    with engine.connect() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + HANG
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def add_history(engine: Engine) -> int:
    """One lead with HISTORY hand-offs, every third still awaiting a first response; returns the lead id.

    Vacuumed and analysed afterwards, so autovacuum does not pick the table up in the middle of a test.
    """
    with engine.begin() as conn:
        lead_id = conn.execute(
            insert(Lead).values(email="history@example.com").returning(Lead.id)
        ).scalar_one()
        _insert_history(conn, lead_id)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE leads, handoffs")
    return lead_id


def _insert_history(conn: Connection, lead_id: int) -> None:
    conn.execute(
        text(
            "INSERT INTO handoffs (lead_id, assigned_at, recorded_at, status, sla_due_at, first_response_at) "
            "SELECT :lead, :now, :now, 'open', :now + g * interval '1 minute', "
            "CASE WHEN g % 3 = 0 THEN NULL ELSE :now END FROM generate_series(1, :n) g"
        ),
        {"lead": lead_id, "now": NOW, "n": HISTORY},
    )


@dataclass
class Writer:
    """Inserts a lead and its hand-off per transaction until stopped; counts what it committed."""

    engine: Engine
    name: str
    lock_timeout: float
    stop: threading.Event
    committed: int = 0
    errors: list[str] = field(default_factory=list)

    def run(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"SET lock_timeout = '{round(self.lock_timeout * 1000)}ms'")
            conn.commit()
            while not self.stop.is_set():
                try:
                    with conn.begin():
                        lead = conn.execute(
                            insert(Lead)
                            .values(email=f"{self.name}-{self.committed}@example.com")
                            .returning(Lead.id)
                        ).scalar_one()
                        conn.execute(insert(Handoff).values(lead_id=lead, assigned_at=NOW, sla_due_at=NOW))
                except DBAPIError as exc:
                    self.errors.append(str(exc.orig))
                else:
                    self.committed += 1
            conn.exec_driver_sql("RESET lock_timeout")
            conn.commit()


@contextmanager
def writing(engine: Engine, lock_timeout: float) -> Iterator[list[Writer]]:
    """WRITERS writer threads, stopped (and their counts final) when the block ends."""
    stop = threading.Event()
    writers = [Writer(engine, f"writer{i}", lock_timeout, stop) for i in range(WRITERS)]
    threads = [threading.Thread(target=w.run, daemon=True) for w in writers]
    for thread in threads:
        thread.start()
    try:
        yield writers
    finally:
        stop.set()
        for thread in threads:
            thread.join(HANG)


def index_state(engine: Engine) -> list[tuple[bool, bool]]:
    """(ready, valid) of every index named INDEX: one (True, True) once the upgrade is done."""
    with engine.connect() as conn:
        return [
            (ready, valid)
            for ready, valid in conn.execute(
                text(
                    "SELECT i.indisready, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = :name"
                ),
                {"name": INDEX},
            )
        ]


def count(engine: Engine, model: type[Base]) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.postgres
def test_the_index_is_built_while_writers_keep_writing_and_no_row_is_lost(pg_engine: Engine) -> None:
    policy = UpgradePolicy(lock_timeout=5.0, first_delay=0.2)
    migrate(pg_engine, "0001")
    lead_id = add_history(pg_engine)
    with writing(pg_engine, policy.lock_timeout) as writers:
        wait_until(lambda: all(w.committed >= MORE for w in writers), "the writers to start")
        failures = _upgrade_past_an_open_insert(pg_engine, policy, lead_id, writers)
        after = [w.committed for w in writers]
        wait_until(
            lambda: all(w.committed >= n + MORE for w, n in zip(writers, after, strict=True)), "writes after"
        )

    assert failures == []
    assert [w.errors for w in writers] == [[]] * WRITERS  # none failed, none waited past the lock timeout
    written = sum(w.committed for w in writers)
    assert count(pg_engine, Lead) == 1 + written
    assert count(pg_engine, Handoff) == HISTORY + 1 + written
    assert index_state(pg_engine) == [(True, True)]
    assert current_revision(pg_engine) == head_revision()
    assert pooled_timeouts(pg_engine) == {("0", "0")}  # the upgrade's bounds stay off the pool


def _upgrade_past_an_open_insert(
    engine: Engine, policy: UpgradePolicy, lead_id: int, writers: list[Writer]
) -> list[BaseException]:
    """Upgrade while a hand-off insert is left open: the concurrent build must wait for it, and the
    writers commit more rows meanwhile; the insert commits, then the upgrade finishes.
    Returns what the upgrade raised, if anything."""
    failures: list[BaseException] = []
    with engine.connect() as slow:
        slow_pid = slow.scalar(text("SELECT pg_backend_pid()"))
        slow.execute(insert(Handoff).values(lead_id=lead_id, assigned_at=NOW, sla_due_at=NOW))
        upgrading = threading.Thread(target=_catching(lambda: upgrade(engine, policy=policy), failures))
        upgrading.start()
        wait_until(lambda: _build_waits_for(engine, slow_pid), "the index build to wait for the open insert")
        during = [w.committed for w in writers]
        wait_until(
            lambda: all(w.committed >= n + MORE for w, n in zip(writers, during, strict=True)),
            "the writers to commit while the index build waits",
        )
        slow.commit()
    upgrading.join(HANG)
    assert not upgrading.is_alive()
    return failures


def pooled_timeouts(engine: Engine) -> set[tuple[str, str]]:
    """(lock_timeout, statement_timeout) of every connection waiting in the engine's pool."""
    connections = [engine.connect() for _ in range(engine.pool.checkedin())]
    try:
        return {
            (
                c.exec_driver_sql("SHOW lock_timeout").scalar(),
                c.exec_driver_sql("SHOW statement_timeout").scalar(),
            )
            for c in connections
        }
    finally:
        for c in connections:
            c.close()


@pytest.mark.postgres
def test_an_upgrade_blocked_by_an_open_transaction_fails_clearly_then_resumes(
    pg_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    policy = UpgradePolicy(lock_timeout=0.3, attempts=3, first_delay=0.1)
    migrate(pg_engine, "0001")
    lead_id = add_history(pg_engine)

    with pg_engine.connect() as blocker, caplog.at_level(logging.WARNING, "closedloop.migrations.guard"):
        blocker_pid = blocker.scalar(text("SELECT pg_backend_pid()"))
        blocker.execute(insert(Handoff).values(lead_id=lead_id, assigned_at=NOW, sla_due_at=NOW))
        with pytest.raises(MigrationTimedOut) as failed:
            upgrade(pg_engine, policy=policy)
        assert current_revision(pg_engine) == "0001"
        assert (True, True) not in index_state(pg_engine)  # at most the invalid leftover of a build
        blocker.commit()

    message = str(failed.value)
    assert "waited more than 0.3s for a table lock, 3 times" in message
    assert f"pid {blocker_pid} (idle in transaction" in message
    assert "still at revision 0001" in message and "closedloop init" in message
    retries = [r.getMessage() for r in caplog.records if r.name == "closedloop.migrations.guard"]
    assert len(retries) == 2 and "(attempt 1 of 3)" in retries[0] and "(attempt 2 of 3)" in retries[1]

    upgrade(pg_engine, policy=UpgradePolicy(first_delay=0.1))  # drops the invalid leftover, builds again
    assert current_revision(pg_engine) == head_revision()
    assert index_state(pg_engine) == [(True, True)]
    assert count(pg_engine, Handoff) == HISTORY + 1


@pytest.mark.postgres
def test_closedloop_init_takes_its_lock_timeout_from_the_environment_and_names_the_blocker(
    pg_engine: Engine,
) -> None:
    migrate(pg_engine, "0001")
    env = dict(
        os.environ,
        CLOSEDLOOP_DATABASE_URL=pg_engine.url.render_as_string(hide_password=False),
        CLOSEDLOOP_MIGRATION_LOCK_TIMEOUT="0.2",
    )
    with pg_engine.connect() as blocker:
        blocker_pid = blocker.scalar(text("SELECT pg_backend_pid()"))
        lead = blocker.execute(insert(Lead).values(email="open@example.com").returning(Lead.id)).scalar_one()
        blocker.execute(insert(Handoff).values(lead_id=lead, assigned_at=NOW, sla_due_at=NOW))
        refused = closedloop("init", env=env)
        assert current_revision(pg_engine) == "0001"
    # The blocker's connection is closed: its transaction is rolled back, nothing holds the table now.
    assert refused.returncode == 1
    assert "error: the upgrade waited more than 0.2s for a table lock, 3 times" in refused.stderr
    assert f"pid {blocker_pid} (idle in transaction" in refused.stderr

    assert closedloop("init", env=env).returncode == 0
    assert current_revision(pg_engine) == head_revision()
    assert index_state(pg_engine) == [(True, True)]


def test_the_same_upgrade_runs_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine, "0001")
    with engine.begin() as conn:
        lead = conn.execute(insert(Lead).values(email="a@example.com").returning(Lead.id)).scalar_one()
        conn.execute(
            insert(Handoff).values(lead_id=lead, assigned_at=NOW, sla_due_at=NOW + timedelta(hours=1))
        )

    upgrade(engine)

    assert current_revision(engine) == head_revision()
    assert count(engine, Handoff) == 1
    with engine.connect() as conn:
        assert (
            compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            == []
        )
    engine.dispose()
    with sqlite3.connect(tmp_path / "store.db") as raw:
        (sql,) = raw.execute("SELECT sql FROM sqlite_master WHERE name = ?", (INDEX,)).fetchone()
    assert "WHERE first_response_at IS NULL AND breached_at IS NULL" in sql


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_revision_0002_downgrades_and_upgrades_again(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    engine = (
        make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        if kind == "sqlite"
        else request.getfixturevalue("pg_engine")
    )
    upgrade(engine)
    migrate(engine, "0001", down=True)
    assert current_revision(engine) == "0001"
    assert INDEX not in _index_names(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert INDEX in _index_names(engine)
    engine.dispose()


def _index_names(engine: Engine) -> set[str]:
    return {ix["name"] for ix in inspect(engine).get_indexes("handoffs")}


def _build_waits_for(engine: Engine, pid: int) -> bool:
    """Whether a concurrent index build is waiting for the transaction of backend `pid` to end."""
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_progress_create_index "
                    "WHERE command = 'CREATE INDEX CONCURRENTLY' AND current_locker_pid = :pid"
                ),
                {"pid": pid},
            )
        )


def _catching(run: Callable[[], None], failures: list[BaseException]) -> Callable[[], None]:
    def target() -> None:
        try:
            run()
        except BaseException as exc:
            failures.append(exc)

    return target


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_revision_0003_turns_the_external_id_constraint_into_an_index_and_back(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Every touch kept with its id; one touch per external id at 0002, at head and after a
    downgrade; at head a unique index (which an import may drop), at 0002 the table constraint."""
    engine = (
        make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        if kind == "sqlite"
        else request.getfixturevalue("pg_engine")
    )
    migrate(engine, "0002")
    with engine.begin() as conn:
        lead = conn.execute(insert(Lead).values(email="a@example.com").returning(Lead.id)).scalar_one()
        conn.execute(insert(Touchpoint), [_touch("T1", lead), _touch(None, lead), _touch("T2", None)])
        before = conn.execute(select(Touchpoint.id, Touchpoint.external_id).order_by(Touchpoint.id)).all()

    def constraint_and_index() -> tuple[bool, bool]:
        inspector = inspect(engine)
        uniques = {c["name"] for c in inspector.get_unique_constraints("touchpoints")}
        indexes = {i["name"] for i in inspector.get_indexes("touchpoints") if i["unique"]}
        return EXTERNAL_ID in uniques, EXTERNAL_ID in indexes - uniques

    def refuses_a_repeat() -> bool:
        try:
            with engine.begin() as conn:
                conn.execute(insert(Touchpoint).values(**_touch("T1", None)))
        except DBAPIError as exc:
            return "external_id" in str(exc)
        return False

    assert constraint_and_index() == (True, False)
    upgrade(engine)
    assert constraint_and_index() == (False, True)
    assert refuses_a_repeat()
    migrate(engine, "0002", down=True)
    assert constraint_and_index() == (True, False)
    assert refuses_a_repeat()
    upgrade(engine)
    with engine.connect() as conn:
        assert (
            conn.execute(select(Touchpoint.id, Touchpoint.external_id).order_by(Touchpoint.id)).all()
            == before
        )
        assert (
            compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            == []
        )
        if kind == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    engine.dispose()


def _touch(external_id: str | None, lead_id: int | None) -> dict[str, object]:
    return {"external_id": external_id, "lead_id": lead_id, "occurred_at": NOW, "recorded_at": NOW,
            "type": "page_view", "channel": "Direct", "channel_explicit": False}  # fmt: skip
