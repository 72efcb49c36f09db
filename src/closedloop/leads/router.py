"""JSON API for leads: scoped lists, records, edits, stage changes, the CSV export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import func, select

from closedloop.access import policy
from closedloop.access.scope import aggregate_lead_condition, get_visible, scoped
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.helpers import check_assignment, flush, page
from closedloop.api.schemas_records import CountRow, LeadIn, LeadOut, LeadPatch, StageChangeIn, StageName
from closedloop.api.types import MAX_ID, IdPath, Limit, Offset, Page
from closedloop.audit import service as audit_service
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate
from closedloop.leads import service as lead_service
from closedloop.leads.identity import IdentityError, normalise_email, normalise_phone
from closedloop.leads.models import Lead
from closedloop.safe_csv import to_csv
from closedloop.users.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["leads"])
IDENTITIES = ("email", "phone", "line_user_id", "wechat_unionid", "external_id")
EXPORT_COLUMNS = (
    "id",
    "external_id",
    "email",
    "phone",
    "line_user_id",
    "wechat_unionid",
    "first_name",
    "last_name",
    "name",
    "title",
    "industry",
    "company_size",
    "region",
    "country",
    "lead_type",
    "source_type",
    "owner_id",
    "team_id",
    "stage",
    "score",
    "first_channel",
    "first_utm_source",
    "first_utm_medium",
    "first_utm_campaign",
    "first_utm_content",
    "first_landing_page",
    "created_at",
)
EXPORT_LIMIT = 100_000


def _filtered(actor: Actor, stage: str | None, owner_id: int | None) -> Any:
    stmt = scoped(select(Lead).where(Lead.merged_into_id.is_(None)), Lead, actor)
    if stage:
        stmt = stmt.where(Lead.stage == stage)
    if owner_id:
        stmt = stmt.where(Lead.owner_id == owner_id)
    return stmt


StageFilter = Annotated[StageName | None, Query()]
OwnerFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get("/leads", response_model=Page[LeadOut])
def list_leads(
    session: SessionDep,
    actor: CurrentActor,
    stage: StageFilter = None,
    owner_id: OwnerFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """The leads the caller may see."""
    policy.require(actor, "leads", "read")
    return page(session, _filtered(actor, stage, owner_id), Lead.id, limit, offset)


@router.get("/leads/summary", response_model=list[CountRow])
def lead_summary(session: SessionDep, actor: CurrentActor) -> Any:
    """Lead counts by current stage, over the leads that count for the caller (every role)."""
    policy.require(actor, "leads", "summary")
    stmt = (
        select(Lead.stage, func.count(Lead.id))
        .where(Lead.merged_into_id.is_(None), aggregate_lead_condition(actor))
        .group_by(Lead.stage)
        .order_by(Lead.stage)
    )
    return [{"key": key, "count": count} for key, count in session.execute(stmt)]


@router.get("/leads/export.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_leads(session: SessionDep, actor: CurrentActor, stage: StageFilter = None) -> Response:
    """The caller's leads as CSV for Excel (UTF-8 BOM, formula cells neutralised); audited."""
    policy.require(actor, "leads", "export")
    rows = session.scalars(_filtered(actor, stage, None).order_by(Lead.id).limit(EXPORT_LIMIT)).all()
    body = to_csv(EXPORT_COLUMNS, ([_cell(getattr(lead, c)) for c in EXPORT_COLUMNS] for lead in rows))
    audit_service.record(
        session,
        actor=actor,
        action="leads.exported",
        entity_type="lead",
        after={"rows": len(rows), "stage": stage, "format": "csv"},
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="leads.csv"'},
    )


def _cell(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@router.get("/leads/{lead_id}", response_model=LeadOut)
def get_lead(lead_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One lead (404 when outside the caller's scope)."""
    policy.require(actor, "leads", "read")
    return get_visible(session, Lead, lead_id, actor)


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    try:
        if values.get("email") is not None:
            values["email"] = normalise_email(values["email"])
        if values.get("phone") is not None:
            values["phone"] = normalise_phone(values["phone"], country=values.get("country"))
    except IdentityError as exc:
        field = "email" if "mail" in str(exc).lower() else "phone"
        raise ValidationFailed(translate("access.error.bad_identity", field=field, reason=str(exc))) from exc
    for key in ("external_id", "line_user_id", "wechat_unionid"):
        if isinstance(values.get(key), str):
            values[key] = values[key].strip() or None
    return values


@router.post("/leads", response_model=LeadOut, status_code=status.HTTP_201_CREATED)
def create_lead(body: LeadIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Enter a lead by hand; sales leads default to the caller and its team."""
    policy.require(actor, "leads", "create")
    values = _normalised(body.model_dump(exclude_unset=True))
    if not any(values.get(k) for k in IDENTITIES):
        raise ValidationFailed(translate("access.error.identity_required"))
    if actor.role == "sales" and not actor.is_system:
        values.setdefault("owner_id", actor.user_id)
        values.setdefault("team_id", actor.team_id)
    check_assignment(session, actor, values.get("owner_id"), values.get("team_id"))
    lead = Lead(**{k: v for k, v in values.items() if v is not None})
    session.add(lead)
    flush(session, "email, LINE user id, WeChat unionid or external id")
    audit_service.record(
        session,
        actor=actor,
        action="lead.created",
        entity_type="lead",
        entity_id=lead.id,
        after=audit_service.snapshot(lead),
    )
    return lead


@router.patch("/leads/{lead_id}", response_model=LeadOut)
def update_lead(lead_id: IdPath, body: LeadPatch, session: SessionDep, actor: CurrentActor) -> Any:
    """Edit a lead; a new owner or team must be one the caller may assign to."""
    policy.require(actor, "leads", "update")
    lead = get_visible(session, Lead, lead_id, actor)
    values = _normalised(body.model_dump(exclude_unset=True))
    if "owner_id" in values or "team_id" in values:
        check_assignment(session, actor, values.get("owner_id"), values.get("team_id"))
    before = audit_service.snapshot(lead)
    for key, value in values.items():
        if key == "tags" and value is None:
            value = []
        setattr(lead, key, value)
    if not any(getattr(lead, k) for k in IDENTITIES):
        raise ValidationFailed(translate("access.error.identity_required"))
    flush(session, "email, LINE user id, WeChat unionid or external id")
    audit_service.record(
        session,
        actor=actor,
        action="lead.updated",
        entity_type="lead",
        entity_id=lead.id,
        before=before,
        after=audit_service.snapshot(lead),
    )
    return lead


@router.post("/leads/{lead_id}/stage", response_model=LeadOut)
def change_stage(lead_id: IdPath, body: StageChangeIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Move a lead along its lifecycle under the SPEC section 2 rules (lifecycle event + audit)."""
    policy.require(actor, "leads", "change_stage")
    lead = get_visible(session, Lead, lead_id, actor)
    lead_service.change_stage(
        session=session,
        lead=lead,
        to_stage=body.to_stage,
        actor=actor,
        reason=body.reason,
        reason_text=body.reason_text,
    )
    return lead
