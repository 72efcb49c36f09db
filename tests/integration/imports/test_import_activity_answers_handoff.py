"""An imported call answers a waiting hand-off at its recorded (import) time, like one logged by a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from closedloop.clock import fixed_clock
from closedloop.db import unit_of_work
from closedloop.handoffs.models import Handoff
from closedloop.imports.service import import_file
from closedloop.leads.models import Lead
from closedloop.users.actor import system_actor

IMPORTED_AT = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)  # Monday 10:00 in Taipei


def test_imported_call_is_the_first_response_and_back_dating_cannot_pass(store, tmp_path) -> None:
    with unit_of_work(store.session_factory) as session:
        answered = Lead(email="answered@example.com", stage="mql")
        noted = Lead(email="noted@example.com", stage="mql")
        session.add_all([answered, noted])
        session.flush()
        assigned = IMPORTED_AT - timedelta(days=3)  # Friday 10:00 Taipei
        for lead in (answered, noted):
            session.add(
                Handoff(lead_id=lead.id, assigned_at=assigned, sla_due_at=assigned + timedelta(hours=4))
            )
    path = tmp_path / "activities.csv"
    path.write_text(
        "external_id,lead_email,type,occurred_at,notes\n"
        # Back-dated to within the SLA, but recorded now: it does not pass the SLA.
        "a1,answered@example.com,call,2026-05-01 11:00,called back\n"
        "a2,noted@example.com,note,2026-05-01 11:00,internal note only\n",
        encoding="utf-8",
    )
    report = import_file(
        session_factory=store.session_factory,
        kind="activities",
        path=path,
        actor=system_actor("import"),
        clock=fixed_clock(IMPORTED_AT),
    )
    assert report.status != "failed"
    with store.session() as session:
        by_email = {
            email: session.query(Handoff)
            .join(Lead, Lead.id == Handoff.lead_id)
            .filter(Lead.email == email)
            .one()
            for email in ("answered@example.com", "noted@example.com")
        }
    call = by_email["answered@example.com"]
    assert call.first_response_at == IMPORTED_AT
    assert call.sla_met is False
    # Friday 10:00-18:00 (8 h) + Monday 09:00-10:00 (1 h) of the default Mon-Fri 09:00-18:00 calendar.
    assert call.response_business_hours == 9.0
    assert by_email["noted@example.com"].first_response_at is None  # a note is not contact with the lead
