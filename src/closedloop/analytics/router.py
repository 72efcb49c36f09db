"""JSON API of the scorecard: `/api/v1/analytics/{funnel,metrics,drill}` (SPEC section 7 shapes).

Every role may read numbers; sales and managers count only what their scope covers (the access
issue's `visibility`); drill-through lists person-level ids, so viewers may not use it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from closedloop.access import policy
from closedloop.access.scope import visibility
from closedloop.analytics import api
from closedloop.analytics.slicing import Scope
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.errors import Forbidden
from closedloop.i18n import translate

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
Dims = Annotated[list[str], Query(default_factory=list, description="Group by these dimensions.")]
Filters = Annotated[list[str], Query(default_factory=list, description="DIM=VALUE filters (repeatable).")]
Day = Annotated[
    str | None,
    Query(
        description="An inclusive local date (YYYY-MM-DD) or a fiscal period (FY2026, FY2026-Q2, FY2026-H1, FY2026-M03)."
    ),
]


def _context(session: Any, actor: Any) -> tuple[str, Scope | None, bool]:
    """The store URL, the actor's aggregate scope and whether person-level rows may be listed."""
    policy.require(actor, "leads", "summary")
    seen = visibility(session=session, actor=actor)
    scope = None if seen.everything else Scope(seen.owner_ids, seen.team_ids)
    url = session.get_bind().url.render_as_string(hide_password=False)
    return url, scope, seen.personal_data


@router.get("/funnel")
def funnel(
    session: SessionDep,
    actor: CurrentActor,
    by: Dims,
    where: Filters,
    stages: str | None = None,
    mode: str = "cohort",
    window: int | None = None,
    date_from: Annotated[Day, Query(alias="from")] = None,
    date_to: Annotated[Day, Query(alias="to")] = None,
    as_of: str | None = None,
) -> dict[str, Any]:
    """The lifecycle waterfall."""
    url, scope, _ = _context(session, actor)
    return api.funnel(url, stages=stages, mode=mode, by=by, where=where, window=window, date_from=date_from,
                      date_to=date_to, as_of=as_of, scope=scope)  # fmt: skip


@router.get("/metrics")
def metrics(
    session: SessionDep,
    actor: CurrentActor,
    name: Annotated[list[str], Query(min_length=1, description="Metric names of SPEC section 5.")],
    by: Dims,
    where: Filters,
    from_stage: str | None = None,
    to_stage: str | None = None,
    model: Annotated[
        str, Query(description="Attribution model for cac, roi, roas, cost per X.")
    ] = "first_touch",
    order: Annotated[int, Query(ge=1, le=4, description="Markov order.")] = 1,
    half_life: Annotated[float, Query(gt=0, description="Time-decay half life in days.")] = 7.0,
    window: int | None = None,
    date_from: Annotated[Day, Query(alias="from")] = None,
    date_to: Annotated[Day, Query(alias="to")] = None,
    as_of: str | None = None,
) -> dict[str, Any]:
    """Any metrics of the scorecard."""
    url, scope, _ = _context(session, actor)
    return api.metrics(url, name, from_stage=from_stage, to_stage=to_stage, model=model, order=order,
                       half_life_days=half_life, by=by, where=where, window=window, date_from=date_from,
                       date_to=date_to, as_of=as_of, scope=scope)  # fmt: skip


@router.get("/drill")
def drill(
    session: SessionDep,
    actor: CurrentActor,
    where: Filters,
    group: Annotated[list[str], Query(default_factory=list, description="The cell's DIM=VALUE pairs.")],
    metric: str | None = None,
    part: str = "denominator",
    stage: str | None = None,
    stages: str | None = None,
    mode: str = "cohort",
    from_stage: str | None = None,
    to_stage: str | None = None,
    window: int | None = None,
    date_from: Annotated[Day, Query(alias="from")] = None,
    date_to: Annotated[Day, Query(alias="to")] = None,
    as_of: str | None = None,
    page: int = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The lead or deal ids behind one cell (a funnel stage without `metric`), paged."""
    url, scope, personal = _context(session, actor)
    if not personal:
        raise Forbidden(translate("analytics.error.no_drill"))
    cell = dict(item.split("=", 1) for item in group if "=" in item)
    return api.drill(url, metric=metric, group=cell, part=part, stage=stage, stages=stages, mode=mode,
                     from_stage=from_stage, to_stage=to_stage, page=page, page_size=page_size, where=where,
                     window=window, date_from=date_from, date_to=date_to, as_of=as_of, scope=scope)  # fmt: skip


@router.get("/plan")
def plan(
    session: SessionDep,
    actor: CurrentActor,
    target: Annotated[float, Query(gt=0, description="Revenue target in the reporting currency.")],
    date_from: Annotated[str, Query(alias="from", description="First local date of the plan period.")],
    date_to: Annotated[str, Query(alias="to", description="Last local date of the plan period.")],
    basis_from: Day = None,
    basis_to: Day = None,
    as_of: str | None = None,
) -> dict[str, Any]:
    """Reverse waterfall: required opportunities, SQLs, MQLs and leads per month, budget per channel."""
    from closedloop.analytics import plan as plan_mod

    url, scope, _ = _context(session, actor)
    policy.require(actor, "campaigns", "read")  # budgets per channel are campaign figures
    return plan_mod.plan(url, target=target, date_from=date_from, date_to=date_to, basis_from=basis_from,
                         basis_to=basis_to, as_of=as_of, scope=scope)  # fmt: skip
