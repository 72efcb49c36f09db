"""JSON API for the audit log: read-only, for admins and managers (no route changes or deletes it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from closedloop.access import policy
from closedloop.access.scope import get_visible, scoped
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.schemas_people import AuditOut
from closedloop.api.types import MAX_ID, IdPath, Limit, Moment, Offset, Page
from closedloop.audit.models import AuditLog

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", response_model=Page[AuditOut])
def list_audit(
    session: SessionDep,
    actor: CurrentActor,
    entity_type: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_]+$")] = None,
    entity_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] = None,
    actor_user_id: Annotated[int | None, Query(alias="actor", ge=1, le=MAX_ID)] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_.]+$")] = None,
    from_: Annotated[Moment | None, Query(alias="from")] = None,
    to: Annotated[Moment | None, Query()] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Audit entries, newest first, filtered by entity, actor (user id), action and time (closed-open)."""
    policy.require(actor, "audit", "read")
    stmt = scoped(select(AuditLog), AuditLog, actor)
    if entity_type:
        stmt = stmt.where(AuditLog.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditLog.entity_id == entity_id)
    if actor_user_id:
        stmt = stmt.where(AuditLog.actor_user_id == actor_user_id)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if from_:
        stmt = stmt.where(AuditLog.occurred_at >= from_)
    if to:
        stmt = stmt.where(AuditLog.occurred_at < to)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = session.scalars(stmt.order_by(AuditLog.id.desc()).limit(limit).offset(offset)).all()
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/audit/{entry_id}", response_model=AuditOut)
def get_audit(entry_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One audit entry."""
    policy.require(actor, "audit", "read")
    return get_visible(session, AuditLog, entry_id, actor)
