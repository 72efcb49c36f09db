"""`/api/v1/quarantine`: list, fix, replay and discard rejected rows and events (as the CLI does).

A record is visible to whoever may write what it would become: an import row to the roles that
may import its kind (`imports.router.KIND_PERMISSION`), a capture event to the roles that record
touches, a form or identify call to the roles that create leads; anything else to admins.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, false, or_

from closedloop.access import policy
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.types import IdPath, Limit, Offset
from closedloop.errors import NotFound
from closedloop.i18n import translate
from closedloop.imports.router import KIND_PERMISSION
from closedloop.quarantine import service
from closedloop.quarantine.models import QuarantinedRecord
from closedloop.users.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["quarantine"])
CAPTURE_PERMISSION: dict[str, tuple[str, str]] = {
    "event": ("touchpoints", "create"),
    "form": ("leads", "create"),
    "identify": ("leads", "create"),
}
Status = Annotated[str, Query(pattern="^(open|replayed|discarded|all)$")]


def _permission(source: str, kind: str) -> tuple[str, str] | None:
    if source == "import":
        return KIND_PERMISSION.get(kind)
    if source == "capture":
        return CAPTURE_PERMISSION.get(kind)
    return None


def may_see(actor: Actor, record: QuarantinedRecord) -> bool:
    """True when the actor may see, fix and replay this record."""
    if actor.is_system or actor.role == "admin":
        return True
    needed = _permission(record.source, record.kind)
    return needed is not None and policy.allowed(actor, *needed)


def _visible(actor: Actor) -> Any:
    if actor.is_system or actor.role == "admin":
        return None
    q = QuarantinedRecord
    imports = [k for k, needed in KIND_PERMISSION.items() if policy.allowed(actor, *needed)]
    captures = [k for k, needed in CAPTURE_PERMISSION.items() if policy.allowed(actor, *needed)]
    parts = []
    if imports:
        parts.append(and_(q.source == "import", q.kind.in_(imports)))
    if captures:
        parts.append(and_(q.source == "capture", q.kind.in_(captures)))
    return or_(*parts) if parts else false()


def _record(session: Any, actor: Actor, record_id: int) -> QuarantinedRecord:
    record = session.get(QuarantinedRecord, record_id)
    if record is None or not may_see(actor, record):
        raise NotFound(translate("access.error.not_found", resource="quarantine", id=record_id))
    return record


class FixIn(BaseModel):
    """Cells to change in a rejected row, by column name."""

    model_config = ConfigDict(extra="forbid")
    changes: dict[str, Annotated[str, Field(max_length=2000)]] = Field(min_length=1, max_length=100)


class DiscardIn(BaseModel):
    """Why the record is given up."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


@router.get("/quarantine")
def list_quarantine(
    session: SessionDep,
    actor: CurrentActor,
    status: Status = "open",
    source: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    import_job_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Rejected rows and events the caller may fix, oldest first."""
    records, total = service.list_records(
        session=session,
        status=None if status == "all" else status,
        source=source,
        kind=kind,
        import_job_id=import_job_id,
        limit=limit,
        offset=offset,
        visible=_visible(actor),
    )
    return {"items": [service.as_dict(r) for r in records], "total": total, "limit": limit, "offset": offset}


@router.get("/quarantine/{record_id}")
def get_quarantined(record_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One rejected row or event with its reasons."""
    return service.as_dict(_record(session, actor, record_id))


@router.patch("/quarantine/{record_id}")
def fix_quarantined(record_id: IdPath, body: FixIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Edit cells of a rejected row before replaying it (audited)."""
    _record(session, actor, record_id)
    record = service.fix_record(session=session, record_id=record_id, changes=body.changes, actor=actor)
    return service.as_dict(record)


@router.post("/quarantine/{record_id}/replay", responses={422: {"description": "Still invalid"}})
def replay_quarantined(record_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """Run the record through its import or capture again; still-invalid records stay open (422)."""
    _record(session, actor, record_id)
    outcome, errors = service.replay_record(session=session, record_id=record_id, actor=actor)
    record = service.as_dict(_record(session, actor, record_id))
    if errors:
        # Answered, not raised: the record's new reasons are committed with the request.
        problem = {
            "type": "about:blank",
            "title": "Validation failed",
            "status": 422,
            "detail": record["reason"],
            "errors": record["errors"],
            "record": record,
        }
        return JSONResponse(problem, status_code=422, media_type="application/problem+json")
    return {"outcome": outcome, "record": record}


@router.post("/quarantine/{record_id}/discard")
def discard_quarantined(record_id: IdPath, body: DiscardIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Give up on a record (kept, marked discarded; the reason goes to the audit log)."""
    _record(session, actor, record_id)
    record = service.discard_record(session=session, record_id=record_id, actor=actor, reason=body.reason)
    return service.as_dict(record)
