"""Run a model by name: the one entry point the CLI, the API and reports use."""

from __future__ import annotations

from collections.abc import Callable

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
