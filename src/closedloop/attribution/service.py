"""Run a model by name: the one entry point the CLI, the API and reports use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from closedloop.attribution.data import Credits, Journeys
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

MODELS = (
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "markov",
    "shapley",
)
NEEDS_TIMES = frozenset({"time_decay", "w_shaped"})  # refused on path tables
DATA_DRIVEN = frozenset({"markov", "shapley"})  # fitted on journeys that never converted too


def model_runner(model: str, *, order: int = 1, half_life_days: float = 7.0) -> Callable[[Journeys], Credits]:
    """A function journeys -> credits for one model and its parameters."""
    from closedloop.attribution import heuristics, markov, shapley

    if model == "first_touch":
        return heuristics.first_touch
    if model == "last_touch":
        return heuristics.last_touch
    if model == "linear":
        return heuristics.linear
    if model == "time_decay":
        return lambda j: heuristics.time_decay(j, half_life_days=half_life_days)
    if model == "position_based":
        return heuristics.position_based
    if model == "w_shaped":
        return heuristics.w_shaped
    if model == "markov":
        if not 1 <= order <= markov.MAX_ORDER:
            raise ValidationFailed(
                translate("attribution.error.order", max=markov.MAX_ORDER), detail={"field": "order"}
            )
        return lambda j: markov.markov(j, order=order)
    if model == "shapley":
        return shapley.shapley
    raise ValidationFailed(f"unknown attribution model {model!r}", detail={"field": "model"})


def attribute(journeys: Journeys, model: str, *, order: int = 1, half_life_days: float = 7.0) -> Credits:
    """Credits of one model on the journeys."""
    if model in NEEDS_TIMES and journeys.ages is None:
        raise ValidationFailed(
            translate("attribution.error.needs_times", model=model), detail={"field": "model"}
        )
    return model_runner(model, order=order, half_life_days=half_life_days)(journeys)


def applicable_models(journeys: Journeys) -> tuple[str, ...]:
    """Every model the journeys can feed (path tables lack times for two of them)."""
    return tuple(m for m in MODELS if journeys.ages is not None or m not in NEEDS_TIMES)


def to_document(credits: Credits, journeys: Journeys, *, conversion: str, currency: str) -> dict[str, Any]:
    """The JSON shape of SPEC section 7, keys ordered by credited conversions (largest first).

    With bootstrap intervals, `low`/`high` bound the conversions and `value_low`/`value_high` the value.
    """
    rows = []
    for i, key in enumerate(credits.keys):
        row: dict[str, Any] = {
            "key": key,
            "conversions": _clean(credits.conversions[i]),
            "value": _clean(credits.values[i]),
        }
        if credits.removal_effects is not None:
            row["removal_effect"] = _clean(credits.removal_effects[i])
        if credits.low:
            row["low"] = _clean(credits.low["conversions"][i])
            row["high"] = _clean(credits.high["conversions"][i])
            row["value_low"] = _clean(credits.low["values"][i])
            row["value_high"] = _clean(credits.high["values"][i])
        rows.append(row)
    rows.sort(key=lambda r: (-r["conversions"], r["key"]))
    return {
        "model": credits.model,
        "conversion": conversion,
        "total_conversions": _clean(journeys.conversions.sum()),
        "total_value": _clean(journeys.values.sum()),
        "currency": currency,
        "credits": rows,
    }


def store_attribution(
    url: str,
    *,
    model: str,
    conversion: str,
    by: str = "channel",
    order: int = 1,
    half_life_days: float = 7.0,
    lookback_days: int | None = None,
    bootstrap: int = 0,
) -> dict[str, Any]:
    """One model on the store's journeys, as the SPEC section 7 document (the API and reports use this)."""
    from closedloop.attribution.aggregated import journeys_for
    from closedloop.attribution.bootstrap import with_intervals
    from closedloop.attribution.journeys import reporting_currency

    # Each model reads only what it needs (converting journeys, key sequences or key sets);
    # a bootstrap resamples journeys, so it keeps every one.
    journeys = journeys_for(
        model, url, conversion=conversion, by=by, lookback_days=lookback_days, resampled=bool(bootstrap)
    )
    credits = attribute(journeys, model, order=order, half_life_days=half_life_days)
    if bootstrap:
        runner = model_runner(model, order=order, half_life_days=half_life_days)
        credits = with_intervals(journeys, runner, resamples=bootstrap, point=credits)
    return to_document(credits, journeys, conversion=conversion, currency=reporting_currency(url))


def _clean(x: float) -> float:
    """A finite float rounded to 10 decimals (sums of many shares carry float noise)."""
    value = round(float(x), 10)
    return 0.0 if value == 0 else value
