"""The store on SQLite and PostgreSQL: UTC timestamps, migrations in step with the models, seeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from closedloop.db import Base, unit_of_work
from closedloop.deals.models import PipelineStage
from closedloop.leads.models import Lead
from closedloop.store import head_revision, is_initialised, seed
from closedloop.workspace.models import WorkspaceSettings

TAIPEI = timezone(timedelta(hours=8))


def test_an_offset_timestamp_is_stored_as_utc_and_read_back_aware(store) -> None:
    evening_in_taipei = datetime(2026, 3, 5, 18, 0, tzinfo=TAIPEI)
    with unit_of_work(store.session_factory) as session:
        lead = Lead(email="a@example.com", created_at=evening_in_taipei)
        session.add(lead)
        session.flush()
        lead_id = lead.id
    with store.session() as session:
        got = session.get(Lead, lead_id).created_at
        raw = session.execute(text("SELECT created_at FROM leads WHERE id = :i"), {"i": lead_id}).scalar()
    assert got == datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    assert got.tzinfo is not None
    # On disk it is 10:00 UTC, not 18:00 with the offset dropped.
    as_text = raw.isoformat() if isinstance(raw, datetime) else str(raw)
    assert "10:00:00" in as_text


def test_naive_datetimes_are_refused(store) -> None:
    with pytest.raises(Exception, match="naive datetime"), unit_of_work(store.session_factory) as session:
        session.add(Lead(email="b@example.com", created_at=datetime(2026, 1, 1, 12, 0)))
        session.flush()


def test_a_failed_unit_of_work_writes_nothing(store) -> None:
    with pytest.raises(RuntimeError), unit_of_work(store.session_factory) as session:
        session.add(Lead(email="c@example.com"))
        session.flush()
        raise RuntimeError("boom")
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 0


def test_migrations_match_the_models(store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
    assert is_initialised(store.engine)
    assert head_revision() is not None


def test_seed_is_idempotent_and_gives_the_default_pipeline(store) -> None:
    with unit_of_work(store.session_factory) as session:
        seed(session)
        seed(session)
    with store.session() as session:
        stages = session.execute(
            select(PipelineStage.key, PipelineStage.probability, PipelineStage.forecast_category).order_by(
                PipelineStage.position
            )
        ).all()
        settings = session.get(WorkspaceSettings, 1)
    assert [(k, float(p), c) for k, p, c in stages] == [
        ("initial_contact", 0.10, "pipeline"),
        ("needs_analysis", 0.25, "pipeline"),
        ("proposal", 0.50, "best_case"),
        ("negotiation", 0.75, "commit"),
        ("won", 1.00, "closed"),
        ("lost", 0.00, "omitted"),
    ]
    assert settings.reporting_time_zone == "Asia/Taipei" and settings.reporting_currency == "TWD"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_store) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
