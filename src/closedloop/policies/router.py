"""JSON API for the shared definitions: propose a policy version, approve it from both sides, read history.

Marketing proposes the definitions it owns (scoring, the data-quality gate, channel rules),
sales the ones it owns (routing, SLA, stage probabilities), managers and admins any. A version
takes effect only when one marketing and one sales approver (or a manager, for both) approved it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.errors import Forbidden, NotFound
from closedloop.i18n import translate
from closedloop.policies import service as policy_service
from closedloop.policies.models import POLICY_KINDS, PolicyApproval, PolicyVersion

router = APIRouter(prefix="/api/v1", tags=["policies"])

# Which role may propose a new version of which kind (approval rules live in the service).
PROPOSERS: dict[str, frozenset[str]] = {
    "scoring": frozenset({"admin", "manager", "marketing"}),
    "quality_gate": frozenset({"admin", "manager", "marketing"}),
    "channel_rules": frozenset({"admin", "manager", "marketing"}),
    "routing": frozenset({"admin", "manager", "sales"}),
    "sla": frozenset({"admin", "manager", "sales"}),
    "stage_probabilities": frozenset({"admin", "manager", "sales"}),
    "goals": frozenset({"admin", "manager"}),
}
READERS = frozenset({"admin", "manager", "marketing", "sales", "viewer"})


class PolicyIn(BaseModel):
    kind: str = Field(description="One of: " + ", ".join(POLICY_KINDS))
    payload: dict[str, Any]
    effective_from: datetime = Field(description="When it takes effect, with a time zone; never in the past.")
    reason: str = Field(min_length=1, max_length=2000)


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ApprovalOut(BaseModel):
    side: str
    user_id: int
    approved_at: datetime


class PolicyOut(BaseModel):
    id: int
    kind: str
    version: int
    status: str
    effective_from: datetime
    payload: dict[str, Any]
    reason: str | None
    proposed_by_id: int | None
    created_at: datetime
    approved_at: datetime | None
    approvals: list[ApprovalOut]


def _out(session: Any, version: PolicyVersion) -> PolicyOut:
    approvals = session.query(PolicyApproval).filter(PolicyApproval.policy_version_id == version.id).all()
    return PolicyOut(
        id=version.id,
        kind=version.kind,
        version=version.version,
        status=version.status,
        effective_from=version.effective_from,
        payload=version.payload,
        reason=version.reason,
        proposed_by_id=version.proposed_by_id,
        created_at=version.created_at,
        approved_at=version.approved_at,
        approvals=[ApprovalOut(side=a.side, user_id=a.user_id, approved_at=a.approved_at) for a in approvals],
    )


def _require_reader(actor: Any) -> None:
    if not actor.is_system and actor.role not in READERS:
        raise Forbidden(translate("access.error.forbidden", resource="policies", action="read"))


def _version(session: Any, version_id: int) -> PolicyVersion:
    version = session.get(PolicyVersion, version_id)
    if version is None:
        raise NotFound(translate("access.error.not_found", resource="policies", id=version_id))
    return version


@router.get("/policies", response_model=list[PolicyOut])
def list_policies(
    session: SessionDep, actor: CurrentActor, kind: Annotated[str | None, Query()] = None
) -> list[PolicyOut]:
    """Every version of the shared definitions (or of one kind), newest first, with approvals."""
    _require_reader(actor)
    return [_out(session, v) for v in policy_service.list_versions(session, kind)]


@router.get("/policies/in-force", response_model=PolicyOut | None)
def in_force(
    session: SessionDep,
    actor: CurrentActor,
    kind: Annotated[str, Query()],
    at: Annotated[datetime | None, Query(description="A moment with a time zone (default: now).")] = None,
) -> PolicyOut | None:
    """The approved version of `kind` in force at a moment (null when none is)."""
    _require_reader(actor)
    moment = at or datetime.now().astimezone()
    version = policy_service.policy_in_force(session, kind, moment)
    return None if version is None else _out(session, version)


@router.get("/policies/{version_id}", response_model=PolicyOut)
def get_policy(session: SessionDep, actor: CurrentActor, version_id: int) -> PolicyOut:
    """One policy version with its approvals."""
    _require_reader(actor)
    return _out(session, _version(session, version_id))


@router.post("/policies", response_model=PolicyOut, status_code=status.HTTP_201_CREATED)
def propose_policy(session: SessionDep, actor: CurrentActor, body: PolicyIn) -> PolicyOut:
    """Propose a new version; it waits for approval by both sides (audited)."""
    if not actor.is_system and actor.role not in PROPOSERS.get(body.kind, frozenset({"admin", "manager"})):
        raise Forbidden(
            translate("access.error.forbidden", resource=f"policies/{body.kind}", action="propose")
        )
    version = policy_service.propose(
        session=session,
        kind=body.kind,
        payload=body.payload,
        effective_from=body.effective_from,
        reason=body.reason,
        actor=actor,
    )
    return _out(session, version)


@router.post("/policies/{version_id}/approve", response_model=PolicyOut)
def approve_policy(session: SessionDep, actor: CurrentActor, version_id: int) -> PolicyOut:
    """Approve for the caller's side (a manager approves for both), never one's own proposal; audited."""
    _version(session, version_id)
    version = policy_service.approve(session=session, version_id=version_id, actor=actor)
    return _out(session, version)


@router.post("/policies/{version_id}/reject", response_model=PolicyOut)
def reject_policy(session: SessionDep, actor: CurrentActor, version_id: int, body: RejectIn) -> PolicyOut:
    """Turn a proposal down; it never takes effect (audited)."""
    _version(session, version_id)
    return _out(
        session,
        policy_service.reject(session=session, version_id=version_id, actor=actor, reason=body.reason),
    )
