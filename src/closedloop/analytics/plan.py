"""Reverse waterfall planning: from a revenue target back to the leads and budget it takes.

Measured over a basis period (default: the 365 days up to as-of), every input is a scorecard
metric computed the usual way (so it can be drilled and disputed):
  average deal size (avg_deal_size), win rate (win_rate), cohort conversions lead->mql,
  mql->sql and sql->opportunity (conversion), median velocities of the same steps (velocity)
  and the median sales cycle (sales_cycle), and per channel the leads created (stage_count)
  and the cost per lead (cpl).
Then, for a revenue target over the plan period:
  won deals = target / average deal size; opportunities = won / win rate;
  SQLs = opportunities / (sql->opportunity); MQLs = SQLs / (mql->sql); leads = MQLs / (lead->mql);
spread evenly over the plan period's months, each month's leads due `lead_time_days` (the sum of
the median velocities and the sales cycle) before the month they close in; and each channel's
share of the leads (its share of leads created in the basis period) at its measured CPL gives
its budget. Nothing is rounded until it is shown.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

STEPS = (("lead", "mql"), ("mql", "sql"), ("sql", "opportunity"))


def _months(start: date, end: date) -> list[tuple[date, date]]:
    """The calendar months the plan period touches, each clipped to the period."""
    months, day = [], start
    while day <= end:
        following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        months.append((day, min(end, following - timedelta(days=1))))
        day = following
    return months


def _one(found: dict[str, Any], name: str) -> dict[str, Any] | None:
    rows = [r for r in found["results"] if r["metric"] == name and not r["group"]]
    return rows[0] if rows else None


def plan(
    url: str,
    *,
    target: float,
    date_from: str | date,
    date_to: str | date,
    basis_from: str | date | None = None,
    basis_to: str | date | None = None,
    as_of: Any = None,
    scope: Any = None,
) -> dict[str, Any]:
    """The plan for `target` (reporting currency) over [date_from, date_to] as one JSON-ready dict."""
    from closedloop.analytics import api
    from closedloop.analytics.slicing import fiscal_period, parse_date

    if not target or float(target) <= 0:
        raise ValidationFailed(translate("analytics.plan.error.target"), detail={"field": "target"})
    fiscal_start = api.workspace(url).fiscal_year_start_month
    opening = fiscal_period(date_from, fiscal_start) if isinstance(date_from, str) else None
    closing = fiscal_period(date_to, fiscal_start) if isinstance(date_to, str) else None
    start = opening[0] if opening else parse_date(date_from, "from")
    end = closing[1] if closing else parse_date(date_to, "to")
    if start is None or end is None or start > end:
        raise ValidationFailed(translate("analytics.error.empty_period"), detail={"field": "from"})
    basis = {"date_from": basis_from, "date_to": basis_to, "as_of": as_of, "scope": scope}
    sl = api.slice_for(url, **basis)
    deals = api.metrics(url, ["avg_deal_size", "win_rate", "sales_cycle"], **basis)
    inputs: dict[str, Any] = {
        "avg_deal_size": _one(deals, "avg_deal_size"),
        "win_rate": _one(deals, "win_rate"),
        "sales_cycle": _one(deals, "sales_cycle"),
    }
    for s, t in STEPS:
        found = api.metrics(url, ["conversion", "velocity"], from_stage=s, to_stage=t, **basis)
        inputs[f"{s}->{t}"] = _one(found, "conversion")
        inputs[f"velocity {s}->{t}"] = _one(found, "velocity")
    needed = ["avg_deal_size", "win_rate", *(f"{s}->{t}" for s, t in STEPS)]
    for name in needed:
        if not inputs[name] or not inputs[name]["value"]:
            raise ValidationFailed(
                translate("analytics.plan.error.unmeasured", input=name), detail={"field": name}
            )
    target = float(target)
    counts = {"won": target / inputs["avg_deal_size"]["value"]}
    counts["opportunity"] = counts["won"] / inputs["win_rate"]["value"]
    for s, t in reversed(STEPS):
        counts[s] = counts[t] / inputs[f"{s}->{t}"]["value"]
    lags = [inputs[f"velocity {s}->{t}"] for s, t in STEPS] + [inputs["sales_cycle"]]
    lead_time = sum(float(v["value"]) for v in lags if v and v["value"] is not None)
    months = _months(start, end)
    days = (end - start).days + 1
    per_month = []
    for first, last in months:
        share = ((last - first).days + 1) / days
        per_month.append({
            "month": first.strftime("%Y-%m"), "revenue": target * share,
            **{stage: n * share for stage, n in counts.items()},
            "leads_by": (first - timedelta(days=round(lead_time))).isoformat(),
        })  # fmt: skip
    channels = _channels(url, basis, counts["lead"])
    return {
        "target": target,
        "currency": sl.workspace.currency,
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "basis": {"from": sl.date_from.isoformat(), "to": sl.date_to.isoformat(), "as_of": sl.iso(sl.as_of)},
        "inputs": {k: _input(v) for k, v in inputs.items()},
        "lead_time_days": lead_time,
        "required": counts,
        "per_month": per_month,
        "channels": channels,
        "budget": sum(c["budget"] for c in channels if c["budget"] is not None),
    }


def _input(result: dict[str, Any] | None) -> dict[str, Any] | None:
    if result is None:
        return None
    keep = ("value", "unit", "numerator", "denominator", "low", "high", "immature")
    return {k: result.get(k) for k in keep}


def _channels(url: str, basis: dict[str, Any], leads: float) -> list[dict[str, Any]]:
    """Each channel's share of the basis period's leads, its CPL, and the leads and budget it takes."""
    from closedloop.analytics import api

    created = api.metrics(url, ["stage_count"], from_stage="lead", by=["channel"], **basis)["results"]
    cpl = api.metrics(url, ["cpl"], by=["channel"], **basis)["results"]
    costs = {r["group"]["channel"]: r["value"] for r in cpl}
    total = sum(int(r["value"] or 0) for r in created)
    rows = []
    for r in created:
        channel, share = r["group"]["channel"], (int(r["value"] or 0) / total if total else 0.0)
        cost = costs.get(channel)
        needed = leads * share
        rows.append({
            "channel": channel, "share": share, "leads": needed, "cpl": cost,
            "budget": None if cost is None else needed * cost,
        })  # fmt: skip
    rows.sort(key=lambda c: (-(c["budget"] or 0.0), -c["leads"], c["channel"]))
    return rows
