"""Sales activities (call, email, meeting, LINE, WeChat, note) on leads and deals.

`recorded_at` is server time (the injected clock), never the caller's `occurred_at`: a response
logged late and back-dated still counts when it was recorded, so back-dating cannot pass an SLA.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.audit.service import snapshot
from closedloop.clock import Clock, system_clock
from closedloop.deals.models import Deal
from closedloop.errors import NotFound, ValidationFailed
from closedloop.handoffs import breaches
from closedloop.handoffs.models import ACTIVITY_TYPES, RESPONSE_ACTIVITY_TYPES, Activity, Handoff
from closedloop.i18n import translate
from closedloop.users.actor import Actor


def log_activity(
    *,
    session: Session,
    type: str,
    actor: Actor,
    lead_id: int | None = None,
    deal_id: int | None = None,
    user_id: int | None = None,
    occurred_at: datetime | None = None,
    notes: str | None = None,
    external_id: str | None = None,
    clock: Clock = system_clock,
) -> Activity:
    """Log an activity; a response-type one answers the lead's hand-off (first response, attempts)."""
    if type not in ACTIVITY_TYPES:
        raise ValidationFailed(
            translate("activity.error.type", type=type, types=", ".join(ACTIVITY_TYPES)),
            detail={"field": "type"},
        )
    if lead_id is None and deal_id is None:
        raise ValidationFailed(translate("activity.error.target"), detail={"field": "lead_id"})
    if occurred_at is not None and occurred_at.tzinfo is None:
        raise ValidationFailed("occurred_at needs a time zone", detail={"field": "occurred_at"})
    deal = None
    if deal_id is not None:
        deal = session.get(Deal, deal_id)
        if deal is None:
            raise NotFound(f"deal {deal_id} not found")
        lead_id = lead_id if lead_id is not None else deal.lead_id
    if external_id is not None:
        existing = session.scalars(select(Activity).where(Activity.external_id == external_id)).first()
        if existing is not None:  # re-importing the same row changes nothing
            return existing
    now = clock()
    activity = Activity(
        external_id=external_id,
        lead_id=lead_id,
        deal_id=deal_id,
        user_id=user_id if user_id is not None else actor.user_id,
        type=type,
        occurred_at=occurred_at or now,
        recorded_at=now,
        notes=notes,
    )
    session.add(activity)
    if deal is not None:
        # A Core UPDATE: logging a call must not bump the deal's optimistic-lock version.
        session.execute(update(Deal).where(Deal.id == deal.id).values(last_activity_at=now))
    session.flush()
    if lead_id is not None and type in RESPONSE_ACTIVITY_TYPES:
        breaches.record_response(session, lead_id=lead_id, recorded_at=now, clock=clock)
        session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="activity.logged",
        entity_type="activity",
        entity_id=activity.id,
        after=snapshot(activity, ("lead_id", "deal_id", "user_id", "type", "occurred_at", "recorded_at")),
        clock=clock,
    )
    return activity


def attempts(session: Session, handoff: Handoff) -> int:
    """Response activities on the hand-off's lead recorded from assignment to the attempts deadline."""
    query = select(func.count(Activity.id)).where(
        Activity.lead_id == handoff.lead_id,
        Activity.type.in_(RESPONSE_ACTIVITY_TYPES),
        Activity.recorded_at >= handoff.assigned_at,
    )
    if handoff.attempts_due_at is not None:
        query = query.where(Activity.recorded_at <= handoff.attempts_due_at)
    return int(session.scalar(query) or 0)


def list_activities(
    session: Session, *, lead_id: int | None = None, deal_id: int | None = None
) -> list[Activity]:
    """Activities on a lead or a deal, in the order they were recorded."""
    query = select(Activity).order_by(Activity.recorded_at, Activity.id)
    if lead_id is not None:
        query = query.where(Activity.lead_id == lead_id)
    if deal_id is not None:
        query = query.where(Activity.deal_id == deal_id)
    return list(session.scalars(query))
