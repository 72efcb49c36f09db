"""SLA breaches: first responses as activities are recorded, and the worker's detection job.

A breach is escalated once to the team's managers through the outbox (topic `sla.breached`,
kind `first_response` or `accept`, idempotency key per hand-off and kind), in the same
transaction that marks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import String, cast, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

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
    ).all()
    late = []
    for handoff in waiting:
        calendar, _ = calendar_for_team(session, handoff.team_id)
        handoff.first_response_at = recorded_at
        handoff.response_business_hours = round(
            business_hours_between(calendar, handoff.assigned_at, recorded_at), 6
        )
        handoff.sla_met = handoff.sla_due_at is None or recorded_at <= handoff.sla_due_at
        if not handoff.sla_met and handoff.breached_at is None:
            handoff.breached_at = handoff.sla_due_at
            late.append(handoff)
    _escalate(session, late, "first_response", clock)


def _escalate(session: Session, handoffs: Sequence[Handoff], kind: str, clock: Clock) -> list[Handoff]:
    """Write one `sla.breached` message per hand-off not escalated before; returns those escalated."""
    if not handoffs:
        return []
    owner_ids = {h.owner_id for h in handoffs if h.team_id is None and h.owner_id is not None}
    owner_teams: dict[int, int | None] = {}
    if owner_ids:
        rows = session.execute(select(User.id, User.team_id).where(User.id.in_(owner_ids))).all()
        owner_teams = {user_id: team_id for user_id, team_id in rows}
    team_of = {
        h.id: h.team_id if h.team_id is not None else owner_teams.get(h.owner_id or 0) for h in handoffs
    }
    managers: dict[int, list[int]] = {}
    team_ids = {t for t in team_of.values() if t is not None}
    if team_ids:
        # A team's managers are its active users with the manager role.
        for user_id, team_id in session.execute(
            select(User.id, User.team_id)
            .where(User.team_id.in_(team_ids), User.role == "manager", User.is_active.is_(True))
            .order_by(User.id)
        ):
            if team_id is not None:
                managers.setdefault(team_id, []).append(user_id)
    items = []
    for h in handoffs:
        team_id = team_of[h.id]
        audience = managers.get(team_id, []) if team_id is not None else []
        items.append(
            (
                f"sla.breached:{kind}:{h.id}",
                {
                    "handoff_id": h.id,
                    "lead_id": h.lead_id,
                    "owner_id": h.owner_id,
                    "team_id": team_id,
                    "manager_ids": audience,
                    "user_ids": audience,  # the notification audience: the managers it escalates to
                    "kind": kind,
                    "due_at": h.sla_due_at if kind == "first_response" else h.accept_due_at,
                },
            )
        )
    written = set(outbox.enqueue_many(session, topic="sla.breached", items=items, clock=clock))
    return [h for h in handoffs if f"sla.breached:{kind}:{h.id}" in written]


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
    late = (
        Handoff.status.in_(LIVE_STATUSES),
        Handoff.first_response_at.is_(None),
        Handoff.breached_at.is_(None),
        Handoff.sla_due_at <= now,
    )
    late_ids = list(session.scalars(select(Handoff.id).where(*late).order_by(Handoff.id)))
    to_escalate = session.scalars(select(Handoff).where(*late, Handoff.sla_due_at >= recent)).all()
    # One set-based UPDATE marks them all (a breach happens at its deadline).
    session.execute(
        update(Handoff)
        .where(*late)
        .values(breached_at=Handoff.sla_due_at, sla_met=False)
        .execution_options(synchronize_session=False)
    )
    marked = set(late_ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Handoff) and obj.id in marked:  # keep loaded objects in step with the row
            set_committed_value(obj, "breached_at", obj.sla_due_at)
            set_committed_value(obj, "sla_met", False)
    _escalate(session, to_escalate, "first_response", clock)
    escalated = select(OutboxMessage.id).where(
        OutboxMessage.idempotency_key == literal("sla.breached:accept:") + cast(Handoff.id, String)
    )
    undecided = _escalate(
        session,
        session.scalars(
            select(Handoff)
            .where(
                Handoff.status == "open",
                Handoff.accept_due_at <= now,
                Handoff.accept_due_at >= recent,
                ~escalated.exists(),
            )
            .order_by(Handoff.id)
        ).all(),
        "accept",
        clock,
    )
    session.flush()
    breached = sorted(set(late_ids) | {h.id for h in undecided})
    if breached:
        audit_service.record(
            session,
            actor=actor or system_actor("worker"),
            action="sla.breaches_detected",
            entity_type="handoff",
            after={"first_response": late_ids, "accept": [h.id for h in undecided]},
            clock=clock,
        )
    return breached
