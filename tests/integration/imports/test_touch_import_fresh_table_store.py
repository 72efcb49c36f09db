"""Touchpoint imports into a table without external ids skip the index probe, yet a key repeated
in a later chunk (or already stored) still updates its touch, audited, and never inserts twice."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import func, select

from closedloop.audit.models import AuditLog
from closedloop.db import unit_of_work
from closedloop.imports.touches import TouchpointsProcessor
from closedloop.marketing.models import Touchpoint
from closedloop.quarantine.models import ImportJob

LEADS = [["external_id", "email", "first_name", "created_at"], ["A1", "ann@example.com", "Ann", "2025-01-02"],
         ["B2", "ben@example.com", "Ben", "2025-01-02"]]  # fmt: skip
HEADER = ["external_id", "lead_external_id", "occurred_at", "type", "utm_source", "utm_medium"]
# chunk_rows=2: rows T1, T2 | T3, T4 | T1 again (changed source and medium) | T5
TOUCHES = [
    HEADER,
    ["T1", "A1", "2025-03-01 09:00", "page_view", "google", "cpc"],
    ["T2", "A1", "2025-03-02 09:00", "page_view", "newsletter", "email"],
    ["T3", "B2", "2025-03-03 09:00", "ad_click", "facebook", "paid_social"],
    ["T4", "B2", "2025-03-04 09:00", "page_view", "", ""],
    ["T1", "A1", "2025-03-01 09:00", "page_view", "bing", "organic"],
    ["T5", "A1", "2025-03-05 09:00", "page_view", "line", "message"],
]


def _written_keys_now(store) -> set[int] | None:
    """What `prepare` decides with the job row flushed (the write lock held on SQLite)."""
    with unit_of_work(store.session_factory) as session:
        session.add(ImportJob(kind="touchpoints", filename="x.csv", file_sha256="0" * 64, status="running",
                              started_at=datetime(2026, 1, 1, tzinfo=UTC)))  # fmt: skip
        session.flush()
        decided = TouchpointsProcessor._written_keys(SimpleNamespace(session=session))
        session.rollback()
    return decided


def test_repeat_in_a_later_chunk_updates_on_a_fresh_table(store, run_file, csv_file) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    # SQLite with no stored external id: the probe-free path is taken; PostgreSQL always probes.
    assert _written_keys_now(store) == (set() if store.kind == "sqlite" else None)
    report = run_file("touchpoints", csv_file("touches.csv", TOUCHES), chunk_rows=2)
    assert (report.status, report.inserted, report.updated, report.unchanged) == ("done", 5, 1, 0)
    with store.session() as session:
        rows = dict(session.execute(select(Touchpoint.external_id, Touchpoint.utm_source)).all())
        assert rows == {"T1": "bing", "T2": "newsletter", "T3": "facebook", "T4": None, "T5": "line"}
        channel = session.scalar(select(Touchpoint.channel).where(Touchpoint.external_id == "T1"))
        assert channel == "Organic Search"
        audits = session.scalars(select(AuditLog).where(AuditLog.action == "touchpoint.updated")).all()
        assert len(audits) == 1
        assert audits[0].before["utm_source"] == "google" and audits[0].after["utm_source"] == "bing"
    # Now the table has external ids: the next import probes, and a stored key updates its touch.
    assert _written_keys_now(store) is None
    again = [HEADER, ["T5", "A1", "2025-03-05 09:00", "page_view", "line", "cpc"],
             ["T6", "B2", "2025-03-06 09:00", "page_view", "", ""]]  # fmt: skip
    second = run_file("touchpoints", csv_file("again.csv", again), chunk_rows=1)
    assert (second.inserted, second.updated, second.unchanged) == (1, 1, 0)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Touchpoint)) == 6
        medium = session.scalar(select(Touchpoint.utm_medium).where(Touchpoint.external_id == "T5"))
        assert medium == "cpc"
