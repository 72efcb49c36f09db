"""Touchpoint imports across several chunks: set-based lead lookups, idempotency, first-touch update."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update

from closedloop.audit.models import AuditLog
from closedloop.leads.models import Lead
from closedloop.marketing.models import Touchpoint

LEADS = [["external_id", "email", "first_name", "created_at"], ["A1", "ann@example.com", "Ann", "2025-01-02"],
         ["B2", "ben@example.com", "Ben", "2025-01-02"], ["C3", "cat@example.com", "Cat", "2025-01-02"]]  # fmt: skip
# Times are Asia/Taipei (UTC+8). chunk_rows=2 puts rows 2-3, 4-5 and 6-7 in three chunks.
TOUCHES = [
    ["lead_external_id", "lead_email", "occurred_at", "type", "utm_source", "utm_medium", "referrer"],
    ["A1", "", "2025-03-07 10:00", "page_view", "google", "cpc", ""],  # later than A's stored first touch
    ["", "BEN@example.com", "2025-03-10 08:00", "page_view", "newsletter", "email", ""],
    ["", "ann@example.com", "2025-03-01 09:30", "ad_click", "facebook", "paid_social", ""],  # A's new first
    ["B2", "", "2025-03-09 08:00", "page_view", "", "", "https://www.bing.com/"],  # B's first, a chunk later
    ["", "cat@example.com", "2025-03-20 12:00", "page_view", "", "", ""],
    ["A1", "", "2025-03-02 09:00", "page_view", "", "", ""],
]


def test_touches_in_several_chunks(store, run_file, csv_file) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    with store.session() as session:
        # A already has a first touch on 5 March 02:00 UTC; C's is earlier than its import touch.
        session.execute(update(Lead).values(first_touch_at=None, first_channel=None, first_utm_source=None))
        session.execute(update(Lead).where(Lead.external_id == "A1").values(
            first_touch_at=datetime(2025, 3, 5, 2, 0, tzinfo=UTC), first_channel="Email"))  # fmt: skip
        session.execute(update(Lead).where(Lead.external_id == "C3").values(
            first_touch_at=datetime(2025, 2, 1, tzinfo=UTC), first_channel="Referral"))  # fmt: skip
        session.commit()
    path = csv_file("touches.csv", TOUCHES)
    report = run_file("touchpoints", path, chunk_rows=2)
    assert (report.status, report.inserted, report.updated, report.unchanged) == ("done", 6, 0, 0)
    assert report.changed["leads"] == 2  # A (earlier touch on 1 March) and B (none before)
    with store.session() as session:
        firsts = {
            r.external_id: (r.first_touch_at, r.first_channel, r.first_utm_source, r.first_utm_medium,
                            r.first_campaign_id)
            for r in session.execute(
                select(Lead.external_id, Lead.first_touch_at, Lead.first_channel, Lead.first_utm_source,
                       Lead.first_utm_medium, Lead.first_campaign_id)
            )
        }  # fmt: skip
        # Blank cells are stored as NULL, not as "" or 0.
        assert firsts == {
            "A1": (datetime(2025, 3, 1, 1, 30, tzinfo=UTC), "Paid Social", "facebook", "paid_social", None),
            "B2": (datetime(2025, 3, 9, 0, 0, tzinfo=UTC), "Organic Search", None, None, None),
            "C3": (datetime(2025, 2, 1, tzinfo=UTC), "Referral", None, None, None),
        }
        ids = session.scalars(select(Touchpoint.external_id)).all()
        assert len(ids) == 6 and all(i.startswith("import:") and len(i) == 23 for i in ids)
    again = run_file("touchpoints", path, chunk_rows=3, force=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 6)
    assert "leads" not in again.changed
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Touchpoint)) == 6


def test_changed_rows_update_their_touch_and_are_audited(store, run_file, csv_file) -> None:
    assert run_file("leads", csv_file("leads.csv", LEADS)).status == "done"
    header = ["external_id", "lead_external_id", "occurred_at", "type", "utm_source", "utm_medium"]
    rows = [["T1", "A1", "2025-03-01 10:00", "page_view", "google", "cpc"],
            ["T2", "B2", "2025-03-02 10:00", "page_view", "", ""],
            ["T3", "C3", "2025-03-03 10:00", "webinar", "", ""]]  # fmt: skip
    assert run_file("touchpoints", csv_file("t1.csv", [header, *rows]), chunk_rows=2).inserted == 3
    rows[0][4:6] = ["facebook", "paid_social"]  # source and medium change, so does the derived channel
    rows[1][3] = "ad_click"  # only the type changes
    report = run_file("touchpoints", csv_file("t2.csv", [header, *rows]), chunk_rows=2)
    assert (report.inserted, report.updated, report.unchanged) == (0, 2, 1)
    with store.session() as session:
        touches = {t.external_id: t for t in session.scalars(select(Touchpoint))}
        assert (touches["T1"].utm_source, touches["T1"].utm_medium, touches["T1"].channel) == (
            "facebook", "paid_social", "Paid Social")  # fmt: skip
        assert (touches["T2"].type, touches["T3"].type) == ("ad_click", "webinar")
        audits = session.scalars(select(AuditLog).where(AuditLog.action == "touchpoint.updated")).all()
        changes = {a.entity_id: (a.before, a.after) for a in audits}
        assert changes[str(touches["T2"].id)] == ({"type": "page_view"}, {"type": "ad_click"})
        before, after = changes[str(touches["T1"].id)]
        assert (before["utm_source"], after["utm_source"], after["utm_medium"]) == (
            "google",
            "facebook",
            "paid_social",
        )
        assert len(audits) == 2
