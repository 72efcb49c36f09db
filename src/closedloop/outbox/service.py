"""Writing to the transactional outbox: a message commits with the change that caused it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from closedloop.clock import Clock, system_clock
from closedloop.outbox.models import OutboxMessage


def enqueue(
    session: Session,
    *,
    topic: str,
    payload: dict[str, Any],
    idempotency_key: str,
    clock: Clock = system_clock,
) -> OutboxMessage:
    """Add a message in the caller's transaction; the same key twice gives the first message back."""
    existing = session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    ).first()
    if existing is not None:
        return existing
    now = clock()
    message = OutboxMessage(
        topic=topic,
        payload=json.loads(json.dumps(payload, default=_encode)),
        idempotency_key=idempotency_key,
        status="pending",
        created_at=now,
        available_at=now,
    )
    session.add(message)
    session.flush()
    return message


def enqueue_many(
    session: Session,
    *,
    topic: str,
    items: Sequence[tuple[str, dict[str, Any]]],
    clock: Clock = system_clock,
) -> list[str]:
    """Add many (idempotency key, payload) messages with one flush; returns the keys newly written."""
    keys = [key for key, _ in items]
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        existing |= set(
            session.scalars(
                select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(chunk))
            )
        )
    now = clock()
    rows = []
    for key, payload in items:
        if key in existing:
            continue
        existing.add(key)
        rows.append(
            {
                "topic": topic,
                "payload": json.loads(json.dumps(payload, default=_encode)),
                "idempotency_key": key,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "available_at": now,
            }
        )
    if rows:
        session.flush()
        # A set-based INSERT: a breach sweep may write thousands of messages at once.
        session.execute(insert(OutboxMessage), rows)
    fresh = [row["idempotency_key"] for row in rows]
    return fresh


def pending(session: Session, *, topic: str | None = None) -> list[OutboxMessage]:
    """Messages not yet delivered, oldest first."""
    query = select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id)
    if topic is not None:
        query = query.where(OutboxMessage.topic == topic)
    return list(session.scalars(query))


def _encode(value: Any) -> str:
    """Datetimes and dates as ISO 8601, anything else (Decimal...) as its string."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
