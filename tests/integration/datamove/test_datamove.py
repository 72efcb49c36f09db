"""Backups restore every table exactly; migrate-store copies and verifies; Parquet export is incremental."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.engine import make_url
from tests.conftest import PG_ADMIN_URL
from tests.integration.datamove.sample_rows import fill

from closedloop.analytics import engine as analytics_engine
from closedloop.datamove.backup import backup, restore
from closedloop.datamove.fingerprint import store_fingerprint
from closedloop.datamove.migrate import migrate_store
from closedloop.datamove.parquet import export_parquet
from closedloop.db import make_engine, make_session_factory, unit_of_work
from closedloop.errors import UserError
from closedloop.leads.models import Lead
from closedloop.marketing.models import Touchpoint


def _fingerprint(engine):
    with engine.connect() as conn:
        return store_fingerprint(conn)


def test_backup_then_restore_gives_back_every_table(store, tmp_path: Path) -> None:
    if store.kind == "postgres" and shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is missing (Debian package postgresql-client)")
    fill(store.session_factory)
    before = _fingerprint(store.engine)
    assert before["leads"][0] == 6 and before["revenue_events"][0] == 7
    file = backup(store.url, tmp_path / "store.backup")
    with unit_of_work(store.session_factory) as session:
        session.execute(delete(Touchpoint))
        session.add(Lead(email="after-backup@example.com"))
    assert _fingerprint(store.engine) != before
    store.engine.dispose()
    restore(store.url, file)
    assert _fingerprint(store.engine) == before


def test_restore_refuses_a_file_that_is_not_a_backup(sqlite_store, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    with pytest.raises(UserError, match="not a SQLite backup"):
        restore(sqlite_store.url, bogus)


@pytest.fixture
def empty_pg_url(pg_database):
    """A second, empty PostgreSQL database as the migration target."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"closedloop_target_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrate_sqlite_to_postgres_verifies_and_keeps_ids_usable(sqlite_store, empty_pg_url) -> None:
    fill(sqlite_store.session_factory)
    target = make_engine(empty_pg_url)
    try:
        reports = migrate_store(sqlite_store.engine, target)
        counts = {r.table: r.rows for r in reports}
        assert counts["leads"] == 6 and counts["touchpoints"] == 6 and counts["deals"] == 6
        assert _fingerprint(target) == _fingerprint(sqlite_store.engine)
        with unit_of_work(make_session_factory(target)) as session:
            session.add(Lead(email="new-after-migration@example.com"))
        with pytest.raises(UserError, match="not empty"):
            migrate_store(sqlite_store.engine, target)
    finally:
        target.dispose()


def test_parquet_export_is_partitioned_and_incremental(store, tmp_path: Path) -> None:
    fill(store.session_factory)
    out = tmp_path / "parquet"
    first = {r.table: r.rows for r in export_parquet(store.url, out)}
    assert first["touchpoints"] == 6 and first["leads"] == 6
    months = sorted(p.name for p in (out / "touchpoints").iterdir())
    assert months[0] == "month=2026-01" and len(months) >= 3
    with unit_of_work(store.session_factory) as session:
        lead_id = session.scalar(select(func.min(Lead.id)))
        session.add(
            Touchpoint(lead_id=lead_id, occurred_at=datetime(2026, 9, 1, tzinfo=UTC), type="page_view")
        )
    second = {r.table: r.rows for r in export_parquet(store.url, out)}
    assert second["touchpoints"] == 1  # only the new row
    con = analytics_engine.connect(store.url)
    total = con.execute(f"SELECT count(*) FROM read_parquet('{out}/touchpoints/**/*.parquet')").fetchone()[0]
    leads = con.execute(f"SELECT count(*) FROM read_parquet('{out}/leads/**/*.parquet')").fetchone()[0]
    assert (total, leads) == (7, 6)
    analytics_engine.close(store.url)
