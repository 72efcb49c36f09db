"""Touches imported by visitor id: each new visitor key becomes one visitor, first seen at its
earliest touch in the file; a key already stored is reused (and moved back to an earlier touch);
rows without a key have no visitor; and the same file again changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from closedloop.db import unit_of_work
from closedloop.marketing.models import Touchpoint, Visitor

LEADS = [["external_id", "email", "first_name", "created_at"], ["A1", "ann@example.com", "Ann", "2025-01-02"]]
# chunk_rows=2: rows 2-3 | 4-5 | 6-7; v-new appears in two chunks, its earliest touch in the second.
TOUCHES = [
    ["external_id", "visitor_id", "lead_external_id", "occurred_at", "type", "utm_source"],
    ["T1", "v-new", "", "2025-03-05 09:00", "page_view", "google"],
    ["T2", "v-old", "", "2025-03-02 09:00", "page_view", ""],
    ["T3", "v-new", "", "2025-03-01 09:00", "ad_click", "facebook"],
    ["T4", "", "A1", "2025-03-03 09:00", "page_view", ""],
    ["T5", "v-other", "A1", "2025-03-04 09:00", "page_view", "line"],
    ["T6", "v-late", "", "2025-03-06 09:00", "page_view", ""],
]


def test_visitor_keys_become_visitors_once(store, run_file, csv_file) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    with unit_of_work(store.session_factory) as session:
        session.add(Visitor(visitor_key="v-old", first_seen_at=datetime(2025, 1, 1, tzinfo=UTC)))
        session.add(Visitor(visitor_key="v-late", first_seen_at=datetime(2025, 6, 1, tzinfo=UTC)))
    path = csv_file("touches.csv", TOUCHES)
    report = run_file("touchpoints", path, chunk_rows=2)
    assert (report.status, report.inserted) == ("done", 6)
    with store.session() as session:
        visitors = {v.visitor_key: v for v in session.scalars(select(Visitor))}
        assert sorted(visitors) == ["v-late", "v-new", "v-old", "v-other"]
        assert visitors["v-new"].first_seen_at == datetime(2025, 3, 1, 1, 0, tzinfo=UTC)  # Taipei 09:00
        assert visitors["v-old"].first_seen_at == datetime(2025, 1, 1, tzinfo=UTC)
        assert visitors["v-late"].first_seen_at == datetime(2025, 3, 6, 1, 0, tzinfo=UTC)
        keys = {v.id: key for key, v in visitors.items()}
        linked = dict(session.execute(select(Touchpoint.external_id, Touchpoint.visitor_id)).all())
        assert {t: keys.get(v) for t, v in linked.items()} == {
            "T1": "v-new", "T2": "v-old", "T3": "v-new", "T4": None, "T5": "v-other", "T6": "v-late",
        }  # fmt: skip
    again = run_file("touchpoints", path, chunk_rows=2)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 6)
    with store.session() as session:
        assert len(session.scalars(select(Visitor)).all()) == 4
