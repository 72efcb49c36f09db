"""Quarantine: list, show, fix, replay and discard rejected rows and events (CLI now, API later).

Import rows replay through their kind's processor. Other sources (capture, webhooks) register
a replayer with `register_replayer(source, fn)`; fn(session=, record=, actor=, clock=) returns
(outcome, errors) and writes nothing when errors is not empty.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.errors import Conflict, NotFound, ValidationFailed
from closedloop.quarantine.models import QuarantinedRecord
from closedloop.users.actor import Actor

STATUSES = ("open", "replayed", "discarded")
Replayer = Callable[..., tuple[str, list[Any]]]
_REPLAYERS: dict[str, Replayer] = {}


def register_replayer(source: str, replayer: Replayer) -> None:
    """Make records of `source` replayable (the capture endpoint registers its own)."""
    _REPLAYERS[source] = replayer


# Sources whose replayer is imported on first use, so every process (CLI, server, worker) can replay.
_REPLAYER_MODULES = {
    "import": ("closedloop.imports.replay", "replay_import_row"),
    "capture": ("closedloop.capture.replay", "replay_capture_record"),
}


def _replayer(source: str) -> Replayer:
    if source not in _REPLAYERS and source in _REPLAYER_MODULES:
        module, name = _REPLAYER_MODULES[source]
        _REPLAYERS[source] = getattr(importlib.import_module(module), name)
    if source not in _REPLAYERS:
        raise ValidationFailed(f"records from {source!r} cannot be replayed here", detail={"field": "source"})
    return _REPLAYERS[source]


def list_records(
    *,
    session: Session,
    status: str | None = "open",
    source: str | None = None,
    kind: str | None = None,
    import_job_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
    visible: Any = None,
) -> tuple[list[QuarantinedRecord], int]:
    """A page of quarantined records (oldest first) and the total matching.

    `visible` is an extra condition on the records (the caller's row scope), if any.
    """
    query = select(QuarantinedRecord)
    if visible is not None:
        query = query.where(visible)
    if status:
        query = query.where(QuarantinedRecord.status == status)
    if source:
        query = query.where(QuarantinedRecord.source == source)
    if kind:
        query = query.where(QuarantinedRecord.kind == kind)
    if import_job_id is not None:
        query = query.where(QuarantinedRecord.import_job_id == import_job_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(QuarantinedRecord.id).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def get_record(*, session: Session, record_id: int) -> QuarantinedRecord:
    """The quarantined record with this id, or NotFound."""
    record = session.get(QuarantinedRecord, record_id)
    if record is None:
        raise NotFound(f"quarantined record {record_id} not found")
    return record


def _open(session: Session, record_id: int) -> QuarantinedRecord:
    record = get_record(session=session, record_id=record_id)
    if record.status != "open":
        raise Conflict(f"quarantined record {record_id} is {record.status}, not open")
    return record


def fix_record(
    *, session: Session, record_id: int, changes: dict[str, str], actor: Actor, clock: Clock = system_clock
) -> QuarantinedRecord:
    """Edit cells of a rejected row (by its column names) before replaying it."""
    record = _open(session, record_id)
    payload = dict(record.payload or {})
    values = dict(payload.get("values") or payload)
    before = {k: values.get(k) for k in changes}
    values.update(changes)
    payload["values"] = values
    record.payload = payload
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="quarantine.fixed",
        entity_type="quarantined_record",
        entity_id=record.id,
        before=before,
        after=dict(changes),
        clock=clock,
    )
    return record


def replay_record(
    *, session: Session, record_id: int, actor: Actor, clock: Clock = system_clock
) -> tuple[str, list[Any]]:
    """Run a record through its source's processing again: (outcome, errors); errors keep it open."""
    record = _open(session, record_id)
    outcome, errors = _replayer(record.source)(session=session, record=record, actor=actor, clock=clock)
    if errors:
        record.errors = [e.as_dict() if hasattr(e, "as_dict") else dict(e) for e in errors]
        record.reason = "; ".join(
            f"{d.get('column')}: {d.get('reason')}" if d.get("column") else str(d.get("reason"))
            for d in record.errors
        )
        session.flush()
        return "invalid", errors
    record.status = "replayed"
    record.replayed_at = clock()
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="quarantine.replayed",
        entity_type="quarantined_record",
        entity_id=record.id,
        after={"outcome": outcome, "kind": record.kind, "source": record.source},
        clock=clock,
    )
    return outcome, []


def discard_record(
    *, session: Session, record_id: int, actor: Actor, reason: str, clock: Clock = system_clock
) -> QuarantinedRecord:
    """Give up on a record (kept, marked discarded, with the reason in the audit log)."""
    record = _open(session, record_id)
    record.status = "discarded"
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="quarantine.discarded",
        entity_type="quarantined_record",
        entity_id=record.id,
        after={"reason": reason},
        clock=clock,
    )
    return record


def as_dict(record: QuarantinedRecord) -> dict[str, Any]:
    """A JSON-safe view of a record."""
    return {
        "id": record.id,
        "source": record.source,
        "kind": record.kind,
        "import_job_id": record.import_job_id,
        "row": record.row_number,
        "status": record.status,
        "reason": record.reason,
        "errors": record.errors,
        "payload": record.payload,
        "created_at": record.created_at.isoformat() if record.created_at else None,
        "replayed_at": record.replayed_at.isoformat() if record.replayed_at else None,
    }
