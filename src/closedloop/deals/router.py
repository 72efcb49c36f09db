"""JSON API for deals: scoped records for the sales side, stage and amount aggregates for everyone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import func, select

from closedloop.access import policy
from closedloop.access.scope import aggregate_deal_condition, get_visible, scoped
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.helpers import check_assignment, flush, page
from closedloop.api.schemas_records import CountRow, DealIn, DealOut, DealPatch
from closedloop.api.types import IdPath, Limit, Offset, Page, to_major, to_minor
from closedloop.audit import service as audit_service
from closedloop.clock import system_clock
from closedloop.deals.models import Deal, DealStageEvent, PipelineStage
from closedloop.errors import Conflict, ValidationFailed
from closedloop.i18n import translate
from closedloop.leads.models import Lead

router = APIRouter(prefix="/api/v1", tags=["deals"])


def deal_out(deal: Deal) -> dict[str, Any]:
    """A deal as its API shape (amount in major units)."""
    data = {c: getattr(deal, c) for c in DealOut.model_fields if c != "amount"}
    data["amount"] = to_major(deal.amount_minor, deal.currency)
    return data


def _open_stage(session: Any, key: str) -> PipelineStage:
    stage = session.scalar(select(PipelineStage).where(PipelineStage.key == key, PipelineStage.is_active))
    if stage is None:
        raise ValidationFailed(translate("access.error.unknown_stage", stage=key))
    if stage.outcome != "open":
        raise ValidationFailed(translate("access.error.closing_deal"))
    return stage


@router.get("/deals", response_model=Page[DealOut])
def list_deals(
    session: SessionDep,
    actor: CurrentActor,
    status_: Annotated[str | None, Query(alias="status", pattern="^(open|won|lost)$")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """The deals the caller may see (sales side only; marketing and viewers use /deals/summary)."""
    policy.require(actor, "deals", "read")
    stmt = scoped(select(Deal), Deal, actor)
    if status_:
        stmt = stmt.where(Deal.status == status_)
    result = page(session, stmt, Deal.id, limit, offset)
    result["items"] = [deal_out(d) for d in result["items"]]
    return result


@router.get("/deals/summary", response_model=list[CountRow])
def deal_summary(session: SessionDep, actor: CurrentActor) -> Any:
    """Deal counts and amounts by stage and currency, over the deals that count for the caller."""
    policy.require(actor, "deals", "summary")
    stmt = (
        select(Deal.stage, Deal.currency, func.count(Deal.id), func.coalesce(func.sum(Deal.amount_minor), 0))
        .where(aggregate_deal_condition(actor))
        .group_by(Deal.stage, Deal.currency)
        .order_by(Deal.stage, Deal.currency)
    )
    return [
        {"key": stage, "count": count, "amount": to_major(int(total), currency), "currency": currency}
        for stage, currency, count, total in session.execute(stmt)
    ]


@router.get("/deals/{deal_id}", response_model=DealOut)
def get_deal(deal_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One deal (404 when outside the caller's scope)."""
    policy.require(actor, "deals", "read")
    return deal_out(get_visible(session, Deal, deal_id, actor))


@router.post("/deals", response_model=DealOut, status_code=status.HTTP_201_CREATED)
def create_deal(body: DealIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Open a deal in an open pipeline stage; sales deals default to the caller and its team."""
    policy.require(actor, "deals", "write")
    stage = _open_stage(session, body.stage)
    if body.lead_id is not None:
        get_visible(session, Lead, body.lead_id, actor)
    owner_id, team_id = body.owner_id, body.team_id
    if actor.role == "sales" and not actor.is_system:
        owner_id = owner_id or actor.user_id
        team_id = team_id or actor.team_id
    check_assignment(session, actor, owner_id, team_id)
    now = system_clock()
    deal = Deal(
        name=body.name,
        stage=stage.key,
        status="open",
        amount_minor=to_minor(body.amount, body.currency),
        currency=body.currency,
        lead_id=body.lead_id,
        owner_id=owner_id,
        team_id=team_id,
        expected_close_date=body.expected_close_date,
        created_at=now,
    )
    session.add(deal)
    flush(session, "external id")
    session.add(
        DealStageEvent(
            deal_id=deal.id,
            from_stage=None,
            to_stage=stage.key,
            occurred_at=now,
            recorded_at=now,
            by_user_id=actor.user_id,
            amount_minor=deal.amount_minor,
            expected_close_date=deal.expected_close_date,
        )
    )
    audit_service.record(
        session,
        actor=actor,
        action="deal.created",
        entity_type="deal",
        entity_id=deal.id,
        after=audit_service.snapshot(deal),
    )
    return deal_out(deal)


@router.patch("/deals/{deal_id}", response_model=DealOut)
def update_deal(deal_id: IdPath, body: DealPatch, session: SessionDep, actor: CurrentActor) -> Any:
    """Edit an open deal; `version` guards against overwriting someone else's change (409)."""
    policy.require(actor, "deals", "write")
    deal = get_visible(session, Deal, deal_id, actor)
    values = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    if values.pop("version", deal.version) != deal.version:
        raise Conflict(translate("access.error.stale_version"))
    if deal.status != "open":
        raise ValidationFailed(translate("access.error.closing_deal"))
    if "owner_id" in values or "team_id" in values:
        check_assignment(session, actor, values.get("owner_id"), values.get("team_id"))
    before = audit_service.snapshot(deal)
    now = system_clock()
    new_stage = _open_stage(session, values.pop("stage")).key if "stage" in values else deal.stage
    currency = values.pop("currency", deal.currency)
    amount = values.pop("amount", None)
    if amount is not None or currency != deal.currency:
        deal.amount_minor = to_minor(
            amount if amount is not None else to_major(deal.amount_minor, deal.currency), currency
        )
        deal.currency = currency
    for key, value in values.items():
        setattr(deal, key, value)
    if new_stage != deal.stage:
        session.add(
            DealStageEvent(
                deal_id=deal.id,
                from_stage=deal.stage,
                to_stage=new_stage,
                occurred_at=now,
                recorded_at=now,
                by_user_id=actor.user_id,
                amount_minor=deal.amount_minor,
                expected_close_date=deal.expected_close_date,
            )
        )
        deal.stage = new_stage
    flush(session, "deal")
    audit_service.record(
        session,
        actor=actor,
        action="deal.updated",
        entity_type="deal",
        entity_id=deal.id,
        before=before,
        after=audit_service.snapshot(deal),
    )
    return deal_out(deal)
