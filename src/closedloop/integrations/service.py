"""Inbound webhooks: verify, refuse replays, then hand the events to the importer of their kind.

Events go through the same validation as file imports (a bad event is quarantined with its
reason, the good ones are written), so a webhook and a CSV of the same rows give the same store.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from closedloop.i18n import translate
from closedloop.integrations.models import INBOUND_KINDS, InboundDelivery, InboundSource
from closedloop.integrations.signing import verify
from closedloop.notifications.crypto import SecretBox
from closedloop.users.actor import Actor, system_actor

MAX_EVENTS = 10_000
# Email marketing tools name their events differently; the touch types they become.
EMAIL_EVENTS = {
    "send": "email_send",
    "sent": "email_send",
    "delivered": "email_send",
    "processed": "email_send",
    "open": "email_open",
    "opened": "email_open",
    "click": "email_click",
    "clicked": "email_click",
    "unsubscribe": "email_unsubscribe",
    "unsubscribed": "email_unsubscribe",
}


def add_source(
    *,
    session: Session,
    name: str,
    kind: str,
    secret: str,
    secret_key: str,
    actor: Actor,
    clock: Clock = system_clock,
) -> InboundSource:
    """Register a system that may post signed events of `kind`; its secret is stored encrypted."""
    if kind not in INBOUND_KINDS:
        raise ValidationFailed(
            translate("integrations.error.unknown_kind", kind=kind, kinds=", ".join(INBOUND_KINDS))
        )
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,99}", name):
        raise ValidationFailed(translate("integrations.error.bad_name"))
    if len(secret) < 16:
        raise ValidationFailed(translate("integrations.error.short_secret"))
    if session.scalar(select(InboundSource.id).where(InboundSource.name == name)) is not None:
        raise Conflict(translate("integrations.error.exists", name=name))
    source = InboundSource(
        name=name,
        kind=kind,
        secret_encrypted=str(SecretBox(secret_key).encrypt(secret)),
        created_by_id=actor.user_id,
        created_at=clock(),
    )
    session.add(source)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="inbound_source.added",
        entity_type="inbound_source",
        entity_id=source.id,
        after={"name": name, "kind": kind},
        clock=clock,
    )
    return source


def _events(body: bytes) -> list[dict[str, Any]]:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ValidationFailed(translate("integrations.error.not_json")) from exc
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ValidationFailed(translate("integrations.error.shape"), detail={"field": "events"})
    if len(events) > MAX_EVENTS:
        raise ValidationFailed(translate("integrations.error.too_many", max=MAX_EVENTS))
    return events


def _normalise(kind: str, event: Mapping[str, Any]) -> dict[str, Any]:
    row = dict(event)
    if kind == "touchpoints":
        if "type" not in row and "event" in row:
            name = str(row.pop("event")).lower()
            row["type"] = EMAIL_EVENTS.get(name, name)
        if "lead_email" not in row and "email" in row:
            row["lead_email"] = row.pop("email")
        if str(row.get("type", "")).startswith("email_"):
            row.setdefault("channel", "Email")
    return row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(column)) for column in columns])


def receive(
    *,
    session: Session,
    source_name: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_key: str,
    clock: Clock = system_clock,
) -> dict[str, Any]:
    """Verify and import one delivery; `headers` keys are lower-case. Flushes only."""
    from closedloop.imports import service as import_service

    source = session.scalar(
        select(InboundSource).where(InboundSource.name == source_name, InboundSource.is_active.is_(True))
    )
    if source is None:
        raise NotFound(translate("integrations.error.no_source", name=source_name))
    now = clock()
    signed_at = verify(
        secret=str(SecretBox(secret_key).decrypt(source.secret_encrypted)),
        timestamp=headers.get("x-closedloop-timestamp"),
        signatures=headers.get("x-closedloop-signature"),
        body=body,
        now=now,
    )
    delivery_id = (headers.get("x-closedloop-delivery") or headers.get("idempotency-key") or "").strip()
    if not delivery_id or len(delivery_id) > 128:
        raise Unauthenticated(translate("integrations.error.no_delivery_id"))
    taken = select(InboundDelivery.id).where(
        InboundDelivery.source_id == source.id, InboundDelivery.delivery_id == delivery_id
    )
    if session.scalar(taken) is not None:
        raise Conflict(translate("integrations.error.replayed", id=delivery_id))
    events = _events(body)
    delivery = InboundDelivery(
        source_id=source.id,
        delivery_id=delivery_id,
        signed_at=signed_at,
        received_at=now,
        body_sha256=hashlib.sha256(body).hexdigest(),
        events=len(events),
    )
    session.add(delivery)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # the same delivery arriving twice at once
        raise Conflict(translate("integrations.error.replayed", id=delivery_id)) from exc
    outcome: dict[str, Any] = {"status": "done", "job_id": None, "rows": 0, "inserted": 0, "rejected": 0}
    if events:
        rows = [_normalise(source.kind, event) for event in events]
        safe_id = re.sub(r"[^A-Za-z0-9_.-]", "_", delivery_id)[:80]
        with tempfile.TemporaryDirectory(prefix="closedloop-webhook-") as folder:
            path = Path(folder) / f"webhook-{source.name}-{safe_id}.csv"
            _write_csv(rows, path)
            report = import_service.run_import(
                session=session,
                kind=source.kind,
                path=path,
                actor=system_actor("webhook"),
                skip_invalid=True,
                clock=clock,
            )
        summary = report.as_dict()
        outcome = {
            key: summary[key] for key in ("status", "job_id", "rows", "inserted", "updated", "rejected")
        }
        outcome["errors"] = summary["errors"][:20]
        delivery.import_job_id = report.job_id
    delivery.outcome = outcome
    session.flush()
    return {"delivery_id": delivery_id, "source": source.name, "kind": source.kind, **outcome}
