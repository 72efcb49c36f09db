"""JSON API for marketing records: touchpoints, campaigns and spend."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from closedloop.access import policy
from closedloop.access.scope import get_visible, scoped
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.helpers import flush, page
from closedloop.api.schemas_records import (
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    SpendIn,
    SpendOut,
    TouchpointIn,
    TouchpointOut,
)
from closedloop.api.types import MAX_ID, Day, IdPath, Limit, Offset, Page, to_major, to_minor
from closedloop.audit import service as audit_service
from closedloop.errors import NotFound, ValidationFailed
from closedloop.i18n import translate
from closedloop.leads.models import Lead
from closedloop.marketing.models import Campaign, CampaignSpend, Touchpoint

router = APIRouter(prefix="/api/v1", tags=["marketing"])
LeadFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get("/touchpoints", response_model=Page[TouchpointOut])
def list_touchpoints(
    session: SessionDep,
    actor: CurrentActor,
    lead_id: LeadFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Touches the caller may see (sales and managers: those of their leads)."""
    policy.require(actor, "touchpoints", "read")
    stmt = scoped(select(Touchpoint), Touchpoint, actor)
    if lead_id:
        stmt = stmt.where(Touchpoint.lead_id == lead_id)
    return page(session, stmt, Touchpoint.id, limit, offset)


@router.get("/touchpoints/{touchpoint_id}", response_model=TouchpointOut)
def get_touchpoint(touchpoint_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One touch."""
    policy.require(actor, "touchpoints", "read")
    return get_visible(session, Touchpoint, touchpoint_id, actor)


@router.post("/touchpoints", response_model=TouchpointOut, status_code=status.HTTP_201_CREATED)
def create_touchpoint(body: TouchpointIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Record an offline or manual touch (marketing); an explicit channel overrides the rules."""
    policy.require(actor, "touchpoints", "create")
    if body.lead_id is not None:
        get_visible(session, Lead, body.lead_id, actor)
    if body.campaign_id is not None and session.get(Campaign, body.campaign_id) is None:
        raise ValidationFailed(translate("access.error.not_found", resource="campaigns", id=body.campaign_id))
    values = body.model_dump(exclude_unset=True)
    touch = Touchpoint(**values)
    touch.channel = body.channel or "Other"
    touch.channel_explicit = body.channel is not None
    session.add(touch)
    flush(session, "external id")
    audit_service.record(
        session,
        actor=actor,
        action="touchpoint.created",
        entity_type="touchpoint",
        entity_id=touch.id,
        after=audit_service.snapshot(touch),
    )
    return touch


def _campaign_out(campaign: Campaign) -> dict[str, Any]:
    data = {c: getattr(campaign, c) for c in CampaignOut.model_fields if c != "budget"}
    currency = campaign.currency or "TWD"
    data["budget"] = None if campaign.budget_minor is None else to_major(campaign.budget_minor, currency)
    return data


@router.get("/campaigns", response_model=Page[CampaignOut])
def list_campaigns(session: SessionDep, actor: CurrentActor, limit: Limit = 100, offset: Offset = 0) -> Any:
    """Campaigns (no personal data: every role)."""
    policy.require(actor, "campaigns", "read")
    result = page(session, select(Campaign), Campaign.id, limit, offset)
    result["items"] = [_campaign_out(c) for c in result["items"]]
    return result


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
def get_campaign(campaign_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One campaign."""
    policy.require(actor, "campaigns", "read")
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(translate("access.error.not_found", resource="campaigns", id=campaign_id))
    return _campaign_out(campaign)


def _apply_campaign(campaign: Campaign, values: dict[str, Any]) -> None:
    budget = values.pop("budget", None)
    for key, value in values.items():
        setattr(campaign, key, value)
    if "name" in values:
        campaign.normalised_name = " ".join(campaign.name.split()).casefold()
    if budget is not None:
        campaign.budget_minor = to_minor(budget, campaign.currency or "TWD")


@router.post("/campaigns", response_model=CampaignOut, status_code=status.HTTP_201_CREATED)
def create_campaign(body: CampaignIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Create a campaign (marketing); names are unique, case-insensitively."""
    policy.require(actor, "campaigns", "write")
    campaign = Campaign()
    _apply_campaign(campaign, body.model_dump(exclude_unset=True))
    session.add(campaign)
    flush(session, "name or external id")
    audit_service.record(
        session,
        actor=actor,
        action="campaign.created",
        entity_type="campaign",
        entity_id=campaign.id,
        after=audit_service.snapshot(campaign),
    )
    return _campaign_out(campaign)


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut)
def update_campaign(
    campaign_id: IdPath, body: CampaignPatch, session: SessionDep, actor: CurrentActor
) -> Any:
    """Edit a campaign (marketing)."""
    policy.require(actor, "campaigns", "write")
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(translate("access.error.not_found", resource="campaigns", id=campaign_id))
    before = audit_service.snapshot(campaign)
    _apply_campaign(campaign, {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None})
    flush(session, "name")
    audit_service.record(
        session,
        actor=actor,
        action="campaign.updated",
        entity_type="campaign",
        entity_id=campaign.id,
        before=before,
        after=audit_service.snapshot(campaign),
    )
    return _campaign_out(campaign)


def _spend_out(row: CampaignSpend) -> dict[str, Any]:
    data = {c: getattr(row, c) for c in SpendOut.model_fields if c != "amount"}
    data["amount"] = to_major(row.amount_minor, row.currency)
    return data


@router.get("/spend", response_model=Page[SpendOut])
def list_spend(
    session: SessionDep,
    actor: CurrentActor,
    campaign_id: LeadFilter = None,
    from_: Annotated[Day | None, Query(alias="from")] = None,
    to: Annotated[Day | None, Query()] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Daily spend rows (every role), filtered by campaign and inclusive dates."""
    policy.require(actor, "spend", "read")
    stmt = select(CampaignSpend)
    if campaign_id:
        stmt = stmt.where(CampaignSpend.campaign_id == campaign_id)
    if from_:
        stmt = stmt.where(CampaignSpend.spend_date >= from_)
    if to:
        stmt = stmt.where(CampaignSpend.spend_date <= to)
    result = page(session, stmt, CampaignSpend.id, limit, offset)
    result["items"] = [_spend_out(r) for r in result["items"]]
    return result


@router.post("/spend", response_model=SpendOut, status_code=status.HTTP_201_CREATED)
def create_spend(body: SpendIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Enter a day's spend of a campaign by hand (marketing); one manual row per campaign and day."""
    policy.require(actor, "spend", "write")
    if session.get(Campaign, body.campaign_id) is None:
        raise ValidationFailed(translate("access.error.not_found", resource="campaigns", id=body.campaign_id))
    row = CampaignSpend(
        campaign_id=body.campaign_id,
        spend_date=body.spend_date,
        channel=body.channel,
        amount_minor=to_minor(body.amount, body.currency),
        currency=body.currency,
        impressions=body.impressions,
        clicks=body.clicks,
        source="manual",
    )
    session.add(row)
    flush(session, "campaign and day")
    audit_service.record(
        session,
        actor=actor,
        action="spend.created",
        entity_type="campaign_spend",
        entity_id=row.id,
        after=audit_service.snapshot(row),
    )
    return _spend_out(row)
