"""What is stuck in the outbox: counts, dead messages with their errors, and requeueing them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from closedloop.clock import Clock, system_clock
from closedloop.errors import NotFound, ValidationFailed
from closedloop.i18n import translate
from closedloop.notifications.models import NotificationChannel, NotificationDelivery
from closedloop.outbox.models import OutboxMessage


def status(session: Session, *, limit: int = 50) -> dict[str, Any]:
    """Counts by status and the dead messages with their last errors (for `worker --status`)."""
    counts = {s: 0 for s in ("pending", "delivered", "dead")}
    for (state,) in session.execute(select(OutboxMessage.status)):
        counts[state] = counts.get(state, 0) + 1
    return {"counts": counts, "dead": dead_messages(session, limit=limit)}


def dead_messages(session: Session, *, limit: int = 50) -> list[dict[str, Any]]:
    """Dead messages, newest first, each with its failed destinations and their last error."""
    messages = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "dead")
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    out = []
    for message in messages:
        failed = session.execute(
            select(NotificationDelivery, NotificationChannel.name)
            .join(NotificationChannel, NotificationChannel.id == NotificationDelivery.channel_id)
            .where(NotificationDelivery.message_id == message.id, NotificationDelivery.status == "dead")
            .order_by(NotificationDelivery.id)
        )
        out.append(
            {
                "id": message.id,
                "topic": message.topic,
                "idempotency_key": message.idempotency_key,
                "attempts": message.attempts,
                "last_error": message.last_error,
                "deliveries": [
                    {
                        "channel": name,
                        "recipient": d.recipient,
                        "delivery_key": d.delivery_key,
                        "attempts": d.attempts,
                        "last_error": d.last_error,
                    }
                    for d, name in failed
                ],
            }
        )
    return out


def requeue(*, session: Session, message_id: int, clock: Clock = system_clock) -> OutboxMessage:
    """Give a dead message a fresh set of attempts (after the channel was fixed); done ones stay done."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(translate("notifications.error.no_message", id=message_id))
    if message.status != "dead":
        raise ValidationFailed(translate("notifications.error.not_dead", id=message_id))
    message.status, message.attempts, message.available_at = "pending", 0, clock()
    message.claimed_by, message.claimed_until = None, None
    session.execute(
        update(NotificationDelivery)
        .where(NotificationDelivery.message_id == message_id, NotificationDelivery.status == "dead")
        .values(status="pending"),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    return message
