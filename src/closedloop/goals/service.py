"""Goal attainment and the joint scorecard: every number comes from the analytics API.

Attainment and its run-rate forecast to the period end are `goal_attainment` (SPEC section 5).
The joint scorecard gives each team a score where part is the other team's outcome: marketing is
credited with the share of won revenue that came from its (inbound) leads, sales with SLA
compliance and the acceptance rate of the hand-offs it received.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.analytics import api
from closedloop.analytics.declarations import METRICS
from closedloop.goals.models import Goal

OWN_WEIGHT = 0.7  # a team's own goals
CROSS_WEIGHT = 0.3  # the other team's outcome it is credited with
ATTAINMENT_CAP = 1.5  # one runaway goal cannot hide the others
SIDES = ("marketing", "sales")


def attainment(
    url: str, *, session: Session, date_from: str | date, date_to: str | date, as_of: str | datetime | None,
    scope: Any = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Each goal overlapping the period: actual, target, attainment, forecast, with its side and owner."""
    found = api.metrics(
        url, ["goal_attainment"], date_from=date_from, date_to=date_to, as_of=as_of, scope=scope
    )
    goals: dict[str, Goal] = {}
    for row in session.scalars(select(Goal).order_by(Goal.period_start, Goal.id)):
        goals.setdefault(row.name, row)
    rows = []
    for result in found["results"]:
        name = result["group"]["goal"]
        goal = goals.get(name)
        figures = result.get("figures") or {}
        rows.append({
            "goal": name, "goal_id": goal.id if goal else None, "side": goal.side if goal else "joint",
            "owner_id": goal.owner_id if goal else None, "team_id": goal.team_id if goal else None,
            "metric": figures.get("metric"),
            "unit": METRICS[figures["metric"]].unit if figures.get("metric") in METRICS else None,
            "actual": result["numerator"], "target": result["denominator"],
            "attainment": result["value"], "forecast": figures.get("forecast"),
            "forecast_attainment": figures.get("forecast_attainment"), "currency": result.get("currency"),
            "period_start": goal.period_start.isoformat() if goal else None,
            "period_end": goal.period_end.isoformat() if goal else None,
        })  # fmt: skip
    return rows


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _blend(own: float | None, cross: float | None) -> float | None:
    """OWN_WEIGHT x own + CROSS_WEIGHT x cross; a missing part leaves the other at full weight."""
    if own is None and cross is None:
        return None
    if own is None:
        return cross
    if cross is None:
        return own
    return OWN_WEIGHT * own + CROSS_WEIGHT * cross


def _value(url: str, name: str, **slicing: Any) -> dict[str, Any] | None:
    results = api.metrics(url, [name], **slicing)["results"]
    return results[0] if results else None


def cross_outcomes(url: str, **slicing: Any) -> dict[str, dict[str, Any]]:
    """What each team is credited with from the other's work, over the slice's period."""
    won_all = _value(url, "avg_deal_size", **slicing)
    won_inbound = _value(url, "avg_deal_size", **{**slicing, "where": {"source_type": "inbound"}})
    total = float(won_all["numerator"]) if won_all and won_all["numerator"] is not None else 0.0
    inbound = float(won_inbound["numerator"]) if won_inbound and won_inbound["numerator"] is not None else 0.0
    sla = _value(url, "sla_compliance", **slicing)
    rejection = _value(url, "rejection_rate", **slicing)
    compliance = sla["value"] if sla else None
    acceptance = None if rejection is None or rejection["value"] is None else 1 - rejection["value"]
    return {
        "marketing": {
            "revenue_from_its_leads": inbound,
            "revenue_total": total,
            "share": inbound / total if total else None,
        },
        "sales": {
            "sla_compliance": compliance,
            "acceptance_rate": acceptance,
            "share": _mean([compliance, acceptance]),
        },
    }


def joint_scorecard(
    url: str, *, session: Session, date_from: str | date, date_to: str | date, as_of: str | datetime | None,
    scope: Any = None,
) -> dict[str, Any]:  # fmt: skip
    """Both teams' scores: own goals (joint goals count for both) blended with the other's outcome."""
    goals = attainment(url, session=session, date_from=date_from, date_to=date_to, as_of=as_of, scope=scope)
    cross = cross_outcomes(url, date_from=date_from, date_to=date_to, as_of=as_of, scope=scope)
    teams = {}
    for side in SIDES:
        mine = [g for g in goals if g["side"] in (side, "joint")]
        own = _mean([None if g["attainment"] is None else min(g["attainment"], ATTAINMENT_CAP) for g in mine])
        teams[side] = {
            "own_attainment": own,
            "cross": cross[side],
            "score": _blend(own, cross[side]["share"]),
            "goals": [g["goal"] for g in mine],
        }
    return {
        "weights": {"own": OWN_WEIGHT, "cross": CROSS_WEIGHT, "cap": ATTAINMENT_CAP},
        "goals": goals,
        "teams": teams,
    }
