"""The two-sided SLA ledger: what marketing promised next to what sales promised, for a period and team.

Marketing: MQL volume (real MQL events of inbound leads only: implied reaches and voided events
never count) against the monthly target prorated by days, and the quality floor, the share of
those MQL'd leads that reached SQL (or later) by `as_of`. Sales, over the hand-offs assigned in
the period: first response within the SLA, the required attempts within their window, and a
decision (accept or reject) by its deadline. Each line has its actual, target and breach list.
"""

from __future__ import annotations

import calendar as calendar_module
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from closedloop.handoffs import sla
from closedloop.handoffs.models import RESPONSE_ACTIVITY_TYPES, Activity, Handoff
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.policies.service import payload_in_force

LATER_THAN_MQL = ("sql", "opportunity", "customer")


@dataclass
class Line:
    """One commitment: actual against target, with the rows that broke it."""

    side: str
    name: str
    unit: str  # count | ratio
    actual: float | None
    target: float
    numerator: int | None = None
    denominator: int | None = None
    figures: dict[str, float | None] = field(default_factory=dict)
    breaches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def met(self) -> bool | None:
        return None if self.actual is None else self.actual >= self.target

    def as_dict(self, zone: ZoneInfo | None = None) -> dict[str, Any]:
        return {
            "side": self.side,
            "commitment": self.name,
            "unit": self.unit,
            "actual": self.actual,
            "target": self.target,
            "met": self.met,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "figures": self.figures,
            "breaches": [{k: _render(v, zone) for k, v in b.items()} for b in self.breaches],
        }


@dataclass
class Ledger:
    period_start: datetime
    period_end: datetime
    as_of: datetime
    team_id: int | None
    sla_policy_version_id: int | None
    lines: list[Line]
    time_zone: str = "Asia/Taipei"

    def as_dict(self) -> dict[str, Any]:
        zone = ZoneInfo(self.time_zone)
        return {
            "period_start": _render(self.period_start, zone),
            "period_end": _render(self.period_end, zone),
            "as_of": _render(self.as_of, zone),
            "team_id": self.team_id,
            "sla_policy_version_id": self.sla_policy_version_id,
            "lines": [line.as_dict(zone) for line in self.lines],
        }


def prorated_target(per_month: float, start: datetime, end: datetime, time_zone: str) -> float:
    """A monthly target over [start, end): each local calendar month counts by its share of days."""
    zone = ZoneInfo(time_zone)
    day, last = start.astimezone(zone).date(), (end.astimezone(zone) - timedelta(microseconds=1)).date()
    total = 0.0
    while day <= last:
        days_in_month = calendar_module.monthrange(day.year, day.month)[1]
        month_end = day.replace(day=days_in_month)
        covered = (min(month_end, last) - day).days + 1
        total += per_month * covered / days_in_month
        day = month_end + timedelta(days=1)
    return round(total, 6)


def sla_ledger(
    *,
    session: Session,
    period_start: datetime,
    period_end: datetime,
    as_of: datetime,
    team_id: int | None = None,
    time_zone: str = "Asia/Taipei",
) -> Ledger:
    """Both sides' commitments over [period_start, period_end), measured at `as_of`."""
    payload, version_id = payload_in_force(
        session, "sla", period_end - timedelta(microseconds=1), sla.DEFAULT_SLA
    )
    policy = sla.parse_sla(payload)
    lines = _marketing(session, policy, period_start, period_end, as_of, team_id, time_zone)
    lines += _sales(session, policy, period_start, period_end, as_of, team_id)
    return Ledger(period_start, period_end, as_of, team_id, version_id, lines, time_zone)


def _marketing(
    session: Session,
    policy: sla.SlaPolicy,
    start: datetime,
    end: datetime,
    as_of: datetime,
    team_id: int | None,
    time_zone: str,
) -> list[Line]:
    voided = select(LifecycleEvent.voids_id).where(LifecycleEvent.voids_id.is_not(None))
    conditions = [
        LifecycleEvent.to_stage == "mql",
        LifecycleEvent.implied.is_(False),
        LifecycleEvent.id.not_in(voided),
        LifecycleEvent.occurred_at >= start,
        LifecycleEvent.occurred_at < end,
        LifecycleEvent.occurred_at <= as_of,
        Lead.source_type == "inbound",
    ]
    if team_id is not None:
        conditions.append(Lead.team_id == team_id)
    mql_rows = session.execute(
        select(LifecycleEvent.lead_id, func.min(LifecycleEvent.occurred_at), func.count())
        .join(Lead, Lead.id == LifecycleEvent.lead_id)
        .where(*conditions)
        .group_by(LifecycleEvent.lead_id)
    ).all()
    volume = sum(int(count) for _, _, count in mql_rows)
    target = prorated_target(policy.mql_volume_per_month, start, end, time_zone)
    volume_line = Line("marketing", "mql_volume", "count", float(volume), target, numerator=volume)
    if volume < target:
        volume_line.breaches.append({"kind": "shortfall", "missing": round(target - volume, 6)})
    first_mql = {lead_id: at for lead_id, at, _ in mql_rows}
    later = aliased(LifecycleEvent)
    converted = set()
    if first_mql:
        rows = session.execute(
            select(later.lead_id, func.min(later.occurred_at))
            .where(
                later.lead_id.in_(first_mql),
                later.to_stage.in_(LATER_THAN_MQL),
                later.id.not_in(voided),
                later.occurred_at <= as_of,
            )
            .group_by(later.lead_id)
        ).all()
        converted = {lead_id for lead_id, at in rows if at >= first_mql[lead_id]}
    rate = len(converted) / len(first_mql) if first_mql else None
    quality_line = Line(
        "marketing",
        "mql_to_sql_rate",
        "ratio",
        rate,
        policy.mql_to_sql_rate,
        numerator=len(converted),
        denominator=len(first_mql),
    )
    if first_mql:
        rejected = session.execute(
            select(Handoff.id, Handoff.lead_id, Handoff.rejection_reason, Handoff.rejected_at)
            .where(Handoff.lead_id.in_(first_mql), Handoff.status == "rejected", Handoff.rejected_at <= as_of)
            .order_by(Handoff.id)
        ).all()
        quality_line.breaches = [
            {"handoff_id": h, "lead_id": lead, "reason": reason, "rejected_at": at}
            for h, lead, reason, at in rejected
        ]
    return [volume_line, quality_line]


def _sales(
    session: Session,
    policy: sla.SlaPolicy,
    start: datetime,
    end: datetime,
    as_of: datetime,
    team_id: int | None,
) -> list[Line]:
    """Sales' three commitments, counted in the database: one aggregate, then the breach rows."""
    window_end = func.coalesce(Handoff.attempts_due_at, as_of)
    attempts = (
        select(func.count(Activity.id))
        .where(
            Activity.lead_id == Handoff.lead_id,
            Activity.type.in_(RESPONSE_ACTIVITY_TYPES),
            and_(Activity.recorded_at >= Handoff.assigned_at, Activity.recorded_at <= window_end),
            Activity.recorded_at <= as_of,
        )
        .correlate(Handoff)
        .scalar_subquery()
    )
    scope = [Handoff.assigned_at >= start, Handoff.assigned_at < end, Handoff.assigned_at <= as_of]
    if team_id is not None:
        scope.append(Handoff.team_id == team_id)
    # First response: answered by as_of, or past its deadline unless rejected before it (nothing to answer).
    responded = and_(Handoff.first_response_at.is_not(None), Handoff.first_response_at <= as_of)
    response_counted = or_(
        responded,
        and_(
            Handoff.sla_due_at.is_not(None),
            Handoff.sla_due_at <= as_of,
            ~and_(Handoff.rejected_at.is_not(None), Handoff.rejected_at <= Handoff.sla_due_at),
        ),
    )
    response_met = and_(
        responded, or_(Handoff.sla_due_at.is_(None), Handoff.first_response_at <= Handoff.sla_due_at)
    )
    # Attempts: not owed on rejected hand-offs; counted once met or once the window has closed.
    required = func.coalesce(Handoff.attempts_required, 0)
    attempts_met = and_(Handoff.status != "rejected", required > 0, attempts >= required)
    attempts_counted = and_(
        Handoff.status != "rejected",
        required > 0,
        or_(
            attempts >= required, and_(Handoff.attempts_due_at.is_not(None), Handoff.attempts_due_at <= as_of)
        ),
    )
    # Decision: the earlier of accepted_at and rejected_at known by as_of, by the decision deadline.
    accepted = case((Handoff.accepted_at <= as_of, Handoff.accepted_at))
    rejected = case((Handoff.rejected_at <= as_of, Handoff.rejected_at))
    decided = case(
        (accepted.is_(None), rejected),
        (rejected.is_(None), accepted),
        (accepted <= rejected, accepted),
        else_=rejected,
    )
    decision_counted = or_(
        decided.is_not(None), and_(Handoff.accept_due_at.is_not(None), Handoff.accept_due_at <= as_of)
    )
    decision_met = and_(
        decided.is_not(None), or_(Handoff.accept_due_at.is_(None), decided <= Handoff.accept_due_at)
    )
    flags = {
        "first_response": (response_counted, response_met),
        "attempts": (attempts_counted, attempts_met),
        "acceptance": (decision_counted, decision_met),
    }
    totals = session.execute(
        select(
            *(func.sum(case((counted, 1), else_=0)) for counted, _ in flags.values()),
            *(func.sum(case((and_(counted, met), 1), else_=0)) for counted, met in flags.values()),
        ).where(*scope)
    ).one()
    target = policy.response_compliance
    lines = {}
    for i, (name, (counted, met)) in enumerate(flags.items()):
        denominator, numerator = int(totals[i] or 0), int(totals[i + len(flags)] or 0)
        line = Line("sales", name, "ratio", numerator / denominator if denominator else None, target)
        line.numerator, line.denominator = numerator, denominator
        base = [Handoff.id.label("handoff_id"), Handoff.lead_id, Handoff.owner_id]
        detail = {
            "first_response": [
                Handoff.sla_due_at.label("due_at"),
                case((responded, Handoff.first_response_at)).label("first_response_at"),
            ],
            "attempts": [
                attempts.label("attempts"),
                required.label("required"),
                Handoff.attempts_due_at.label("due_at"),
            ],
            "acceptance": [Handoff.accept_due_at.label("due_at"), decided.label("decided_at")],
        }[name]
        rows = session.execute(
            select(*base, *detail).where(*scope, counted, ~met).order_by(Handoff.id)
        ).mappings()
        line.breaches = [_typed(dict(row)) for row in rows]
        lines[name] = line
    hours: list[float] = [
        h
        for h in session.scalars(
            select(Handoff.response_business_hours).where(
                *scope, responded, Handoff.response_business_hours.is_not(None)
            )
        )
        if h is not None
    ]
    lines["first_response"].figures = {
        "median_business_hours": median(hours) if hours else None,
        "target_hours": policy.first_response_hours,
    }
    lines["attempts"].figures = {
        "attempts_required": float(policy.attempts),
        "within_days": policy.attempts_within_days,
    }
    lines["acceptance"].figures = {"accept_within_hours": policy.accept_within_hours}
    return list(lines.values())


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """CASE expressions lose the column type on SQLite: give their timestamps back as aware UTC."""
    for key, value in row.items():
        if isinstance(value, str) and key.endswith("_at"):
            row[key] = datetime.fromisoformat(value).replace(tzinfo=UTC)
        elif isinstance(value, datetime) and value.tzinfo is None:
            row[key] = value.replace(tzinfo=UTC)
    return row


def _render(value: Any, zone: ZoneInfo | None) -> Any:
    """Timestamps as ISO 8601 with the reporting time zone's offset (SPEC section 7)."""
    if isinstance(value, datetime):
        return (value.astimezone(zone) if zone else value).isoformat()
    return value


REJECTION_DIMENSIONS = ("source_type", "channel", "campaign", "utm_source", "region", "owner", "team")


def rejections(
    *,
    session: Session,
    period_start: datetime,
    period_end: datetime,
    by: tuple[str, ...] = (),
    team_id: int | None = None,
) -> list[dict[str, Any]]:
    """Sales' verdicts flowing back to marketing: hand-offs, rejections and the reason mix per group.

    Groups are the lead's source type, first-touch channel, campaign or utm_source (`(none)` when
    missing), region, owner or team, over hand-offs assigned in [period_start, period_end).
    """
    from closedloop.marketing.models import Campaign

    unknown = [d for d in by if d not in REJECTION_DIMENSIONS]
    if unknown:
        from closedloop.errors import ValidationFailed

        raise ValidationFailed(
            f"cannot group rejections by {unknown[0]!r} (one of: {', '.join(REJECTION_DIMENSIONS)})",
            detail={"field": "by"},
        )
    columns = {
        "source_type": Lead.source_type,
        "channel": func.coalesce(Lead.first_channel, "(none)"),
        "campaign": func.coalesce(Campaign.name, "(none)"),
        "utm_source": func.coalesce(Lead.first_utm_source, "(none)"),
        "region": func.coalesce(Lead.region, "(none)"),
        "owner": Handoff.owner_id,
        "team": Handoff.team_id,
    }
    keys: list[Any] = [columns[d].label(d) for d in by]
    base = (
        select(*keys, Handoff.rejection_reason, func.count(Handoff.id))
        .join(Lead, Lead.id == Handoff.lead_id)
        .outerjoin(Campaign, Campaign.id == Lead.first_campaign_id)
        .where(Handoff.assigned_at >= period_start, Handoff.assigned_at < period_end)
        .group_by(*keys, Handoff.rejection_reason)
    )
    if team_id is not None:
        base = base.where(Handoff.team_id == team_id)
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in session.execute(base).all():
        key, reason, count = tuple(row[: len(by)]), row[len(by)], int(row[len(by) + 1])
        group = groups.setdefault(
            key, {"group": dict(zip(by, key, strict=True)), "handed_off": 0, "rejected": 0, "reasons": {}}
        )
        group["handed_off"] += count
        if reason is not None:
            group["rejected"] += count
            group["reasons"][reason] = group["reasons"].get(reason, 0) + count
    result = sorted(groups.values(), key=lambda g: (-g["handed_off"], str(g["group"])))
    for group in result:
        group["rejection_rate"] = group["rejected"] / group["handed_off"] if group["handed_off"] else None
    return result
