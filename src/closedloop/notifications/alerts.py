"""Time-driven notifications the worker raises between deliveries: SLA deadlines about to pass and
shared goals whose run-rate falls short.

Each is written to the outbox once (idempotency key per hand-off and deadline kind, per goal and
period), in the job's own transaction, and delivered like every other message. A state change
(a hand-off assigned, rejected, a deal won) raises its message in the change's own transaction;
these two have no change to ride on: the clock moving is the event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.clock import Clock, system_clock
from closedloop.outbox import service as outbox

# How long before a deadline its owner is warned.
SLA_WARNING = timedelta(hours=1)
# A goal is at risk when its run-rate forecast reaches less than this share of its target (or, for
# metrics where lower is better, more than target / AT_RISK), once this share of its period has passed.
AT_RISK = 0.9
MIN_ELAPSED = 0.25
LOWER_IS_BETTER = frozenset({
    "velocity", "sales_cycle", "cpl", "cost_per_mql", "cost_per_sql", "cac", "response_time",
    "rejection_rate", "payback_months", "churn_rate",
})  # fmt: skip
# A spend goal is a budget: neither side of it is "at risk" in this sense.
NO_DIRECTION = frozenset({"spend"})


def warn_sla(session: Session, clock: Clock = system_clock, *, within: timedelta = SLA_WARNING) -> list[str]:
    """Warn the owner of each live hand-off whose first-response or acceptance deadline falls within
    `within` from now (and has not passed); returns the keys newly written."""
    from closedloop.handoffs.models import Handoff

    now = clock()
    soon = now + within
    first = select(Handoff).where(
        Handoff.status.in_(("open", "accepted")), Handoff.first_response_at.is_(None),
        Handoff.breached_at.is_(None), Handoff.sla_due_at > now, Handoff.sla_due_at <= soon,
    )  # fmt: skip
    accept = select(Handoff).where(
        Handoff.status == "open", Handoff.accepted_at.is_(None),
        Handoff.accept_due_at > now, Handoff.accept_due_at <= soon,
    )  # fmt: skip
    items: list[tuple[str, dict[str, Any]]] = []
    for kind, query, due_of in (
        ("first_response", first, lambda h: h.sla_due_at),
        ("accept", accept, lambda h: h.accept_due_at),
    ):
        for h in session.scalars(query.order_by(Handoff.id)):
            due: datetime = due_of(h)
            payload: dict[str, Any] = {
                "handoff_id": h.id, "lead_id": h.lead_id, "owner_id": h.owner_id, "team_id": h.team_id,
                "kind": kind, "due_at": due.isoformat(),
                "minutes_left": max(0, int((due - now).total_seconds() // 60)),
            }  # fmt: skip
            if h.owner_id is not None:
                payload["user_ids"] = [h.owner_id]  # the owner is warned; the team's managers on a breach
            items.append((f"sla.about_to_breach:{kind}:{h.id}", payload))
    return (
        outbox.enqueue_many(session, topic="sla.about_to_breach", items=items, clock=clock) if items else []
    )


def at_risk(goal: dict[str, Any], *, elapsed: float) -> bool:
    """True when a goal's forecast falls short of its target by more than the margin (pure)."""
    metric, forecast, target = goal.get("metric"), goal.get("forecast"), goal.get("target")
    if metric in NO_DIRECTION or forecast is None or not target or elapsed < MIN_ELAPSED:
        return False
    if metric in LOWER_IS_BETTER:
        return float(forecast) > float(target) / AT_RISK
    return float(forecast) < AT_RISK * float(target)


def goals_at_risk(session: Session, clock: Clock = system_clock) -> list[str]:
    """Raise `goal.at_risk` once per goal and period for goals in progress whose run-rate falls short."""
    from closedloop.goals import service as goal_service
    from closedloop.reports.render import fmt
    from closedloop.workspace.models import WorkspaceSettings

    now = clock()
    zone = session.scalar(select(WorkspaceSettings.reporting_time_zone).where(WorkspaceSettings.id == 1))
    today = now.astimezone(ZoneInfo(zone or "Asia/Taipei")).date()
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    items: list[tuple[str, dict[str, Any]]] = []
    for g in goal_service.attainment(url, session=session, date_from=today, date_to=today, as_of=now):
        if g["goal_id"] is None or not g["period_start"] or not g["period_end"]:
            continue
        start, end = (datetime.fromisoformat(g[k]).date() for k in ("period_start", "period_end"))
        elapsed = ((today - start).days + 1) / ((end - start).days + 1)
        if not at_risk(g, elapsed=elapsed):
            continue
        unit, currency = g["unit"], g.get("currency")
        items.append((f"goal.at_risk:{g['goal_id']}:{g['period_end']}", {
            "goal_id": g["goal_id"], "owner_id": g["owner_id"], "team_id": g["team_id"],
            "progress": fmt(g["actual"], unit, currency), "target": fmt(g["target"], unit, currency),
            "run_rate": fmt(g["forecast"], unit, currency), "period_end": g["period_end"],
        }))  # fmt: skip
    return outbox.enqueue_many(session, topic="goal.at_risk", items=items, clock=clock) if items else []
