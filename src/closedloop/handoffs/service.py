"""Hand-offs: an MQL routed to a sales owner under an SLA clock, and sales' answer to it.

Every function is one action in the caller's transaction: it flushes, writes its audit row
(and outbox messages), and leaves the commit to the unit of work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from closedloop.accounts.models import Account
from closedloop.audit import service as audit_service
from closedloop.audit.service import snapshot
from closedloop.clock import Clock, system_clock
from closedloop.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from closedloop.handoffs import quality, routing, sla
from closedloop.handoffs.breaches import LIVE_STATUSES, detect_breaches, record_response
from closedloop.handoffs.models import REJECTION_REASONS, DataQualityHold, Handoff
from closedloop.i18n import translate
from closedloop.leads import service as lead_service
from closedloop.leads.lifecycle import Stage
from closedloop.leads.models import Lead
from closedloop.outbox import service as outbox
from closedloop.policies.service import payload_in_force
from closedloop.users.actor import Actor
from closedloop.users.models import Team, User
from closedloop.workspace.calendar import calendar_for_team

__all__ = [
    "accept",
    "detect_breaches",
    "hand_off",
    "promote_to_mql",
    "qualify",
    "recheck_holds",
    "record_response",
    "recycle",
    "reenter",
    "reject",
]

# Rejections that say the lead was never a fit: disqualified. The others go back to nurture.
DISQUALIFYING_REASONS = frozenset({"wrong_fit", "duplicate", "student_or_job_seeker", "competitor", "spam"})
REENTRY_STAGES = (Stage.LEAD.value, Stage.RECYCLED.value, Stage.LOST.value)


def get_handoff(session: Session, handoff_id: int) -> Handoff:
    """The hand-off with this id, or NotFound."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound(translate("handoff.error.not_found", id=handoff_id))
    return handoff


def promote_to_mql(
    *,
    session: Session,
    lead: Lead,
    trigger: str,
    actor: Actor,
    clock: Clock = system_clock,
    scoring_version_id: int | None = None,
) -> Handoff | DataQualityHold:
    """Make the lead an MQL and hand it off, unless the data-quality gate holds it back."""
    if lead.stage not in REENTRY_STAGES:
        raise InvalidTransition(translate("handoff.error.not_promotable", stage=lead.stage))
    now = clock()
    gate_payload, gate_version_id = payload_in_force(session, "quality_gate", now, quality.DEFAULT_GATE)
    problems = quality.check(quality.parse_gate(gate_payload), lead, quality.likely_duplicates(session, lead))
    if problems:
        before = quality.open_hold(session, lead.id)
        before_reasons = list(before.reasons) if before is not None else None
        entry = quality.hold(
            session, lead=lead, problems=problems, trigger=trigger, at=now, policy_version_id=gate_version_id
        )
        session.flush()
        if before_reasons == entry.reasons:  # still waiting for the same data: nothing new to record
            return entry
        audit_service.record(
            session,
            actor=actor,
            action="lead.held_for_data",
            entity_type="lead",
            entity_id=lead.id,
            after={"reasons": entry.reasons, "trigger": trigger},
            clock=clock,
        )
        return entry
    existing = quality.open_hold(session, lead.id)
    if existing is not None:
        existing.released_at = now
        existing.checked_at = now
    lead_service.change_stage(
        session=session,
        lead=lead,
        to_stage=Stage.MQL,
        actor=actor,
        source="rule",
        reason=trigger[:64],
        policy_version_id=scoring_version_id,
        clock=clock,
    )
    return hand_off(session=session, lead=lead, actor=actor, clock=clock)


def hand_off(*, session: Session, lead: Lead, actor: Actor, clock: Clock = system_clock) -> Handoff:
    """Route an MQL to a sales owner under the routing policy and start its SLA clock."""
    now = clock()
    routing_payload, routing_version_id = payload_in_force(session, "routing", now, routing.DEFAULT_ROUTING)
    sla_payload, sla_version_id = payload_in_force(session, "sla", now, sla.DEFAULT_SLA)
    decision = _decide(session, routing.parse_routing(routing_payload), lead)
    calendar, _ = calendar_for_team(session, decision.team_id)
    sla_policy = sla.parse_sla(sla_payload)
    due = sla.deadlines(sla_policy, calendar, now)
    handoff = Handoff(
        lead_id=lead.id,
        owner_id=decision.owner_id,
        team_id=decision.team_id,
        assigned_at=now,
        recorded_at=now,
        status="open",
        sla_due_at=due.response_due_at,
        accept_due_at=due.accept_due_at,
        attempts_due_at=due.attempts_due_at,
        attempts_required=sla_policy.attempts,
        sla_policy_version_id=sla_version_id,
        routing_policy_version_id=routing_version_id,
    )
    session.add(handoff)
    lead.owner_id = decision.owner_id if decision.owner_id is not None else lead.owner_id
    lead.team_id = decision.team_id if decision.team_id is not None else lead.team_id
    session.flush()
    outbox.enqueue(
        session,
        topic="handoff.assigned",
        idempotency_key=f"handoff.assigned:{handoff.id}",
        clock=clock,
        payload={
            "handoff_id": handoff.id,
            "lead_id": lead.id,
            "owner_id": handoff.owner_id,
            "team_id": handoff.team_id,
            "sla_due_at": handoff.sla_due_at,
            "routed_by": decision.why,
        },
    )
    audit_service.record(
        session,
        actor=actor,
        action="handoff.created",
        entity_type="handoff",
        entity_id=handoff.id,
        after={**snapshot(handoff), "routed_by": decision.why},
        clock=clock,
    )
    return handoff


def _decide(session: Session, policy: routing.Routing, lead: Lead) -> routing.Decision:
    """Gather the routing facts from the store and let the pure rules decide."""
    facts = {key: getattr(lead, key) for key in routing.RULE_KEYS}
    owner_id = (
        session.scalar(select(Account.owner_id).where(Account.id == lead.account_id))
        if lead.account_id
        else None
    )
    team_name, _ = routing.team_for(policy, facts)
    team = session.scalars(select(Team).where(Team.name == team_name)).first() if team_name else None
    user_ids = [u for u in (owner_id,) if u is not None]
    members = (
        list(session.scalars(select(User).where(User.team_id == team.id, User.role == "sales")))
        if team
        else []
    )
    user_ids += [m.id for m in members]
    loads = _loads(session, user_ids)
    account_owner = None
    if owner_id is not None:
        user = session.get(User, owner_id)
        if user is not None:
            account_owner = _candidate(user, loads)
    teams = {team.name: (team.id, [_candidate(m, loads) for m in members])} if team else {}
    return routing.route(policy, facts, account_owner=account_owner, teams=teams)


def _loads(session: Session, user_ids: list[int]) -> dict[int, tuple[int, datetime | None]]:
    """Per owner: open (undecided) hand-offs now, and when they were last handed a lead."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(
            Handoff.owner_id,
            func.count().filter(Handoff.status == "open"),
            func.max(Handoff.assigned_at),
        )
        .where(Handoff.owner_id.in_(user_ids))
        .group_by(Handoff.owner_id)
    ).all()
    return {int(owner): (int(open_count), last) for owner, open_count, last in rows if owner is not None}


def _candidate(user: User, loads: dict[int, tuple[int, datetime | None]]) -> routing.Candidate:
    open_count, last = loads.get(user.id, (0, None))
    return routing.Candidate(
        user_id=user.id,
        team_id=user.team_id,
        active=user.is_active,
        open_handoffs=open_count,
        capacity=user.capacity,
        last_assigned_at=last,
    )


def _claim(
    session: Session, handoff: Handoff, lead: Lead, statuses: tuple[str, ...], **values: object
) -> None:
    """Change the hand-off only if it and its lead are still as we read them; else Conflict.

    A guarded UPDATE takes the row locks, so two people answering the same hand-off at once
    give one change and one Conflict on SQLite and PostgreSQL alike, never two events.
    """
    claimed = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status.in_(statuses))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    still = session.execute(
        update(Lead)
        .where(Lead.id == lead.id, Lead.stage == lead.stage)
        .values(stage=lead.stage)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(claimed) != 1 or _rowcount(still) != 1:
        raise Conflict(translate("handoff.error.conflict", id=handoff.id))
    for key, value in values.items():
        setattr(handoff, key, value)


def _rowcount(result: object) -> int:
    """Rows an UPDATE matched (a CursorResult; typed loosely by Session.execute)."""
    return int(getattr(result, "rowcount", 0))


def accept(*, session: Session, handoff_id: int, actor: Actor, clock: Clock = system_clock) -> Handoff:
    """Sales accepts the hand-off: the lead becomes an SAL."""
    handoff = _open(session, handoff_id)
    lead = lead_service.get_lead(session=session, lead_id=handoff.lead_id)
    now = clock()
    _claim(session, handoff, lead, ("open",), status="accepted", accepted_at=now)
    lead_service.change_stage(session=session, lead=lead, to_stage=Stage.SAL, actor=actor, clock=clock)
    if handoff.owner_id is None and actor.user_id is not None:
        handoff.owner_id = lead.owner_id = actor.user_id
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="handoff.accepted",
        entity_type="handoff",
        entity_id=handoff.id,
        before={"status": "open"},
        after={"status": "accepted", "accepted_at": now},
        clock=clock,
    )
    return handoff


def reject(
    *,
    session: Session,
    handoff_id: int,
    reason: str,
    actor: Actor,
    text: str | None = None,
    to_stage: str | None = None,
    clock: Clock = system_clock,
) -> Handoff:
    """Sales rejects the hand-off with a reason code: back to nurture, or disqualified."""
    if reason not in REJECTION_REASONS:
        raise ValidationFailed(
            translate("handoff.error.reason", reason=reason, reasons=", ".join(REJECTION_REASONS)),
            detail={"field": "reason"},
        )
    if reason == "other" and not (text and text.strip()):
        raise ValidationFailed(translate("handoff.error.other_text"), detail={"field": "text"})
    target = to_stage or (
        Stage.DISQUALIFIED.value if reason in DISQUALIFYING_REASONS else Stage.RECYCLED.value
    )
    if target not in (Stage.RECYCLED.value, Stage.DISQUALIFIED.value):
        raise ValidationFailed(
            translate("handoff.error.reject_stage", stage=target), detail={"field": "to_stage"}
        )
    handoff = _open(session, handoff_id)
    lead = lead_service.get_lead(session=session, lead_id=handoff.lead_id)
    now = clock()
    _claim(
        session,
        handoff,
        lead,
        ("open",),
        status="rejected",
        rejected_at=now,
        rejection_reason=reason,
        rejection_text=text,
    )
    lead_service.change_stage(
        session=session, lead=lead, to_stage=target, actor=actor, reason=reason, reason_text=text, clock=clock
    )
    if reason == "spam":
        lead.is_spam = True
    session.flush()
    outbox.enqueue(
        session,
        topic="handoff.rejected",
        idempotency_key=f"handoff.rejected:{handoff.id}",
        clock=clock,
        payload={"handoff_id": handoff.id, "lead_id": lead.id, "reason": reason, "to_stage": target},
    )
    audit_service.record(
        session,
        actor=actor,
        action="handoff.rejected",
        entity_type="handoff",
        entity_id=handoff.id,
        before={"status": "open"},
        after={"status": "rejected", "reason": reason, "text": text, "lead_stage": target},
        clock=clock,
    )
    return handoff


def qualify(*, session: Session, handoff_id: int, actor: Actor, clock: Clock = system_clock) -> Handoff:
    """Sales confirms need, budget, authority and timing: the lead becomes an SQL."""
    handoff = get_handoff(session, handoff_id)
    if handoff.status not in LIVE_STATUSES:
        raise InvalidTransition(translate("handoff.error.closed", id=handoff.id, status=handoff.status))
    lead = lead_service.get_lead(session=session, lead_id=handoff.lead_id)
    now = clock()
    before = {"status": handoff.status}
    # Qualifying straight from an MQL accepts the hand-off at the same moment.
    accepted_at = now if handoff.status == "open" else handoff.accepted_at
    _claim(session, handoff, lead, (handoff.status,), status="accepted", accepted_at=accepted_at)
    lead_service.change_stage(session=session, lead=lead, to_stage=Stage.SQL, actor=actor, clock=clock)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="handoff.qualified",
        entity_type="handoff",
        entity_id=handoff.id,
        before=before,
        after={"status": handoff.status, "lead_stage": Stage.SQL.value},
        clock=clock,
    )
    return handoff


def recycle(
    *,
    session: Session,
    lead_id: int,
    reason: str,
    actor: Actor,
    text: str | None = None,
    clock: Clock = system_clock,
) -> Lead:
    """Send a stalled lead back to nurture with a reason; its live hand-off closes."""
    lead = lead_service.get_lead(session=session, lead_id=lead_id)
    lead_service.change_stage(
        session=session,
        lead=lead,
        to_stage=Stage.RECYCLED,
        actor=actor,
        reason=reason,
        reason_text=text,
        clock=clock,
    )
    closed = []
    for handoff in session.scalars(
        select(Handoff).where(Handoff.lead_id == lead.id, Handoff.status.in_(LIVE_STATUSES))
    ):
        handoff.status = "closed"
        closed.append(handoff.id)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="lead.recycled",
        entity_type="lead",
        entity_id=lead.id,
        after={"reason": reason, "closed_handoffs": closed},
        clock=clock,
    )
    return lead


def reenter(
    *, session: Session, lead_id: int, actor: Actor, trigger: str = "reentry", clock: Clock = system_clock
) -> Handoff | DataQualityHold:
    """A recycled or lost lead comes back as an MQL (through the gate) and is handed off again."""
    lead = lead_service.get_lead(session=session, lead_id=lead_id)
    if lead.stage not in (Stage.RECYCLED.value, Stage.LOST.value):
        raise InvalidTransition(translate("handoff.error.not_reentry", stage=lead.stage))
    return promote_to_mql(session=session, lead=lead, trigger=trigger, actor=actor, clock=clock)


def recheck_holds(*, session: Session, actor: Actor, clock: Clock = system_clock) -> list[int]:
    """Re-run the gate for every lead in the needs-data list; returns the leads handed off."""
    released = []
    for entry in quality.needs_data(session, limit=10_000):
        lead = session.get(Lead, entry.lead_id)
        if lead is None or lead.stage not in REENTRY_STAGES:
            entry.released_at = clock()
            continue
        if isinstance(
            promote_to_mql(session=session, lead=lead, trigger=entry.trigger, actor=actor, clock=clock),
            Handoff,
        ):
            released.append(lead.id)
    session.flush()
    return released


def _open(session: Session, handoff_id: int) -> Handoff:
    handoff = get_handoff(session, handoff_id)
    if handoff.status != "open":
        raise InvalidTransition(translate("handoff.error.closed", id=handoff.id, status=handoff.status))
    return handoff


def list_handoffs(
    session: Session,
    *,
    status: str | None = None,
    team_id: int | None = None,
    owner_id: int | None = None,
    limit: int = 200,
) -> list[Handoff]:
    """Hand-offs, newest first, filtered by status, team or owner."""
    query = select(Handoff).order_by(Handoff.assigned_at.desc(), Handoff.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Handoff.status == status)
    if team_id is not None:
        query = query.where(Handoff.team_id == team_id)
    if owner_id is not None:
        query = query.where(Handoff.owner_id == owner_id)
    return list(session.scalars(query))
