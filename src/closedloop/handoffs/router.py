"""JSON API for hand-offs (read, reassign) and sales activities (read, log)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from closedloop.access import policy
from closedloop.access.scope import get_visible, scoped
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.helpers import check_assignment, flush, page
from closedloop.api.schemas_records import ActivityIn, ActivityOut, HandoffOut, HandoffPatch, RejectIn
from closedloop.api.types import MAX_ID, IdPath, Limit, Offset, Page
from closedloop.audit import service as audit_service
from closedloop.deals.models import Deal
from closedloop.errors import ValidationFailed
from closedloop.handoffs import activities as activity_service
from closedloop.handoffs import service as handoff_service
from closedloop.handoffs.models import Activity, Handoff
from closedloop.i18n import translate
from closedloop.leads.models import Lead
from closedloop.users.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["handoffs"])
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get("/handoffs", response_model=Page[HandoffOut])
def list_handoffs(
    session: SessionDep,
    actor: CurrentActor,
    status_: Annotated[str | None, Query(alias="status", pattern="^(open|accepted|rejected|closed)$")] = None,
    owner_id: IdFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Hand-offs the caller may see."""
    policy.require(actor, "handoffs", "read")
    stmt = scoped(select(Handoff), Handoff, actor)
    if status_:
        stmt = stmt.where(Handoff.status == status_)
    if owner_id:
        stmt = stmt.where(Handoff.owner_id == owner_id)
    return page(session, stmt, Handoff.id, limit, offset)


@router.get("/handoffs/{handoff_id}", response_model=HandoffOut)
def get_handoff(handoff_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One hand-off."""
    policy.require(actor, "handoffs", "read")
    return get_visible(session, Handoff, handoff_id, actor)


@router.patch("/handoffs/{handoff_id}", response_model=HandoffOut)
def reassign_handoff(handoff_id: IdPath, body: HandoffPatch, session: SessionDep, actor: CurrentActor) -> Any:
    """Give an open hand-off to another sales owner (managers and admins); the SLA clock keeps running."""
    policy.require(actor, "handoffs", "reassign")
    handoff = get_visible(session, Handoff, handoff_id, actor)
    if handoff.status != "open":
        raise ValidationFailed(translate("access.error.handoff_closed"))
    check_assignment(session, actor, body.owner_id, None)
    before = audit_service.snapshot(handoff)
    handoff.owner_id = body.owner_id
    flush(session, "hand-off")
    audit_service.record(
        session,
        actor=actor,
        action="handoff.reassigned",
        entity_type="handoff",
        entity_id=handoff.id,
        before=before,
        after=audit_service.snapshot(handoff),
    )
    return handoff


def activity_out(activity: Activity, actor: Actor) -> dict[str, Any]:
    """An activity as its API shape; a deal's notes only for the sales side (field-level rule)."""
    data = {c: getattr(activity, c) for c in ActivityOut.model_fields}
    if activity.deal_id is not None and not policy.sees_deal_notes(actor):
        data["notes"] = None
    return data


@router.get("/activities", response_model=Page[ActivityOut])
def list_activities(
    session: SessionDep,
    actor: CurrentActor,
    lead_id: IdFilter = None,
    deal_id: IdFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Activities the caller may see."""
    policy.require(actor, "activities", "read")
    stmt = scoped(select(Activity), Activity, actor)
    if lead_id:
        stmt = stmt.where(Activity.lead_id == lead_id)
    if deal_id:
        stmt = stmt.where(Activity.deal_id == deal_id)
    result = page(session, stmt, Activity.id, limit, offset)
    result["items"] = [activity_out(a, actor) for a in result["items"]]
    return result


@router.get("/activities/{activity_id}", response_model=ActivityOut)
def get_activity(activity_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One activity."""
    policy.require(actor, "activities", "read")
    return activity_out(get_visible(session, Activity, activity_id, actor), actor)


@router.post("/activities", response_model=ActivityOut, status_code=status.HTTP_201_CREATED)
def log_activity(body: ActivityIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Log a call, email, meeting, message or note on a lead or deal the caller may see (answers its hand-off)."""
    policy.require(actor, "activities", "create")
    if body.lead_id is None and body.deal_id is None:
        raise ValidationFailed(translate("access.error.lead_or_deal"))
    if body.lead_id is not None:
        get_visible(session, Lead, body.lead_id, actor)
    if body.deal_id is not None:
        get_visible(session, Deal, body.deal_id, actor)
    activity = activity_service.log_activity(
        session=session,
        type=body.type,
        actor=actor,
        lead_id=body.lead_id,
        deal_id=body.deal_id,
        occurred_at=body.occurred_at,
        notes=body.notes,
    )
    return activity_out(activity, actor)


@router.post("/handoffs/{handoff_id}/accept", response_model=HandoffOut)
def accept_handoff(handoff_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """Sales accepts the hand-off: the lead becomes an SAL."""
    policy.require(actor, "handoffs", "respond")
    handoff = get_visible(session, Handoff, handoff_id, actor)
    return handoff_service.accept(session=session, handoff_id=handoff.id, actor=actor)


@router.post("/handoffs/{handoff_id}/reject", response_model=HandoffOut)
def reject_handoff(handoff_id: IdPath, body: RejectIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Sales rejects the hand-off with a reason code (and text for `other`): back to nurture or disqualified."""
    policy.require(actor, "handoffs", "respond")
    handoff = get_visible(session, Handoff, handoff_id, actor)
    return handoff_service.reject(
        session=session,
        handoff_id=handoff.id,
        reason=body.reason,
        text=body.text,
        to_stage=body.to_stage,
        actor=actor,
    )
