"""Sales quotas per rep or per team and period (quota attainment is computed by the analytics layer)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.audit.service import snapshot
from closedloop.clock import Clock, system_clock
from closedloop.deals.models import Quota
from closedloop.errors import ValidationFailed
from closedloop.users.actor import Actor


def set_quota(
    *,
    session: Session,
    period_start: date,
    period_end: date,
    amount_minor: int,
    currency: str,
    actor: Actor,
    user_id: int | None = None,
    team_id: int | None = None,
    clock: Clock = system_clock,
) -> Quota:
    """Set the quota of one rep or one team for a period (inclusive dates); replaces the same period's."""
    if (user_id is None) == (team_id is None):
        raise ValidationFailed("a quota belongs to exactly one rep or one team", detail={"field": "user_id"})
    if period_end < period_start:
        raise ValidationFailed("the quota period ends before it starts", detail={"field": "period_end"})
    if amount_minor < 0:
        raise ValidationFailed("a quota cannot be negative", detail={"field": "amount"})
    quota = session.scalars(
        select(Quota).where(
            Quota.user_id.is_(None) if user_id is None else Quota.user_id == user_id,
            Quota.team_id.is_(None) if team_id is None else Quota.team_id == team_id,
            Quota.period_start == period_start,
            Quota.period_end == period_end,
        )
    ).first()
    before = snapshot(quota) if quota is not None else None
    if quota is None:
        quota = Quota(
            user_id=user_id,
            team_id=team_id,
            period_start=period_start,
            period_end=period_end,
            amount_minor=amount_minor,
            currency=currency.upper(),
        )
        session.add(quota)
    else:
        quota.amount_minor, quota.currency = amount_minor, currency.upper()
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="quota.set",
        entity_type="quota",
        entity_id=quota.id,
        before=before,
        after=snapshot(quota),
        clock=clock,
    )
    return quota


def quotas_overlapping(session: Session, *, start: date, end: date) -> list[Quota]:
    """Quotas whose period overlaps [start, end] (inclusive dates)."""
    return list(
        session.scalars(
            select(Quota)
            .where(Quota.period_start <= end, Quota.period_end >= start)
            .order_by(Quota.period_start, Quota.id)
        )
    )
