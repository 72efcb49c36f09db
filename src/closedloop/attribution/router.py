"""`/api/v1/analytics/attribution`: the same credits as the CLI, for dashboards and API clients."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from closedloop.access import policy
from closedloop.api.deps import CurrentActor

router = APIRouter(prefix="/api/v1/analytics", tags=["attribution"])

Model = Literal[
    "first_touch", "last_touch", "linear", "time_decay", "position_based", "w_shaped", "markov", "shapley"
]
Conversion = Literal["lead", "mql", "sql", "opportunity", "won"]
Dimension = Literal["channel", "utm_source", "campaign", "utm_content"]


@router.get("/attribution")
def attribution(
    request: Request,
    actor: CurrentActor,
    model: Model = "first_touch",
    conversion: Conversion = "won",
    by: Dimension = "channel",
    order: Annotated[int, Query(ge=1, le=4)] = 1,
    half_life: Annotated[float, Query(gt=0)] = 7.0,
    lookback: Annotated[int | None, Query(ge=1)] = None,
    bootstrap: Annotated[int, Query(ge=0, le=1000)] = 0,
    compare: bool = False,
) -> dict[str, Any]:
    """Credits of one model (SPEC section 7 shape), or with `compare` every model side by side."""
    from closedloop.attribution.service import store_attribution

    policy.require(actor, "leads", "summary")
    policy.require(actor, "deals", "summary")
    url = request.app.state.settings.database_url
    if compare:
        from closedloop.attribution.compare import compare_models
        from closedloop.attribution.journeys import build_journeys

        journeys = build_journeys(url, conversion=conversion, by=by, lookback_days=lookback)
        comparison = compare_models(journeys, order=order, half_life_days=half_life)
        return {"conversion": conversion, "models": comparison.models, "rows": comparison.rows()}
    return store_attribution(
        url,
        model=model,
        conversion=conversion,
        by=by,
        order=order,
        half_life_days=half_life,
        lookback_days=lookback,
        bootstrap=bootstrap,
    )
