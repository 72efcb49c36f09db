"""A big touchpoint file into a smaller table (SQLite) drops the table's indexes for the import
(the external-id one too while no stored touch has an external id) and builds them again before
it ends: inside the import's transaction, so a committed import has every index, intact, a failed
or dry run never loses one, and the final CREATE UNIQUE refuses a repeated external id."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from closedloop.clock import fixed_clock
from closedloop.db import unit_of_work
from closedloop.imports import touches
from closedloop.imports.service import import_file, run_import
from closedloop.leads.models import Lead
from closedloop.marketing.models import Touchpoint

from .conftest import IMPORTER

NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
LEADS = [["external_id", "email", "first_name", "created_at"], ["A1", "ann@example.com", "Ann", "2025-01-02"],
         ["B2", "ben@example.com", "Ben", "2025-01-02"]]  # fmt: skip
HEADER = [
    "external_id",
    "lead_external_id",
    "occurred_at",
    "type",
    "utm_source",
    "utm_medium",
    "utm_campaign",
]
TOUCHES = [
    HEADER,
    ["T1", "A1", "2025-03-02 09:00", "page_view", "google", "cpc", "spring"],
    ["T2", "A1", "2025-03-01 09:00", "page_view", "newsletter", "email", "spring"],
    ["T3", "B2", "2025-03-03 09:00", "ad_click", "facebook", "paid_social", "launch"],
    ["T4", "B2", "2025-03-04 09:00", "page_view", "", "", ""],
    ["T5", "A1", "2025-03-05 09:00", "page_view", "line", "message", ""],
]
TIMELINE = "SELECT id FROM touchpoints WHERE lead_id = 1 ORDER BY occurred_at"


def _indexes(connection: Any) -> dict[str, str]:
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'touchpoints'"
        " AND sql IS NOT NULL"
    ).all()
    return dict(rows)


@pytest.fixture
def sqlite_only(store: Any) -> Any:
    if store.kind != "sqlite":
        pytest.skip("SQLite's executemany path: PostgreSQL is the last test")
    return store


@pytest.fixture
def every_file_is_big(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any file counts as big enough: one byte a row, from one row."""
    monkeypatch.setattr(touches, "DEFER_MIN_ROWS", 1)
    monkeypatch.setattr(touches, "ROW_BYTES_HIGH", 1)


def _run(store: Any, path: Any, seen: list[set[str]], **options: Any) -> Any:
    """run_import in a unit of work, noting the touch table's index names after every chunk."""
    with unit_of_work(store.session_factory) as session:
        connection = session.connection()

        def note(_rows: int) -> None:
            seen.append(set(_indexes(connection)))

        return run_import(session=session, kind="touchpoints", path=path, actor=IMPORTER, chunk_rows=2,
                          clock=fixed_clock(NOW), on_rows=note, **options)  # fmt: skip


def test_a_big_import_builds_the_indexes_again(sqlite_only, run_file, csv_file, every_file_is_big) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    with sqlite_only.engine.connect() as connection:
        before = _indexes(connection)
    assert {"ix_touchpoints_lead_occurred", "ix_touchpoints_campaign_id", "ix_touchpoints_visitor"} <= set(
        before
    )
    seen: list[set[str]] = []
    report = _run(sqlite_only, csv_file("touches.csv", TOUCHES), seen)
    assert (report.status, report.inserted) == ("done", 5)
    # Deferred while the chunks went in: only the capture's event-id index was kept up.
    assert seen and all(names == {"uq_touchpoints_site_id_event_id"} for names in seen)
    with sqlite_only.engine.connect() as connection:
        assert _indexes(connection) == before
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {TIMELINE}"))
        assert "ix_touchpoints_lead_occurred" in plan
        assert [r[0] for r in connection.exec_driver_sql(TIMELINE)] == [2, 1, 5]
    with sqlite_only.session() as session:
        ann = session.scalar(select(Lead).where(Lead.external_id == "A1"))
        assert (ann.first_touch_at, ann.first_utm_source) == (
            datetime(2025, 3, 1, 1, 0, tzinfo=UTC),
            "newsletter",
        )
        assert len(session.scalars(select(Touchpoint)).all()) == 5


def test_a_failed_or_dry_import_keeps_every_index(sqlite_only, run_file, csv_file, every_file_is_big) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    with sqlite_only.engine.connect() as connection:
        before = _indexes(connection)
    bad = [*TOUCHES, ["T6", "A1", "not a date", "page_view", "", "", ""]]
    failed = import_file(session_factory=sqlite_only.session_factory, kind="touchpoints", chunk_rows=2,
                         path=csv_file("bad.csv", bad), actor=IMPORTER, clock=fixed_clock(NOW))  # fmt: skip
    dry = import_file(session_factory=sqlite_only.session_factory, kind="touchpoints", chunk_rows=2,
                      path=csv_file("ok.csv", TOUCHES), actor=IMPORTER, clock=fixed_clock(NOW), dry_run=True)  # fmt: skip
    # In the caller's transaction (the API's and the web's way): its savepoint is rolled back.
    seen: list[set[str]] = []
    in_savepoint = _run(sqlite_only, csv_file("bad2.csv", bad), seen)
    assert (failed.status, dry.status, in_savepoint.status) == ("failed", "dry_run", "failed")
    assert seen and "ix_touchpoints_lead_occurred" not in seen[0]
    with sqlite_only.engine.connect() as connection:
        assert _indexes(connection) == before
        assert connection.exec_driver_sql("SELECT count(*) FROM touchpoints").scalar() == 0


def test_a_key_repeated_across_chunks_builds_the_external_id_index_first(
    sqlite_only, run_file, csv_file, every_file_is_big
) -> None:
    """The first chunk that may hold a stored key (one this import wrote) has the index built
    before it probes; the repeat then updates its touch as on the indexed path."""
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    changed = ["T1", "A1", "2025-03-02 09:00", "page_view", "google", "cpc", "summer"]
    seen: list[set[str]] = []
    report = _run(sqlite_only, csv_file("again.csv", [*TOUCHES, changed, TOUCHES[3]]), seen)
    assert (report.status, report.inserted, report.updated, report.unchanged) == ("done", 5, 1, 1)
    # Chunks of two: T1-T2, T3-T4, T5-T1 (the first repeat), T3.
    assert ["uq_touchpoints_external_id" in names for names in seen] == [False, False, True, True]
    with sqlite_only.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert dict(connection.exec_driver_sql("SELECT external_id, utm_campaign FROM touchpoints").all()) == {
            "T1": "summer", "T2": "spring", "T3": "launch", "T4": None, "T5": None,
        }  # fmt: skip


def test_the_final_unique_index_refuses_a_key_that_slipped_through(
    sqlite_only, run_file, csv_file, every_file_is_big, monkeypatch
) -> None:
    """Were the cross-chunk check to miss a repeated key, the rebuilt unique index would refuse
    it: the import fails whole, every index as before."""
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    with sqlite_only.engine.connect() as connection:
        before = _indexes(connection)
    monkeypatch.setattr(touches.TouchpointsProcessor, "_maybe_stored", lambda self, ctx, keys, hashes: [])
    with pytest.raises(sqlite3.IntegrityError, match=r"touchpoints\.external_id"):
        import_file(session_factory=sqlite_only.session_factory, kind="touchpoints", chunk_rows=2,
                    path=csv_file("twice.csv", [*TOUCHES, TOUCHES[1]]), actor=IMPORTER,
                    clock=fixed_clock(NOW))  # fmt: skip
    with sqlite_only.engine.connect() as connection:
        assert _indexes(connection) == before
        assert connection.exec_driver_sql("SELECT count(*) FROM touchpoints").scalar() == 0


def test_a_table_with_external_ids_keeps_that_index(
    sqlite_only, run_file, csv_file, every_file_is_big
) -> None:
    """Stored external ids: every chunk probes the index, so it stays while the others go."""
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    assert run_file("touchpoints", csv_file("one.csv", TOUCHES[:2])).inserted == 1
    seen: list[set[str]] = []
    report = _run(sqlite_only, csv_file("touches.csv", TOUCHES), seen)
    assert (report.status, report.inserted, report.unchanged) == ("done", 4, 1)
    assert seen and all(
        names == {"uq_touchpoints_site_id_event_id", "uq_touchpoints_external_id"} for names in seen
    )


def test_a_file_smaller_than_the_table_keeps_its_indexes(
    sqlite_only, run_file, csv_file, monkeypatch
) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    assert run_file("touchpoints", csv_file("touches.csv", TOUCHES)).inserted == 5
    # Five stored touches; the next file is estimated at fewer rows than that.
    monkeypatch.setattr(touches, "DEFER_MIN_ROWS", 1)
    monkeypatch.setattr(touches, "ROW_BYTES_HIGH", 100)
    more = [HEADER, ["T7", "B2", "2025-03-07 09:00", "page_view", "google", "cpc", ""],
            ["T8", "B2", "2025-03-08 09:00", "page_view", "google", "cpc", ""]]  # fmt: skip
    seen: list[set[str]] = []
    assert _run(sqlite_only, csv_file("more.csv", more), seen).inserted == 2
    assert seen and all("ix_touchpoints_lead_occurred" in names for names in seen)


def test_postgresql_keeps_its_indexes_throughout(store, run_file, csv_file, every_file_is_big) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    if store.kind == "sqlite":
        pytest.skip("PostgreSQL's COPY path: SQLite is the test above")
    seen: list[set[str]] = []
    with unit_of_work(store.session_factory) as session:
        connection = session.connection()

        def note(_rows: int) -> None:
            names = connection.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'touchpoints'"
            )
            seen.append(set(names.scalars()))

        report = run_import(session=session, kind="touchpoints", path=csv_file("touches.csv", TOUCHES),
                            actor=IMPORTER, chunk_rows=2, clock=fixed_clock(NOW), on_rows=note)  # fmt: skip
    assert (report.status, report.inserted) == ("done", 5)
    assert seen and all(
        {"ix_touchpoints_lead_occurred", "ix_touchpoints_campaign_id"} <= names for names in seen
    )


def test_a_big_import_resolves_leads_in_the_reader(
    sqlite_only, run_file, csv_file, every_file_is_big, monkeypatch
) -> None:
    """The reader's lead maps give what the per-chunk queries give: ids by external id, else by
    email (any case in the file), and a row naming no lead rejected for that column."""
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"

    def never(*_args: Any) -> None:
        raise AssertionError("the importing process queried leads: the reader should have")

    monkeypatch.setattr(touches.TouchpointsProcessor, "_resolve_leads", never)
    rows = [
        ["external_id", "lead_external_id", "lead_email", "occurred_at", "type"],
        ["U1", "A1", "", "2025-03-01 09:00", "page_view"],
        ["U2", "", "BEN@Example.com", "2025-03-02 09:00", "page_view"],
        ["U3", "", "nobody@example.com", "2025-03-03 09:00", "page_view"],
        ["U4", "ZZ", "ann@example.com", "2025-03-04 09:00", "page_view"],
        ["U5", "B2", "ann@example.com", "2025-03-05 09:00", "page_view"],
    ]
    seen: list[set[str]] = []
    report = _run(sqlite_only, csv_file("refs.csv", rows), seen, skip_invalid=True)
    assert (report.status, report.inserted) == ("done", 3)
    # Rows 4 and 5 (the header is row 1): an unknown email; an unknown external id (not passed
    # over for the email beside it).
    assert {(e.row, e.column) for e in report.errors} == {(4, "lead_email"), (5, "lead_external_id")}
    with sqlite_only.engine.connect() as connection:
        leads = dict(connection.exec_driver_sql("SELECT external_id, id FROM leads").all())
        touches_to = dict(connection.exec_driver_sql("SELECT external_id, lead_id FROM touchpoints").all())
    # U5 names B2 by external id: that wins over its email (Ann's).
    assert touches_to == {"U1": leads["A1"], "U2": leads["B2"], "U5": leads["B2"]}
