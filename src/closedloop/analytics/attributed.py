"""Money metrics under any attribution model: the credited side of CAC, ROI, ROAS and cost per X.

The spend side stays the compiled `facts` of `compile.spend_facts`; the credited side (`lfacts`)
comes from the attribution layer: journeys built inside the analytics engine for the
conversions of the period (`attribution.aggregated.journeys_for`), credited by the chosen model
(`attribution.service.attribute`), and added up per channel and/or campaign. Only the few credited
keys travel back into SQL (as bound VALUES), so the aggregation and the JSON shape are the
first-touch path's own.

first_touch keeps its SQL path (a lead's recorded first touch, SPEC section 5); every model
goes through here when the question groups or filters by channel or campaign (without either,
every model credits the same total, so the totals are the first-touch path's).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from closedloop.analytics import compile as comp
from closedloop.analytics import relations as rel
from closedloop.analytics.declarations import Metric
from closedloop.analytics.slicing import Slice, check_dimension
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

DEFAULT_MODEL = "first_touch"
# metric -> (conversion credited, journey value): counts for cost per X, money for ROAS/ROI
CREDITED: dict[str, tuple[str, str]] = {
    "cac": ("customer", "count"),
    "cpl": ("lead", "count"),
    "cost_per_mql": ("mql", "count"),
    "cost_per_sql": ("sql", "count"),
    "roas": ("won", "amount"),
    "roi": ("won", "margin"),
}


def models() -> tuple[str, ...]:
    from closedloop.attribution.service import MODELS

    return MODELS


def check_model(model: str, order: int = 1) -> None:
    """Refuse an unknown model (or Markov order) with a user error naming the known ones."""
    if model not in models():
        raise ValidationFailed(
            translate("analytics.error.bad_model", model=model, known=", ".join(models())),
            detail={"field": "model", "value": model},
        )
    from closedloop.attribution.markov import MAX_ORDER

    if model == "markov" and not 1 <= int(order) <= MAX_ORDER:
        raise ValidationFailed(translate("attribution.error.order", max=MAX_ORDER), detail={"field": "order"})


def uses_model(metric: Metric, sl: Slice, model: str) -> bool:
    """Whether `metric` over `sl` is computed from the model's credits (not the first-touch SQL)."""
    return metric.name in CREDITED and model != DEFAULT_MODEL and bool(sl.by or sl.where)


def credits_by_group(
    url: str, metric: Metric, sl: Slice, *, model: str, order: int = 1, half_life_days: float = 7.0
) -> dict[tuple[str, ...], float]:
    """{group values (sl.by order): credited conversions or value} for the period's conversions."""
    from closedloop.attribution.aggregated import journeys_for
    from closedloop.attribution.journeys import KEY_SEP, NOT_SET
    from closedloop.attribution.service import attribute

    conversion, measure = CREDITED[metric.name]
    keyed = tuple(dict.fromkeys((*sl.by, *sl.where)))  # the dimensions a key must carry
    # The smallest input giving the model its exact credits (Markov: key sequences; Shapley: key sets).
    journeys = journeys_for(
        model,
        url,
        conversion=conversion,
        by=keyed,
        start=sl.start,
        end=sl.end,
        as_of=sl.as_of_naive,
        value="margin" if measure == "margin" else "amount",
        scope=sl.scope,
    )
    credits = attribute(journeys, model, order=order, half_life_days=half_life_days)
    amounts = credits.conversions if measure == "count" else credits.values
    totals: dict[tuple[str, ...], float] = {}
    for key, amount in zip(credits.keys, amounts, strict=True):  # one entry per credited key
        if not amount:
            continue
        # A touch without a channel or campaign is credited where spend without one is: `(none)`.
        parts = [rel.NONE if p == NOT_SET else p for p in key.split(KEY_SEP)]
        if len(parts) != len(keyed):  # `(none)`: a conversion without touches
            parts = [rel.NONE] * len(keyed)
        values = dict(zip(keyed, parts, strict=True))
        if any(values[d] not in allowed for d, allowed in sl.where.items()):
            continue
        group = tuple(values[d] for d in sl.by)
        totals[group] = totals.get(group, 0.0) + float(amount)
    return totals


def compile_credited(
    url: str, metric: Metric, sl: Slice, *, model: str, order: int = 1, half_life_days: float = 7.0
) -> comp.Compiled:
    """The metric's spend `facts` with `lfacts` holding the model's credit per group."""
    for dim in (*sl.by, *sl.where):
        check_dimension(dim, metric.dimensions)
    q = rel.Sql()
    # The spend side alone (no first-touch leads, no sales costs: the question is by channel or campaign).
    compiled = comp.spend_facts(replace(metric, kind="money_sum", name="spend"), sl, q, sl.by)
    compiled.metric = metric
    totals = credits_by_group(url, metric, sl, model=model, order=order, half_life_days=half_life_days)
    columns = [*(f"g_{d}" for d in sl.by), "y"]
    if totals:
        rows = ", ".join(
            "("
            + ", ".join(
                [*(f"CAST({q.bind(v, 'k')} AS VARCHAR)" for v in g), f"CAST({q.bind(y, 'k')} AS DOUBLE)"]
            )
            + ")"
            for g, y in sorted(totals.items())
        )
        source = f"(VALUES {rows}) AS credited({', '.join(columns)})"
        compiled.ctes.append(
            f"lfacts AS (SELECT {', '.join(columns)}, FALSE AS miss, CAST(NULL AS VARCHAR) AS miss_key FROM {source})"
        )
    else:
        empty = ", ".join([*(f"CAST(NULL AS VARCHAR) AS g_{d}" for d in sl.by), "CAST(0 AS DOUBLE) AS y"])
        compiled.ctes.append(
            f"lfacts AS (SELECT {empty}, FALSE AS miss, CAST(NULL AS VARCHAR) AS miss_key WHERE FALSE)"
        )
    return compiled


def attributed_totals(
    url: str, metric: Metric, sl: Slice, *, model: str, order: int = 1, half_life_days: float = 7.0
) -> list[dict[str, Any]]:
    """Per-group credits as plain rows (reports and tests)."""
    found = credits_by_group(url, metric, sl, model=model, order=order, half_life_days=half_life_days)
    return [{"group": dict(zip(sl.by, g, strict=True)), "credited": y} for g, y in sorted(found.items())]
