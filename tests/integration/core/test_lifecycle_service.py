"""Stage changes write their lifecycle events and audit row together, or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from closedloop.audit.models import AuditLog
from closedloop.clock import fixed_clock
from closedloop.db import unit_of_work
from closedloop.errors import InvalidTransition
from closedloop.leads import service as lead_service
from closedloop.leads.lifecycle import EventView, Stage, reaches
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.users.actor import Actor

NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
SALES = Actor(user_id=None, role="sales", via="api")
MANAGER = Actor(user_id=None, role="manager", via="web")


def _new_lead(store, source_type: str = "inbound") -> int:
    with unit_of_work(store.session_factory) as session:
        lead = Lead(email=f"{source_type}@example.com", source_type=source_type, created_at=NOW)
        session.add(lead)
        session.flush()
        session.add(LifecycleEvent(lead_id=lead.id, to_stage="lead", occurred_at=NOW))
        return lead.id


def _events(store, lead_id: int) -> list[tuple[str | None, str, bool]]:
    with store.session() as session:
        rows = session.execute(
            select(LifecycleEvent.from_stage, LifecycleEvent.to_stage, LifecycleEvent.implied)
            .where(LifecycleEvent.lead_id == lead_id)
            .order_by(LifecycleEvent.id)
        ).all()
    return [tuple(r) for r in rows]


def test_outbound_skip_writes_implied_events_and_one_audit_row(store) -> None:
    lead_id = _new_lead(store, "outbound")
    later = NOW + timedelta(days=2)
    with unit_of_work(store.session_factory) as session:
        lead = lead_service.get_lead(session=session, lead_id=lead_id)
        lead_service.change_stage(
            session=session,
            lead=lead,
            to_stage=Stage.SQL,
            actor=SALES,
            occurred_at=later,
            clock=fixed_clock(later),
        )
    assert _events(store, lead_id) == [
        (None, "lead", False),
        ("lead", "mql", True),
        ("lead", "sal", True),
        ("lead", "sql", False),
    ]
    with store.session() as session:
        assert session.get(Lead, lead_id).stage == "sql"
        audits = session.scalars(select(AuditLog).where(AuditLog.entity_id == str(lead_id))).all()
    assert [(a.action, a.before, a.after["stage"]) for a in audits] == [
        ("lead.stage_changed", {"stage": "lead"}, "sql")
    ]


def test_a_refused_change_writes_nothing(store) -> None:
    lead_id = _new_lead(store, "inbound")
    with pytest.raises(InvalidTransition), unit_of_work(store.session_factory) as session:
        lead = lead_service.get_lead(session=session, lead_id=lead_id)
        lead_service.change_stage(session=session, lead=lead, to_stage="sql", actor=SALES)
    assert _events(store, lead_id) == [(None, "lead", False)]
    with store.session() as session:
        assert session.get(Lead, lead_id).stage == "lead"
        assert session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_recycle_and_reentry_keep_every_entry_and_the_first_reach(store) -> None:
    lead_id = _new_lead(store)
    steps = [("mql", None), ("recycled", "no_response"), ("mql", None), ("sal", None)]
    for day, (stage, reason) in enumerate(steps, start=1):
        at = NOW + timedelta(days=day)
        with unit_of_work(store.session_factory) as session:
            lead = lead_service.get_lead(session=session, lead_id=lead_id)
            lead_service.change_stage(
                session=session, lead=lead, to_stage=stage, reason=reason, actor=SALES, occurred_at=at
            )
    assert [e[1] for e in _events(store, lead_id)] == ["lead", "mql", "recycled", "mql", "sal"]
    with store.session() as session:
        events = session.scalars(select(LifecycleEvent).where(LifecycleEvent.lead_id == lead_id)).all()
        got = reaches(EventView(e.to_stage, e.occurred_at, e.implied) for e in events)
    assert got[Stage.MQL].at == NOW + timedelta(days=1)
    assert got[Stage.SAL].at == NOW + timedelta(days=4)


def test_voiding_an_event_keeps_it_but_it_counts_for_nothing(store) -> None:
    lead_id = _new_lead(store)
    with unit_of_work(store.session_factory) as session:
        lead = lead_service.get_lead(session=session, lead_id=lead_id)
        (mql,) = lead_service.change_stage(
            session=session, lead=lead, to_stage="mql", actor=SALES, occurred_at=NOW + timedelta(hours=1)
        )
        mql_id = mql.id
    with pytest.raises(InvalidTransition), unit_of_work(store.session_factory) as session:
        lead_service.void_event(session=session, event_id=mql_id, actor=SALES, reason="wrong lead")
    with unit_of_work(store.session_factory) as session:
        lead_service.void_event(session=session, event_id=mql_id, actor=MANAGER, reason="wrong lead")
    with store.session() as session:
        assert session.get(Lead, lead_id).stage == "lead"
        events = session.scalars(select(LifecycleEvent).where(LifecycleEvent.lead_id == lead_id)).all()
        voided = {e.voids_id for e in events if e.voids_id}
        got = reaches(EventView(e.to_stage, e.occurred_at, e.implied, e.id in voided) for e in events)
    assert mql_id in voided and len(events) == 3
    assert Stage.MQL not in got
