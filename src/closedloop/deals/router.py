"""JSON API for deals: scoped records for the sales side, stage and amount aggregates for everyone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import func, select

from closedloop.access import policy
from closedloop.access.scope import aggregate_deal_condition, get_visible, scoped
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.helpers import check_assignment, page
from closedloop.api.schemas_records import CountRow, DealIn, DealLoseIn, DealOut, DealPatch, DealWinIn
from closedloop.api.types import IdPath, Limit, Offset, Page, to_major, to_minor
from closedloop.deals import service as deal_service
from closedloop.deals.models import Deal
from closedloop.leads.models import Lead

router = APIRouter(prefix="/api/v1", tags=["deals"])


def deal_out(deal: Deal) -> dict[str, Any]:
    """A deal as its API shape (amount in major units)."""
    data = {c: getattr(deal, c) for c in DealOut.model_fields if c != "amount"}
    data["amount"] = to_major(deal.amount_minor, deal.currency)
    return data


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
    """Open a deal (the lead becomes an opportunity); it belongs to the lead's owner, else the caller."""
    policy.require(actor, "deals", "write")
    if body.lead_id is not None:
        get_visible(session, Lead, body.lead_id, actor)
    if body.owner_id is not None:
        check_assignment(session, actor, body.owner_id, None)
    deal = deal_service.open_deal(
        session=session,
        actor=actor,
        name=body.name,
        amount_minor=to_minor(body.amount, body.currency),
        currency=body.currency,
        lead_id=body.lead_id,
        stage=body.stage,
        expected_close_date=body.expected_close_date,
        owner_id=body.owner_id,
    )
    return deal_out(deal)


@router.patch("/deals/{deal_id}", response_model=DealOut)
def update_deal(deal_id: IdPath, body: DealPatch, session: SessionDep, actor: CurrentActor) -> Any:
    """Edit an open deal or move it to another open stage; a stale `version` answers 409."""
    policy.require(actor, "deals", "write")
    deal = get_visible(session, Deal, deal_id, actor)
    values = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    version = values.pop("version", deal.version)
    if "owner_id" in values:
        check_assignment(session, actor, values["owner_id"], None)
    stage = values.pop("stage", None)
    if values:
        currency = values.get("currency", deal.currency)
        amount = values.get("amount")
        if amount is None and "currency" in values:
            amount = to_major(deal.amount_minor, deal.currency)
        deal = deal_service.update_deal(
            session=session,
            deal_id=deal.id,
            expected_version=version,
            actor=actor,
            name=values.get("name"),
            amount_minor=None if amount is None else to_minor(amount, currency),
            currency=values.get("currency"),
            expected_close_date=values.get("expected_close_date"),
            owner_id=values.get("owner_id"),
        )
        version = deal.version
    if stage is not None:
        deal = deal_service.move_stage(
            session=session, deal_id=deal.id, to_stage=stage, expected_version=version, actor=actor
        )
    return deal_out(deal)


@router.post("/deals/{deal_id}/win", response_model=DealOut)
def win_deal(deal_id: IdPath, body: DealWinIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Win the deal: its lead becomes a customer, its company a customer (or an expansion)."""
    policy.require(actor, "deals", "write")
    deal = get_visible(session, Deal, deal_id, actor)
    deal = deal_service.win(
        session=session,
        deal_id=deal.id,
        expected_version=body.version or deal.version,
        actor=actor,
        amount_minor=None if body.amount is None else to_minor(body.amount, deal.currency),
    )
    return deal_out(deal)


@router.post("/deals/{deal_id}/lose", response_model=DealOut)
def lose_deal(deal_id: IdPath, body: DealLoseIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Lose the deal with a reason; the lead becomes lost once all its open deals are lost."""
    policy.require(actor, "deals", "write")
    deal = get_visible(session, Deal, deal_id, actor)
    deal = deal_service.lose(
        session=session,
        deal_id=deal.id,
        expected_version=body.version or deal.version,
        actor=actor,
        reason=body.reason,
        text=body.text,
    )
    return deal_out(deal)
