"""The analytics Python API: what the CLI, the HTTP API, pages and reports call."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from closedloop.analytics import attributed, ltv, snapshot
from closedloop.analytics import compile as comp
from closedloop.analytics import funnel as funnel_mod
from closedloop.analytics import relations as rel
from closedloop.analytics.declarations import METRICS, Metric, expand
from closedloop.analytics.slicing import Scope, Slice, Workspace, make_slice
from closedloop.analytics.stats import wilson
from closedloop.clock import Clock, system_clock
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

COHORT_RATES = ("conversion", "lead_to_customer_rate", "retention", "churn_rate")  # they report `immature`


def workspace(url: str) -> Workspace:
    """The workspace settings as the analytics engine reads them."""
    found = snapshot.rows(
        url,
        "SELECT reporting_time_zone AS tz, reporting_currency AS cur, conversion_window_days AS win,"
        " stale_deal_days AS stale, fiscal_year_start_month AS fy FROM store.workspace_settings ORDER BY id LIMIT 1",
    )
    if not found:
        return Workspace()
    row = found[0]
    return Workspace(
        row["tz"] or "Asia/Taipei",
        (row["cur"] or "TWD").upper(),
        int(row["win"] or 90),
        int(row["stale"] or 30),
        int(row["fy"] or 1),
    )


def slice_for(
    url: str,
    *,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    as_of: str | datetime | None = None,
    by: tuple[str, ...] | list[str] = (),
    where: Any = None,
    window: int | None = None,
    scope: Scope | None = None,
    clock: Clock = system_clock,
) -> Slice:
    """A validated slice over the store's workspace settings."""
    return make_slice(
        workspace(url),
        date_from=date_from,
        date_to=date_to,
        as_of=as_of,
        by=by,
        where=where,
        window=window,
        scope=scope,
        clock=clock,
    )


def funnel(url: str, *, stages: Any = None, mode: str = "cohort", **slicing: Any) -> dict[str, Any]:
    """The waterfall (SPEC sections 5 and 7)."""
    return funnel_mod.funnel(
        url, slice_for(url, **slicing), stages=funnel_mod.parse_stages(stages), mode=mode
    )


def declaration(name: str) -> Metric:
    """The declaration of a metric, or a user error naming the known ones."""
    if name not in METRICS:
        raise ValidationFailed(
            translate("analytics.error.unknown_metric", metric=name, known=", ".join(METRICS)),
            detail={"field": "metric", "value": name},
        )
    return METRICS[name]


def metrics(
    url: str,
    names: list[str] | tuple[str, ...],
    *,
    from_stage: str | None = None,
    to_stage: str | None = None,
    model: str = "first_touch",
    order: int = 1,
    half_life_days: float = 7.0,
    **slicing: Any,
) -> dict[str, Any]:
    """Metrics of SPEC section 5 in the JSON shape of section 7.

    `model` (with Markov's `order` and time decay's `half_life_days`) is the attribution model
    that credits channels and campaigns in cac, roi, roas and cost per lead/MQL/SQL.
    """
    declared = [declaration(n) for n in expand(names)]
    if any(m.name in attributed.CREDITED for m in declared):
        attributed.check_model(model, order)
    sl = slice_for(url, **slicing)
    results: list[dict[str, Any]] = []
    for m in declared:
        if m.name == "goal_attainment":
            results.extend(_goals(url, sl, from_stage, to_stage))
            continue
        if m.name in ltv.NAMES:
            found = ltv.results(url, m, sl, lambda s: _unsliced(url, "cac", s))
            results.extend(found or ([] if sl.by else [{"metric": m.name, "group": {}, **_empty(m)}]))
            continue
        if attributed.uses_model(m, sl, model):
            compiled = attributed.compile_credited(
                url, m, sl, model=model, order=order, half_life_days=half_life_days
            )
        else:
            compiled = comp.compile_metric(m, sl, from_stage=from_stage, to_stage=to_stage)
        results.extend(_results(url, compiled, sl))
    return {"as_of": sl.iso(sl.as_of), "results": results}


def _unsliced(url: str, name: str, sl: Slice) -> dict[str, Any] | None:
    """One metric over the whole period (no groups, no filters), or None without data."""
    from dataclasses import replace

    whole = replace(sl, by=(), where={})
    found = _results(url, comp.compile_metric(METRICS[name], whole), whole)
    return found[0] if found else None


def _goals(url: str, sl: Slice, from_stage: str | None, to_stage: str | None) -> list[dict[str, Any]]:
    from dataclasses import replace

    from closedloop.analytics.goals import goal_results
    from closedloop.analytics.slicing import make_slice

    def run(
        m: Metric, start: Any, end: Any, where: dict[str, list[str]], first: Any, second: Any
    ) -> list[Any]:
        goal_slice = make_slice(sl.workspace, date_from=start, date_to=end, as_of=sl.as_of, where=where,
                                window=sl.window, scope=sl.scope)  # fmt: skip
        goal_slice = replace(goal_slice, by=())
        # Commitments count real reaches only (SPEC section 2: implied MQLs never count for marketing).
        compiled = comp.compile_metric(
            m, goal_slice, from_stage=first or from_stage, to_stage=second or to_stage, real_only=True
        )
        return _results(url, compiled, goal_slice)

    return goal_results(url, sl, run)


def _money(value: float | None, sl: Slice) -> float | None:
    return None if value is None else round(float(value), rel.exponent(sl.workspace.currency))


def _results(url: str, c: comp.Compiled, sl: Slice) -> list[dict[str, Any]]:
    rows = snapshot.rows(url, comp.aggregate_sql(c), c.sql.params)
    reasons: dict[tuple[Any, ...], dict[str, int]] = {}
    if c.metric.name == "rejection_rate":
        for r in snapshot.rows(url, comp.reasons_sql(c), c.sql.params):
            key = tuple(r[f"g_{d}"] for d in c.dims)
            reasons.setdefault(key, {})[r["reason"]] = int(r["k"])
    out = []
    for row in rows:
        if row.get("miss") or row.get("lmiss"):
            currency, _, day = str(row["miss_key"] if row.get("miss") else row["lmiss_key"]).partition(" ")
            raise ValidationFailed(
                translate("analytics.error.missing_rate", currency=currency, date=day),
                detail={"currency": currency, "date": day},
            )
        shaped = _shape(c.metric, row, sl)
        if shaped is None and c.dims:
            continue
        result = {
            "metric": c.metric.name,
            "group": {d: row[f"g_{d}"] for d in c.dims},
            **(shaped or _empty(c.metric)),
        }
        if c.metric.unit == "money":
            result["currency"] = sl.workspace.currency
        if c.metric.name == "rejection_rate":
            result["reasons"] = reasons.get(tuple(row[f"g_{d}"] for d in c.dims), {})
        out.append(result)
    return out


def _empty(m: Metric) -> dict[str, Any]:
    result: dict[str, Any] = {
        "value": 0 if m.kind in ("count", "money_sum") else None,
        "unit": m.unit,
        "currency": None,
        "numerator": None,
        "denominator": None,
        "low": None,
        "high": None,
        "immature": 0 if m.name in COHORT_RATES else None,
    }
    if m.kind == "stats":
        result["figures"] = {"median": None, "mean": None, "p90": None}
    if m.kind in ("rate", "cost_per", "money_mean", "mean"):
        result["numerator"], result["denominator"] = 0, 0
    return result


def _shape(m: Metric, row: dict[str, Any], sl: Slice) -> dict[str, Any] | None:
    """One aggregated row as a result; None when the group has no data."""
    base: dict[str, Any] = {"unit": m.unit, "currency": None, "low": None, "high": None, "immature": None}
    if m.kind == "rate":
        n, d, i = int(row["n"]), int(row["d"]), int(row["i"])
        if d == 0 and i == 0:
            return None
        low, high = wilson(n, d)
        immature = i if m.name in COHORT_RATES else None
        return {
            **base,
            "value": n / d if d else None,
            "numerator": n,
            "denominator": d,
            "low": low,
            "high": high,
            "immature": immature,
        }
    if m.kind == "count":
        d = int(row["d"])
        return None if d == 0 else {**base, "value": d, "numerator": None, "denominator": None}
    count = int(row["cnt"] or 0)
    if m.kind == "pair":
        return _pair(m, row, sl, base)
    if m.kind == "cost_per":
        credited = float(row["ld"] or 0)  # fractional under models that split credit
        leads: float | int = int(credited) if credited == int(credited) else round(credited, 10)
        spent = _money(row["sx"], sl)
        if spent is None and leads == 0:
            return None
        spent = spent or 0.0  # no spend recorded for the group: it cost nothing
        value = _money(spent / leads, sl) if leads else None
        return {**base, "value": value, "numerator": spent, "denominator": leads}
    if count == 0:
        return None
    if m.kind == "stats":
        figures = {"median": float(row["med"]), "mean": float(row["mean"]), "p90": float(row["p90"])}
        return {
            **base,
            "value": figures["median"],
            "numerator": float(row["sx"]),
            "denominator": count,
            "figures": figures,
        }
    if m.kind == "money_sum":
        result = {**base, "value": _money(row["sx"], sl), "numerator": None, "denominator": None}
        if m.name == "pipeline_as_of":
            result["figures"] = {"deals": int(row["d"]), "slipped": int(row["n"]), "stale": int(row["i"])}
        return result
    total = float(row["sx"])
    value = total / count
    if m.unit == "money":
        total, value = _money(total, sl) or 0.0, _money(value, sl) or 0.0
    return {**base, "value": value, "numerator": total, "denominator": count}


def _pair(m: Metric, row: dict[str, Any], sl: Slice, base: dict[str, Any]) -> dict[str, Any] | None:
    """Two sums a (facts) and b (lfacts) combined by the declaration's formula."""
    a, b = row["sx"], row["ld"]
    if a is None and b is None:
        return None
    a, b = float(a or 0.0), float(b or 0.0)
    formula = m.options["formula"]
    if formula == "a/b":
        numerator, denominator = a, b
    elif formula == "b/a":
        numerator, denominator = b, a
    else:  # (b-a)/a
        numerator, denominator = b - a, a
    value = numerator / denominator if denominator else None
    return {
        **base,
        "value": value,
        "numerator": _money(numerator, sl),
        "denominator": _money(denominator, sl),
        "currency": sl.workspace.currency,
    }


def drill(
    url: str,
    *,
    metric: str | None = None,
    group: dict[str, str] | None = None,
    part: str = "denominator",
    stage: str | None = None,
    stages: Any = None,
    mode: str = "cohort",
    from_stage: str | None = None,
    to_stage: str | None = None,
    page: int = 1,
    page_size: int = 100,
    **slicing: Any,
) -> dict[str, Any]:
    """The ids behind one cell, paged: lead ids for lead metrics and the funnel, deal ids for deals.

    `metric=None` drills a funnel cell (`stage`, or the immature leads when `stage` is None);
    `part` is numerator, denominator or immature for rates, anything for other metrics.
    """
    group = group or {}
    sl = slice_for(url, **{**slicing, "by": tuple(group)})
    wanted = " AND ".join(f"g_{d} = ${'g' + str(i)}" for i, d in enumerate(group)) or "TRUE"
    binds = {f"g{i}": str(v) for i, v in enumerate(group.values())}
    if metric is None:
        sql, params = funnel_mod.drill_sql(sl, funnel_mod.parse_stages(stages), mode, stage)
        sql = sql.replace("SELECT id FROM facts WHERE ", f"SELECT id FROM facts WHERE {wanted} AND ")
        subject = "lead"
    else:
        m = declaration(metric)
        c = comp.compile_metric(m, sl, from_stage=from_stage, to_stage=to_stage)
        params = c.sql.params
        table, condition = "facts", {"numerator": "den AND num", "immature": "imm"}.get(part, "den")
        if m.kind in ("stats", "money_sum", "money_mean", "mean"):
            condition = "x IS NOT NULL"
        if m.kind in ("cost_per", "pair") and part == "denominator":
            table, condition = "lfacts", "TRUE"
        sql = rel.with_clause(c.ctes) + f"SELECT id FROM {table} WHERE {wanted} AND {condition}"
        subject = (
            "lead" if m.subject == "lead" or (m.kind == "cost_per" and part == "denominator") else m.subject
        )
    page, page_size = max(1, int(page)), max(1, min(int(page_size), 10_000))
    offset = (page - 1) * page_size
    paged = f"SELECT id, count(*) OVER () AS total FROM ({sql}) ORDER BY id LIMIT {page_size} OFFSET {offset}"
    found = snapshot.rows(url, paged, {**params, **binds})
    if found:
        total = int(found[0]["total"])
    else:  # past the last page: still say how many there are
        total = int(snapshot.rows(url, f"SELECT count(*) AS k FROM ({sql})", {**params, **binds})[0]["k"])
    return {
        "subject": subject,
        "ids": [int(r["id"]) for r in found],
        "page": page,
        "page_size": page_size,
        "total": total,
    }
