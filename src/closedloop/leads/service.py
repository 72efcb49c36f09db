"""Lead operations: stage changes with their lifecycle events and audit rows, in one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.errors import InvalidTransition, NotFound
from closedloop.leads.lifecycle import Stage, check_transition, highest_main_stage, implied_stages
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.users.actor import Actor


def get_lead(*, session: Session, lead_id: int) -> Lead:
    """The lead with this id, or NotFound."""
    lead = session.get(Lead, lead_id)
    if lead is None or lead.merged_into_id is not None:
        raise NotFound(f"lead {lead_id} not found")
    return lead


def change_stage(
    *,
    session: Session,
    lead: Lead,
    to_stage: Stage | str,
    actor: Actor,
    occurred_at: datetime | None = None,
    reason: str | None = None,
    reason_text: str | None = None,
    source: str = "person",
    history: bool = False,
    policy_version_id: int | None = None,
    clock: Clock = system_clock,
) -> list[LifecycleEvent]:
    """Move `lead` to `to_stage`: check the rules, write the event (and implied ones), the audit row.

    Returns the events written, implied ones first. Nothing is written when the change is refused.
    """
    target = Stage(to_stage)
    check_transition(
        lead.stage,
        target,
        source_type=lead.source_type,
        reason=reason,
        actor_role=actor.role,
        history=history,
    )
    now = clock()
    at = occurred_at or now
    reached = session.scalars(
        select(LifecycleEvent.to_stage).where(
            LifecycleEvent.lead_id == lead.id,
            LifecycleEvent.id.not_in(
                select(LifecycleEvent.voids_id).where(
                    LifecycleEvent.lead_id == lead.id, LifecycleEvent.voids_id.is_not(None)
                )
            ),
        )
    ).all()
    before = {"stage": lead.stage}
    events = [
        LifecycleEvent(
            lead_id=lead.id,
            from_stage=lead.stage,
            to_stage=stage.value,
            occurred_at=at,
            recorded_at=now,
            by_user_id=actor.user_id,
            source=source,
            implied=True,
            policy_version_id=policy_version_id,
        )
        for stage in implied_stages(highest_main_stage(reached), target)
    ]
    events.append(
        LifecycleEvent(
            lead_id=lead.id,
            from_stage=lead.stage,
            to_stage=target.value,
            occurred_at=at,
            recorded_at=now,
            by_user_id=actor.user_id,
            source=source,
            reason=reason,
            reason_text=reason_text,
            policy_version_id=policy_version_id,
        )
    )
    session.add_all(events)
    lead.stage = target.value
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="lead.stage_changed",
        entity_type="lead",
        entity_id=lead.id,
        before=before,
        after={"stage": target.value, "occurred_at": at, "reason": reason, "events": [e.id for e in events]},
        clock=clock,
    )
    return events


def void_event(
    *, session: Session, event_id: int, actor: Actor, reason: str, clock: Clock = system_clock
) -> LifecycleEvent:
    """Void a lifecycle event with a correcting event; the original stays, counting for nothing."""
    original = session.get(LifecycleEvent, event_id)
    if original is None:
        raise NotFound(f"lifecycle event {event_id} not found")
    if session.scalar(select(LifecycleEvent.id).where(LifecycleEvent.voids_id == event_id)) is not None:
        raise InvalidTransition(f"lifecycle event {event_id} is already voided")
    if actor.role not in ("manager", "admin"):
        raise InvalidTransition("only a manager may void a lifecycle event")
    lead = get_lead(session=session, lead_id=original.lead_id)
    now = clock()
    correction = LifecycleEvent(
        lead_id=lead.id,
        from_stage=original.to_stage,
        to_stage=original.from_stage or Stage.LEAD.value,
        occurred_at=now,
        recorded_at=now,
        by_user_id=actor.user_id,
        source="correction",
        reason="correction",
        reason_text=reason,
        voids_id=original.id,
    )
    session.add(correction)
    before = {"stage": lead.stage}
    if lead.stage == original.to_stage:
        lead.stage = correction.to_stage
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="lifecycle_event.voided",
        entity_type="lead",
        entity_id=lead.id,
        before=before,
        after={"stage": lead.stage, "voided_event": original.id, "reason": reason},
        clock=clock,
    )
    return correction
