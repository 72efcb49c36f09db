"""The forked reader (the CLI's, in a process with no other thread) and the reader thread (the
web server's) import a touchpoint file alike: the same rows written, the same row errors with
their row numbers, the same quarantine, and nothing written when a row fails without
--skip-invalid."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from closedloop.imports import service, touches
from closedloop.marketing.models import TOUCH_TYPES, Touchpoint
from closedloop.quarantine.models import QuarantinedRecord

LEADS = [["external_id", "email", "first_name", "created_at"], ["A1", "ann@example.com", "Ann", "2025-01-02"],
         ["B2", "ben@example.com", "Ben", "2025-01-02"]]  # fmt: skip
# chunk_rows=2: file rows 2-3 | 4-5 | 6-7 | 8
TOUCHES = [
    ["lead_email", "occurred_at", "type", "utm_source", "utm_medium"],
    ["ann@example.com", "2025-03-01 09:00", "page_view", "google", "cpc"],
    ["ben@example.com", "2025-03-02 09:00", "ad_click", "facebook", "paid_social"],
    ["ann@example.com", "not a date", "page_view", "google", "cpc"],
    ["nobody@example.com", "2025-03-03 09:00", "page_view", "", ""],
    ["ben@example.com", "2025-03-04 09:00", "page_view", "newsletter", "email"],
    ["ann@example.com", "2025-03-05 09:00", "teleport", "line", "message"],
    ["ben@example.com", "2025-03-06 09:00", "page_view", "bing", "organic"],
]
EXPECTED_ERRORS = [
    (4, "occurred_at", "not a date", "not a date/time"),
    (5, "lead_email", "nobody@example.com", "no lead with this identity (import the leads first)"),
    (7, "type", "teleport", f"not a touch type ({', '.join(TOUCH_TYPES)})"),
]  # fmt: skip


@pytest.fixture(params=[True, False], ids=["child", "thread"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Where the reader runs, chosen as `can_fork` would in a CLI process or a web server."""
    monkeypatch.setattr(service, "can_fork", lambda: request.param)
    return request.param


@pytest.fixture(params=[False, True], ids=["lead-queries", "lead-maps"])
def lead_maps(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether the file counts as big (SQLite): the reader then resolves the leads from maps and
    the forked one hands over only the rejected rows' raw cells."""
    if request.param:
        monkeypatch.setattr(touches, "DEFER_MIN_ROWS", 1)
        monkeypatch.setattr(touches, "ROW_BYTES_HIGH", 1)
    return request.param


def test_skip_invalid_imports_the_same_rows_and_errors_either_way(
    store, run_file, csv_file, reader, lead_maps
) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    report = run_file("touchpoints", csv_file("t.csv", TOUCHES), chunk_rows=2, skip_invalid=True)
    assert (report.status, report.inserted, report.rejected) == ("done", 4, 3)
    assert [(e.row, e.column, e.value, e.reason) for e in report.errors] == EXPECTED_ERRORS
    with store.session() as session:
        stored = session.execute(
            select(Touchpoint.utm_source, Touchpoint.channel).order_by(Touchpoint.occurred_at)
        )
        assert stored.all() == [("google", "Paid Search"), ("facebook", "Paid Social"), ("newsletter", "Email"),
                                ("bing", "Organic Search")]  # fmt: skip
        quarantined = session.execute(
            select(QuarantinedRecord.row_number, QuarantinedRecord.payload).order_by(
                QuarantinedRecord.row_number
            )
        )
        # Each with its own cells as in the file, for replay.
        header = TOUCHES[0]
        assert [(row, payload["values"]) for row, payload in quarantined] == [
            (row, dict(zip(header, TOUCHES[row - 1], strict=True))) for row in (4, 5, 7)
        ]


def test_an_invalid_row_without_skip_invalid_writes_nothing_either_way(
    store, run_file, csv_file, reader
) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    report = run_file("touchpoints", csv_file("t.csv", TOUCHES), chunk_rows=2)
    assert (report.status, report.inserted) == ("failed", 0)
    assert [e.row for e in report.errors] == [4, 5, 7]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Touchpoint)) == 0


def _big(monkeypatch: pytest.MonkeyPatch, big: bool) -> None:
    """Make every file count as big (SQLite: lead maps, keys made by the reader) or none."""
    monkeypatch.setattr(touches, "DEFER_MIN_ROWS", 1 if big else 10**12)
    monkeypatch.setattr(touches, "ROW_BYTES_HIGH", 1)


@pytest.mark.parametrize("first_big", [True, False], ids=["maps-then-queries", "queries-then-maps"])
def test_touch_keys_are_the_same_whichever_side_makes_them(
    store, run_file, csv_file, reader, monkeypatch, first_big
) -> None:
    """A big file's synthetic keys are made by the reader (no visitor column), a small one's by
    the importing process: the same keys, so re-importing the rows the other way changes nothing."""
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    good = [TOUCHES[0], *(row for number, row in enumerate(TOUCHES[1:], start=2) if number not in (4, 5, 7))]
    _big(monkeypatch, first_big)
    assert run_file("touchpoints", csv_file("t.csv", good), chunk_rows=2).inserted == 4
    with store.session() as session:
        first = session.scalars(select(Touchpoint.external_id).order_by(Touchpoint.external_id)).all()
    assert len(set(first)) == 4 and all(key.startswith("import:") for key in first)
    _big(monkeypatch, not first_big)
    again = run_file("touchpoints", csv_file("again.csv", [good[0], *reversed(good[1:])]), chunk_rows=2)
    assert (again.status, again.inserted, again.updated, again.unchanged) == ("done", 0, 0, 4)
    with store.session() as session:
        assert session.scalars(select(Touchpoint.external_id).order_by(Touchpoint.external_id)).all() == first
