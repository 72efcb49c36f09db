"""Touchpoint imports carry a custom event's name, and unknown columns become its properties."""

from __future__ import annotations

from sqlalchemy import select

from closedloop.marketing.models import Touchpoint

LEADS = [["external_id", "email", "created_at"], ["A1", "ann@example.com", "2025-01-02"]]
TOUCHES = [
    ["external_id", "lead_external_id", "occurred_at", "type", "event_name", "plan", "seats"],
    ["t1", "A1", "2025-03-07 10:00", "event", "trial_started", "pro", "12"],
    ["t2", "A1", "2025-03-08 10:00", "page_view", "", "", ""],
    ["t3", "A1", "2025-03-09 10:00", "event", "webinar_joined", "", "3"],
]


def _stored(store) -> dict:
    with store.session() as session:
        rows = session.execute(
            select(Touchpoint.external_id, Touchpoint.event_name, Touchpoint.properties)
        ).all()
    return {r.external_id: (r.event_name, r.properties) for r in rows}


def test_event_name_and_properties_import_and_reimport_unchanged(store, run_file, csv_file) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    path = csv_file("touches.csv", TOUCHES)
    dry = run_file("touchpoints", path, dry_run=True)
    assert dry.unknown_columns == ["plan", "seats"]
    report = run_file("touchpoints", path)
    assert (report.status, report.inserted) == ("done", 3)
    assert _stored(store) == {
        "t1": ("trial_started", {"plan": "pro", "seats": "12"}),
        "t2": (None, None),
        "t3": ("webinar_joined", {"seats": "3"}),
    }
    again = run_file("touchpoints", path, force=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    changed = [row[:] for row in TOUCHES]
    changed[3][5] = "enterprise"  # t3 gains a plan
    changed[1][4] = "trial_extended"
    report = run_file("touchpoints", csv_file("touches2.csv", changed))
    assert (report.inserted, report.updated, report.unchanged) == (0, 2, 1)
    stored = _stored(store)
    assert stored["t1"] == ("trial_extended", {"plan": "pro", "seats": "12"})
    assert stored["t3"] == ("webinar_joined", {"plan": "enterprise", "seats": "3"})


def test_too_long_event_name_is_a_row_error(store, run_file, csv_file) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    rows = [TOUCHES[0][:5], ["t9", "A1", "2025-03-07 10:00", "event", "x" * 101]]
    report = run_file("touchpoints", csv_file("long.csv", rows))
    assert report.status == "failed"
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (2, "event_name", "longer than 100 characters")
    ]
