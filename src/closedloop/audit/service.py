"""Writing the audit log. Services call `record` inside their transaction; nothing edits it later."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from closedloop.audit.models import AuditLog
from closedloop.clock import Clock, system_clock
from closedloop.users.actor import Actor

# Never written to the audit log, whatever the entity.
SECRET_FIELDS = frozenset(
    {"password", "password_hash", "key_hash", "token_hash", "totp_secret", "csrf_token"}
)


def snapshot(obj: Any, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A JSON-safe picture of a mapped object's columns (secrets left out)."""
    columns = fields or tuple(c.key for c in obj.__table__.columns)
    return {name: _json_safe(getattr(obj, name)) for name in columns if name not in SECRET_FIELDS}


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    clock: Clock = system_clock,
) -> AuditLog:
    """Append one audit entry in the caller's transaction."""
    entry = AuditLog(
        occurred_at=clock(),
        actor_user_id=actor.user_id,
        actor_api_key_id=actor.api_key_id,
        via=actor.via,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=_strip(before),
        after=_strip(after),
    )
    session.add(entry)
    return entry


def _strip(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: _json_safe(v) for k, v in values.items() if k not in SECRET_FIELDS}


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
