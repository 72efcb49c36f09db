"""JSON API for shared goals: every role reads them, managers and admins set them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from closedloop.access import policy
from closedloop.access.scope import visibility
from closedloop.analytics.slicing import Scope
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.helpers import check_assignment, flush, page
from closedloop.api.schemas_records import GoalIn, GoalOut, GoalPatch
from closedloop.api.types import IdPath, Limit, Offset, Page
from closedloop.audit import service as audit_service
from closedloop.errors import NotFound, ValidationFailed
from closedloop.goals.models import Goal
from closedloop.goals.service import joint_scorecard
from closedloop.i18n import translate

router = APIRouter(prefix="/api/v1", tags=["goals"])


def _goal(session: Any, goal_id: int) -> Goal:
    goal = session.get(Goal, goal_id)
    if goal is None:
        raise NotFound(translate("access.error.not_found", resource="goals", id=goal_id))
    return goal


def _check_period(goal: Goal) -> None:
    if goal.period_end < goal.period_start:
        raise ValidationFailed(translate("access.error.period"))


@router.get("/goals", response_model=Page[GoalOut])
def list_goals(session: SessionDep, actor: CurrentActor, limit: Limit = 100, offset: Offset = 0) -> Any:
    """Shared goals (targets, no personal data: every role)."""
    policy.require(actor, "goals", "read")
    return page(session, select(Goal), Goal.id, limit, offset)


@router.get("/goals/scorecard")
def scorecard(
    session: SessionDep,
    actor: CurrentActor,
    date_from: Annotated[str, Query(alias="from", description="First local date (YYYY-MM-DD).")],
    date_to: Annotated[str, Query(alias="to", description="Last local date, inclusive.")],
    as_of: str | None = None,
) -> Any:
    """Goal attainment with run-rate, and the joint scorecard (each team credited with the other's outcome)."""
    policy.require(actor, "goals", "read")
    seen = visibility(session=session, actor=actor)
    scope = None if seen.everything else Scope(seen.owner_ids, seen.team_ids)
    bind: Any = session.get_bind()
    url = str(bind.url.render_as_string(hide_password=False))
    return joint_scorecard(
        url, session=session, date_from=date_from, date_to=date_to, as_of=as_of, scope=scope
    )


@router.get("/goals/{goal_id}", response_model=GoalOut)
def get_goal(goal_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One goal."""
    policy.require(actor, "goals", "read")
    return _goal(session, goal_id)


@router.post("/goals", response_model=GoalOut, status_code=status.HTTP_201_CREATED)
def create_goal(body: GoalIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Set a goal (managers for their team, admins for anyone)."""
    policy.require(actor, "goals", "write")
    check_assignment(session, actor, body.owner_id, body.team_id)
    goal = Goal(**body.model_dump(exclude_unset=True))
    _check_period(goal)
    session.add(goal)
    flush(session, "goal")
    audit_service.record(
        session,
        actor=actor,
        action="goal.created",
        entity_type="goal",
        entity_id=goal.id,
        after=audit_service.snapshot(goal),
    )
    return goal


@router.patch("/goals/{goal_id}", response_model=GoalOut)
def update_goal(goal_id: IdPath, body: GoalPatch, session: SessionDep, actor: CurrentActor) -> Any:
    """Change a goal's name, target, period, team or owner."""
    policy.require(actor, "goals", "write")
    goal = _goal(session, goal_id)
    values = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    if "owner_id" in values or "team_id" in values:
        check_assignment(session, actor, values.get("owner_id"), values.get("team_id"))
    before = audit_service.snapshot(goal)
    for key, value in values.items():
        setattr(goal, key, value)
    _check_period(goal)
    flush(session, "goal")
    audit_service.record(
        session,
        actor=actor,
        action="goal.updated",
        entity_type="goal",
        entity_id=goal.id,
        before=before,
        after=audit_service.snapshot(goal),
    )
    return goal
