"""SLA breaches: first responses as activities are recorded, and the worker's detection job.

A breach is escalated once to the team's managers through the outbox (topic `sla.breached`,
kind `first_response` or `accept`, idempotency key per hand-off and kind), in the same
transaction that marks it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, cast, literal, select
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.handoffs.models import Handoff
from closedloop.outbox import service as outbox
from closedloop.outbox.models import OutboxMessage
from closedloop.users.actor import Actor
from closedloop.users.models import User
from closedloop.workspace.calendar import business_hours_between, calendar_for_team

LIVE_STATUSES = ("open", "accepted")
# Deadlines passed longer ago than this are marked but not escalated.
ESCALATION_WINDOW = timedelta(days=7)


def record_response(
    session: Session, *, lead_id: int, recorded_at: datetime, clock: Clock = system_clock
) -> None:
    """A sales activity was logged: it is the first response of any live hand-off still waiting for one."""
    waiting = session.scalars(
        select(Handoff).where(
            Handoff.lead_id == lead_id,
            Handoff.status.in_(LIVE_STATUSES),
            Handoff.first_response_at.is_(None),
            Handoff.assigned_at <= recorded_at,
        )
    )
    for handoff in waiting:
        calendar, _ = calendar_for_team(session, handoff.team_id)
        handoff.first_response_at = recorded_at
        handoff.response_business_hours = round(
            business_hours_between(calendar, handoff.assigned_at, recorded_at), 6
        )
        handoff.sla_met = handoff.sla_due_at is None or recorded_at <= handoff.sla_due_at
        if not handoff.sla_met and handoff.breached_at is None:
            _breach(session, handoff, "first_response", clock)


def _breach(session: Session, handoff: Handoff, kind: str, clock: Clock) -> bool:
    """Mark a breach and escalate it to the team manager through the outbox; False if already escalated."""
    key = f"sla.breached:{kind}:{handoff.id}"
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)) is not None:
        return False
    if kind == "first_response":
        handoff.breached_at = handoff.sla_due_at
        handoff.sla_met = False
    team_id = handoff.team_id
    if team_id is None and handoff.owner_id is not None:
        team_id = session.scalar(select(User.team_id).where(User.id == handoff.owner_id))
    # A team's managers are its active users with the manager role.
    managers = (
        list(
            session.scalars(
                select(User.id)
                .where(User.team_id == team_id, User.role == "manager", User.is_active.is_(True))
                .order_by(User.id)
            )
        )
        if team_id
        else []
    )
    due = handoff.sla_due_at if kind == "first_response" else handoff.accept_due_at
    outbox.enqueue(
        session,
        topic="sla.breached",
        idempotency_key=key,
        clock=clock,
        payload={
            "handoff_id": handoff.id,
            "lead_id": handoff.lead_id,
            "owner_id": handoff.owner_id,
            "team_id": team_id,
            "manager_ids": managers,
            "user_ids": managers,  # the notification audience: the managers it escalates to
            "kind": kind,
            "due_at": due,
        },
    )
    return True


def detect_breaches(
    session: Session,
    clock: Clock = system_clock,
    *,
    actor: Actor | None = None,
    escalate_within: timedelta = ESCALATION_WINDOW,
) -> list[int]:
    """The worker's job: mark hand-offs past their deadlines and escalate each once; returns their ids.

    Every late first response is marked; only deadlines passed within `escalate_within` are
    escalated, so loading old history (imports, the demo) never pages a manager about last year.
    """
    from closedloop.users.actor import system_actor

    now = clock()
    recent = now - escalate_within
    late_response = list(
        session.scalars(
            select(Handoff)
            .where(
                Handoff.status.in_(LIVE_STATUSES),
                Handoff.first_response_at.is_(None),
                Handoff.breached_at.is_(None),
                Handoff.sla_due_at <= now,
            )
            .order_by(Handoff.id)
        )
    )
    for handoff in late_response:
        if handoff.sla_due_at is not None and handoff.sla_due_at >= recent:
            _breach(session, handoff, "first_response", clock)
        else:
            handoff.breached_at, handoff.sla_met = handoff.sla_due_at, False
    escalated = select(OutboxMessage.id).where(
        OutboxMessage.idempotency_key == literal("sla.breached:accept:") + cast(Handoff.id, String)
    )
    undecided = [
        handoff
        for handoff in session.scalars(
            select(Handoff)
            .where(
                Handoff.status == "open",
                Handoff.accept_due_at <= now,
                Handoff.accept_due_at >= recent,
                ~escalated.exists(),
            )
            .order_by(Handoff.id)
        )
        if _breach(session, handoff, "accept", clock)
    ]
    session.flush()
    breached = sorted({h.id for h in late_response} | {h.id for h in undecided})
    if breached:
        audit_service.record(
            session,
            actor=actor or system_actor("worker"),
            action="sla.breaches_detected",
            entity_type="handoff",
            after={"first_response": [h.id for h in late_response], "accept": [h.id for h in undecided]},
            clock=clock,
        )
    return breached
