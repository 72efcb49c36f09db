"""Re-importing the same generated file leaves every table identical (property test)."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from closedloop.db import Base

_counter = itertools.count()
NAMES = st.sampled_from(["Amy", "Ben", "陳", "Lee", ""])
STAMPS = st.sampled_from(["2025-01-02", "114/01/03 下午 02:00", "2025-01-04T09:00:00+08:00", "1/5/2025"])
SOURCES = st.sampled_from([("", ""), ("google", "cpc"), ("newsletter", "email"), ("line", "message")])
LEAD = st.tuples(st.integers(0, 6), NAMES, STAMPS, SOURCES, st.sampled_from(["", "2025-02-01"]))
TOUCH = st.tuples(st.integers(0, 6), STAMPS, SOURCES, st.sampled_from(["page_view", "ad_click", ""]))


def _snapshot(store) -> dict[str, list[tuple]]:
    with store.engine.connect() as conn:
        out = {}
        for table in Base.metadata.sorted_tables:
            order = ", ".join(c.name for c in table.primary_key.columns) or "1"
            out[table.name] = [
                tuple(r) for r in conn.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}'))
            ]
        return out


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    leads=st.lists(LEAD, min_size=1, max_size=8, unique_by=lambda lead: lead[0]),
    touches=st.lists(TOUCH, max_size=12),
)
def test_same_file_twice_changes_nothing(store, run_file, tmp_path, leads, touches) -> None:
    n = next(_counter)
    lead_rows = [["external_id", "email", "first_name", "created_at", "utm_source", "utm_medium", "mql_at"]]
    lead_rows += [
        [f"X{i}", f"p{i}@example.com", name, at, src, med, mql] for i, name, at, (src, med), mql in leads
    ]
    touch_rows = [["lead_external_id", "occurred_at", "utm_source", "utm_medium", "type"]]
    known = {row[0] for row in lead_rows[1:]}
    touch_rows += [[f"X{i}", at, src, med, kind] for i, at, (src, med), kind in touches if f"X{i}" in known]
    lead_file = _write(tmp_path / f"leads_{n}.csv", lead_rows)
    touch_file = _write(tmp_path / f"touches_{n}.csv", touch_rows)
    run_file("leads", lead_file)
    run_file("touchpoints", touch_file)
    before = _snapshot(store)
    assert run_file("leads", lead_file).status == "unchanged"
    assert run_file("touchpoints", touch_file).status == "unchanged"
    assert _snapshot(store) == before
    # Forced through the whole pipeline again: only a new job row per import, nothing else moves.
    forced = [run_file("leads", lead_file, force=True), run_file("touchpoints", touch_file, force=True)]
    assert all(r.inserted == 0 and r.updated == 0 for r in forced)
    after = _snapshot(store)
    assert len(after["import_jobs"]) == len(before["import_jobs"]) + 2
    assert {k: v for k, v in after.items() if k != "import_jobs"} == {
        k: v for k, v in before.items() if k != "import_jobs"}  # fmt: skip
