"""The SLA policy: what each side commits to, and the deadlines of one hand-off under it.

Sales: first response within N business hours, M attempts within D calendar days, a decision
(accept or reject) within K business hours, and a share of hand-offs answered on time.
Marketing: an MQL volume per month (prorated by days for other periods) and a quality floor,
the MQL->SQL rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from closedloop.errors import ValidationFailed
from closedloop.i18n import translate
from closedloop.workspace.calendar import Calendar, add_business_hours

DEFAULT_SLA: dict[str, Any] = {
    "sales": {
        "first_response_hours": 4,
        "response_compliance": 0.9,
        "attempts": 3,
        "attempts_within_days": 5,
        "accept_within_hours": 24,
    },
    "marketing": {"mql_volume_per_month": 0, "mql_to_sql_rate": 0.0},
}


@dataclass(frozen=True)
class SlaPolicy:
    first_response_hours: float
    response_compliance: float
    attempts: int
    attempts_within_days: float
    accept_within_hours: float
    mql_volume_per_month: float
    mql_to_sql_rate: float


@dataclass(frozen=True)
class Deadlines:
    response_due_at: datetime
    accept_due_at: datetime
    attempts_due_at: datetime


def parse_sla(payload: Mapping[str, Any]) -> SlaPolicy:
    """Validate an SLA policy payload (missing figures take the defaults)."""
    sales = {**DEFAULT_SLA["sales"], **dict(payload.get("sales", {}))}
    marketing = {**DEFAULT_SLA["marketing"], **dict(payload.get("marketing", {}))}
    try:
        policy = SlaPolicy(
            first_response_hours=float(sales["first_response_hours"]),
            response_compliance=float(sales["response_compliance"]),
            attempts=int(sales["attempts"]),
            attempts_within_days=float(sales["attempts_within_days"]),
            accept_within_hours=float(sales["accept_within_hours"]),
            mql_volume_per_month=float(marketing["mql_volume_per_month"]),
            mql_to_sql_rate=float(marketing["mql_to_sql_rate"]),
        )
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            translate("validator.sla.malformed", detail=str(exc)), detail={"field": "payload"}
        ) from exc
    if min(policy.first_response_hours, policy.accept_within_hours, policy.attempts_within_days) <= 0:
        raise ValidationFailed(translate("validator.sla.positive"), detail={"field": "sales"})
    for name in ("response_compliance", "mql_to_sql_rate"):
        if not 0 <= getattr(policy, name) <= 1:
            raise ValidationFailed(translate("validator.sla.share", name=name), detail={"field": name})
    if policy.attempts < 0 or policy.mql_volume_per_month < 0:
        raise ValidationFailed(translate("validator.sla.negative"), detail={"field": "payload"})
    return policy


def deadlines(policy: SlaPolicy, calendar: Calendar, assigned_at: datetime) -> Deadlines:
    """The hand-off's deadlines: response and decision in business hours, attempts in calendar days."""
    return Deadlines(
        response_due_at=add_business_hours(calendar, assigned_at, policy.first_response_hours),
        accept_due_at=add_business_hours(calendar, assigned_at, policy.accept_within_hours),
        attempts_due_at=assigned_at + timedelta(days=policy.attempts_within_days),
    )
