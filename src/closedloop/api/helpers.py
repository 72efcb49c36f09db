"""Helpers shared by the routers: paging, duplicate detection, who may own a record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from closedloop.errors import Conflict, Forbidden, ValidationFailed
from closedloop.i18n import translate
from closedloop.users.actor import Actor
from closedloop.users.models import Team, User


def page(session: Session, stmt: Select[Any], order: Any, limit: int, offset: int) -> dict[str, Any]:
    """One page of `stmt` with the total the caller may see."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = session.scalars(stmt.order_by(order).limit(limit).offset(offset)).all()
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def flush(session: Session, what: str) -> None:
    """Flush, turning a unique-constraint violation into a 409 naming `what` (the request then rolls back)."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(translate("access.error.duplicate", field=what)) from exc


def check_assignment(session: Session, actor: Actor, owner_id: int | None, team_id: int | None) -> None:
    """Refuse an owner or team the actor may not hand a record to.

    Admins: any active user and any team. Managers: their team and its members. Sales: itself
    and its own team. Marketing and others: nobody (routing and managers assign).
    """
    if owner_id is not None:
        owner = session.get(User, owner_id)
        if owner is None or not owner.is_active:
            raise ValidationFailed(translate("users.error.no_user", email=owner_id))
    if team_id is not None and session.get(Team, team_id) is None:
        raise ValidationFailed(translate("users.error.no_team", name=team_id))
    if owner_id is None and team_id is None:
        return
    if actor.is_system or actor.role == "admin":
        return
    if actor.role == "manager" and actor.team_id is not None:
        owner_ok = owner_id is None or owner_id == actor.user_id or owner.team_id == actor.team_id
        if owner_ok and team_id in (None, actor.team_id):
            return
    if actor.role == "sales":
        owner_ok = owner_id in (None, actor.user_id)
        if owner_ok and (team_id is None or team_id == actor.team_id):
            return
    raise Forbidden(translate("access.error.owner_outside_scope"))
