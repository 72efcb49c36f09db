"""Goal attainment: each shared goal's metric over the goal's own period, against its target,
with a run-rate forecast to the period's end (SPEC section 5, `goal_attainment`)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from closedloop.analytics import snapshot
from closedloop.analytics.declarations import METRICS
from closedloop.analytics.slicing import Slice

ACCUMULATING = ("count", "money_sum")  # totals grow with time; rates and averages do not


def goal_results(url: str, sl: Slice, run_metric: Any) -> list[dict[str, Any]]:
    """One result per goal whose period overlaps the slice's period."""
    goals = snapshot.rows(
        url,
        "SELECT g.id, g.name, g.metric, g.target, g.period_start, g.period_end, g.filters FROM store.goals g"
        " WHERE g.period_start <= $to AND g.period_end >= $from ORDER BY g.period_start, g.id",
        {"from": sl.date_from, "to": sl.date_to},
    )
    as_of_day = sl.as_of.astimezone(__import__("zoneinfo").ZoneInfo(sl.workspace.time_zone)).date()
    results = []
    for goal in goals:
        declared = METRICS.get(goal["metric"])
        if declared is None or declared.name == "goal_attainment":
            continue
        # The goal's owner and team are who answers for it, not a filter; filters name dimensions and stages.
        filters = _filters(goal["filters"])
        stages = {k: filters.pop(k)[0] for k in ("stage", "from_stage", "to_stage") if k in filters}
        where = {k: v for k, v in filters.items() if k in declared.dimensions}
        found = run_metric(
            declared, goal["period_start"], goal["period_end"], where,
            stages.get("from_stage", stages.get("stage")), stages.get("to_stage"),
        )  # fmt: skip
        actual = found[0]["value"] if found else None
        target = float(goal["target"])
        forecast = _run_rate(actual, declared.kind, goal["period_start"], goal["period_end"], as_of_day)
        results.append({
            "metric": "goal_attainment", "group": {"goal": goal["name"]},
            "value": actual / target if actual is not None and target else None, "unit": "ratio",
            "currency": found[0].get("currency") if found else None, "numerator": actual, "denominator": target,
            "low": None, "high": None, "immature": None,
            "figures": {"metric": declared.name, "forecast": forecast,
                        "forecast_attainment": forecast / target if forecast is not None and target else None},
        })  # fmt: skip
    return results


def _filters(raw: Any) -> dict[str, list[str]]:
    data = json.loads(raw) if isinstance(raw, str) else (raw or {})
    return {str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in data.items()}


def _run_rate(actual: float | None, kind: str, start: date, end: date, today: date) -> float | None:
    """Totals extrapolated at the pace so far; other figures forecast as they stand."""
    if actual is None or kind not in ACCUMULATING:
        return actual
    if today < start:
        return None
    elapsed = (min(today, end) - start + timedelta(days=1)).days
    total = (end - start + timedelta(days=1)).days
    return actual * total / elapsed
