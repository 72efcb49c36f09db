"""Deals through the pipeline: open from an SQL, move with immutable stage events, win or lose.

Every change carries the version the caller last saw (`expected_version`); a stale one raises
Conflict, and the UPDATE itself is guarded by `version` (SQLAlchemy's version counter), so two
people editing the same deal can never silently overwrite each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from closedloop.accounts.models import Account
from closedloop.audit import service as audit_service
from closedloop.audit.service import snapshot
from closedloop.clock import Clock, system_clock
from closedloop.deals.models import Deal, DealStageEvent, PipelineStage
from closedloop.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from closedloop.i18n import translate
from closedloop.leads import service as lead_service
from closedloop.leads.lifecycle import Stage
from closedloop.leads.models import Lead
from closedloop.outbox import service as outbox
from closedloop.users.actor import Actor
from closedloop.workspace.models import WorkspaceSettings

TRACKED = (
    "stage",
    "status",
    "amount_minor",
    "currency",
    "expected_close_date",
    "closed_at",
    "lost_reason",
    "version",
)


def stages(session: Session) -> list[PipelineStage]:
    """The active pipeline stages in order."""
    return list(
        session.scalars(
            select(PipelineStage).where(PipelineStage.is_active.is_(True)).order_by(PipelineStage.position)
        )
    )


def _stage(session: Session, key: str) -> PipelineStage:
    stage = session.scalars(
        select(PipelineStage).where(PipelineStage.key == key, PipelineStage.is_active.is_(True))
    ).first()
    if stage is None:
        raise ValidationFailed(translate("deal.error.stage", stage=key), detail={"field": "stage"})
    return stage


def _outcome_stage(session: Session, outcome: str) -> PipelineStage:
    stage = session.scalars(
        select(PipelineStage).where(PipelineStage.outcome == outcome).order_by(PipelineStage.position)
    ).first()
    if stage is None:
        raise ValidationFailed(f"the pipeline has no {outcome} stage")
    return stage


def get_deal(session: Session, deal_id: int) -> Deal:
    """The deal with this id, or NotFound."""
    deal = session.get(Deal, deal_id)
    if deal is None:
        raise NotFound(translate("deal.error.not_found", id=deal_id))
    return deal


@contextmanager
def _editing(session: Session, deal_id: int, expected_version: int) -> Iterator[Deal]:
    """Load the deal for a change by someone who last saw `expected_version`; Conflict if stale."""
    deal = get_deal(session, deal_id)
    if deal.version != expected_version:
        raise Conflict(
            translate("deal.error.conflict", id=deal_id, expected=expected_version, current=deal.version),
            detail={"current_version": deal.version},
        )
    try:
        yield deal
        session.flush()
    except StaleDataError as exc:
        # Someone committed between our read and our write: the guarded UPDATE matched no row.
        # The unit of work rolls the transaction back.
        raise Conflict(
            translate("deal.error.conflict_concurrent", id=deal_id, expected=expected_version),
            detail={"expected_version": expected_version},
        ) from exc


def open_deal(
    *,
    session: Session,
    name: str,
    amount_minor: int,
    currency: str | None = None,
    actor: Actor,
    lead_id: int | None = None,
    account_id: int | None = None,
    stage: str | None = None,
    expected_close_date: date | None = None,
    owner_id: int | None = None,
    clock: Clock = system_clock,
) -> Deal:
    """Open a deal (from an SQL: the lead becomes an opportunity; from a customer: an expansion deal)."""
    if amount_minor < 0:
        raise ValidationFailed(translate("deal.error.amount"), detail={"field": "amount"})
    first = _stage(session, stage) if stage else next(s for s in stages(session) if s.outcome == "open")
    if first.outcome != "open":
        raise ValidationFailed(translate("deal.error.stage", stage=first.key), detail={"field": "stage"})
    now = clock()
    lead = lead_service.get_lead(session=session, lead_id=lead_id) if lead_id is not None else None
    if lead is not None and lead.stage != Stage.CUSTOMER.value and lead.stage != Stage.OPPORTUNITY.value:
        lead_service.change_stage(
            session=session, lead=lead, to_stage=Stage.OPPORTUNITY, actor=actor, source="deal", clock=clock
        )
    settings = session.get(WorkspaceSettings, 1)
    deal = Deal(
        lead_id=lead.id if lead else None,
        account_id=account_id if account_id is not None else (lead.account_id if lead else None),
        name=name,
        stage=first.key,
        status="open",
        amount_minor=amount_minor,
        currency=(currency or (settings.reporting_currency if settings else "TWD")).upper(),
        owner_id=owner_id if owner_id is not None else (lead.owner_id if lead else actor.user_id),
        team_id=lead.team_id if lead else actor.team_id,
        expected_close_date=expected_close_date,
        created_at=now,
        updated_at=now,
    )
    session.add(deal)
    session.flush()
    _event(session, deal, None, first.key, now, actor)
    audit_service.record(
        session,
        actor=actor,
        action="deal.opened",
        entity_type="deal",
        entity_id=deal.id,
        after=snapshot(deal),
        clock=clock,
    )
    return deal


def _event(
    session: Session, deal: Deal, from_stage: str | None, to_stage: str, at: datetime, actor: Actor
) -> None:
    session.add(
        DealStageEvent(
            deal_id=deal.id,
            from_stage=from_stage,
            to_stage=to_stage,
            occurred_at=at,
            recorded_at=at,
            by_user_id=actor.user_id,
            amount_minor=deal.amount_minor,
            expected_close_date=deal.expected_close_date,
            source="person" if actor.user_id is not None else "rule",
        )
    )


def update_deal(
    *,
    session: Session,
    deal_id: int,
    expected_version: int,
    actor: Actor,
    name: str | None = None,
    amount_minor: int | None = None,
    currency: str | None = None,
    expected_close_date: date | None = None,
    owner_id: int | None = None,
    clock: Clock = system_clock,
) -> Deal:
    """Change a deal's amount, close date, name or owner; a stale `expected_version` is a Conflict."""
    if amount_minor is not None and amount_minor < 0:
        raise ValidationFailed(translate("deal.error.amount"), detail={"field": "amount"})
    with _editing(session, deal_id, expected_version) as deal:
        before = snapshot(deal, TRACKED)
        for field, value in (
            ("name", name),
            ("amount_minor", amount_minor),
            ("expected_close_date", expected_close_date),
            ("owner_id", owner_id),
        ):
            if value is not None:
                setattr(deal, field, value)
        if currency is not None:
            deal.currency = currency.upper()
        deal.updated_at = clock()
        dated = ("amount_minor", "expected_close_date")
        if snapshot(deal, dated) != {key: before[key] for key in dated}:
            # A same-stage event dates the new amount and close date, so `pipeline_as_of` answers
            # with what was known then and sees a close date moved later (slipped).
            _event(session, deal, deal.stage, deal.stage, deal.updated_at, actor)
    audit_service.record(
        session,
        actor=actor,
        action="deal.updated",
        entity_type="deal",
        entity_id=deal.id,
        before=before,
        after=snapshot(deal, TRACKED),
        clock=clock,
    )
    return deal


def move_stage(
    *,
    session: Session,
    deal_id: int,
    to_stage: str,
    expected_version: int,
    actor: Actor,
    clock: Clock = system_clock,
) -> Deal:
    """Move an open deal to another open pipeline stage, writing an immutable stage event."""
    target = _stage(session, to_stage)
    if target.outcome != "open":
        raise InvalidTransition(translate("deal.error.use_outcome", stage=target.key))
    with _editing(session, deal_id, expected_version) as deal:
        _require_open(deal)
        if deal.stage == target.key:
            raise InvalidTransition(translate("deal.error.same_stage", stage=target.key))
        before = snapshot(deal, TRACKED)
        now = clock()
        _event(session, deal, deal.stage, target.key, now, actor)
        deal.stage, deal.updated_at = target.key, now
    audit_service.record(
        session,
        actor=actor,
        action="deal.stage_changed",
        entity_type="deal",
        entity_id=deal.id,
        before=before,
        after=snapshot(deal, TRACKED),
        clock=clock,
    )
    return deal


def _require_open(deal: Deal) -> None:
    if deal.status != "open":
        raise InvalidTransition(translate("deal.error.closed", id=deal.id, status=deal.status))


def win(
    *,
    session: Session,
    deal_id: int,
    expected_version: int,
    actor: Actor,
    amount_minor: int | None = None,
    closed_at: datetime | None = None,
    clock: Clock = system_clock,
) -> Deal:
    """Win the deal: its lead becomes a customer at `closed_at`, its account a customer (new business
    for the account's first won deal, expansion for later ones)."""
    won_stage = _outcome_stage(session, "won")
    now = clock()
    at = closed_at or now
    with _editing(session, deal_id, expected_version) as deal:
        _require_open(deal)
        before = snapshot(deal, TRACKED)
        if amount_minor is not None:
            deal.amount_minor = amount_minor
        _event(session, deal, deal.stage, won_stage.key, at, actor)
        deal.stage, deal.status, deal.closed_at, deal.updated_at = won_stage.key, "won", at, now
        deal.is_expansion = _is_expansion(session, deal, at)
        if deal.account_id is not None:
            account = session.get(Account, deal.account_id)
            if account is not None and (
                account.became_customer_at is None or account.became_customer_at > at
            ):
                account.became_customer_at = at
    if deal.lead_id is not None:
        lead = session.get(Lead, deal.lead_id)
        if lead is not None and lead.stage != Stage.CUSTOMER.value:
            lead_service.change_stage(
                session=session,
                lead=lead,
                to_stage=Stage.CUSTOMER,
                actor=actor,
                occurred_at=at,
                source="deal",
                history=True,
                clock=clock,
            )
    outbox.enqueue(
        session,
        topic="deal.won",
        idempotency_key=f"deal.won:{deal.id}",
        clock=clock,
        payload={
            "deal_id": deal.id,
            "lead_id": deal.lead_id,
            "amount_minor": deal.amount_minor,
            "currency": deal.currency,
            "closed_at": at,
            "is_expansion": deal.is_expansion,
        },
    )
    audit_service.record(
        session,
        actor=actor,
        action="deal.won",
        entity_type="deal",
        entity_id=deal.id,
        before=before,
        after={**snapshot(deal, TRACKED), "is_expansion": deal.is_expansion},
        clock=clock,
    )
    return deal


def _is_expansion(session: Session, deal: Deal, at: datetime) -> bool:
    """Whether the account already had a won deal closed before this one."""
    if deal.account_id is None:
        return False
    earlier = session.scalar(
        select(Deal.id)
        .where(
            Deal.account_id == deal.account_id, Deal.id != deal.id, Deal.status == "won", Deal.closed_at <= at
        )
        .limit(1)
    )
    return earlier is not None


def lose(
    *,
    session: Session,
    deal_id: int,
    expected_version: int,
    reason: str,
    actor: Actor,
    text: str | None = None,
    closed_at: datetime | None = None,
    clock: Clock = system_clock,
) -> Deal:
    """Lose the deal with a reason; the lead becomes `lost` once every open deal of it is lost."""
    if not reason or not reason.strip():
        raise ValidationFailed(translate("deal.error.lost_reason"), detail={"field": "reason"})
    lost_stage = _outcome_stage(session, "lost")
    now = clock()
    at = closed_at or now
    with _editing(session, deal_id, expected_version) as deal:
        _require_open(deal)
        before = snapshot(deal, TRACKED)
        _event(session, deal, deal.stage, lost_stage.key, at, actor)
        deal.stage, deal.status, deal.closed_at, deal.updated_at = lost_stage.key, "lost", at, now
        deal.lost_reason, deal.lost_reason_text = reason.strip(), text
    if deal.lead_id is not None:
        lead = session.get(Lead, deal.lead_id)
        still_open = session.scalar(
            select(Deal.id).where(Deal.lead_id == deal.lead_id, Deal.status == "open").limit(1)
        )
        if lead is not None and still_open is None and lead.stage == Stage.OPPORTUNITY.value:
            lead_service.change_stage(
                session=session,
                lead=lead,
                to_stage=Stage.LOST,
                actor=actor,
                occurred_at=at,
                reason=reason.strip(),
                reason_text=text,
                source="deal",
                clock=clock,
            )
    audit_service.record(
        session,
        actor=actor,
        action="deal.lost",
        entity_type="deal",
        entity_id=deal.id,
        before=before,
        after=snapshot(deal, TRACKED),
        clock=clock,
    )
    return deal


def stage_events(session: Session, deal_id: int) -> list[DealStageEvent]:
    """The deal's stage history, in order."""
    return list(
        session.scalars(
            select(DealStageEvent)
            .where(DealStageEvent.deal_id == deal_id)
            .order_by(DealStageEvent.occurred_at, DealStageEvent.id)
        )
    )
