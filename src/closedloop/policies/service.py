"""Versioned shared definitions (SPEC section 4): propose, approve by both sides, find the one in force.

A version takes effect at `effective_from` only once one marketing and one sales approver (or a
manager, for both sides) have approved it. It never applies to the past: a version approved
after its proposed `effective_from` takes effect at the moment of approval instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.audit.service import snapshot
from closedloop.clock import Clock, system_clock
from closedloop.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from closedloop.i18n import translate
from closedloop.policies.models import POLICY_KINDS, PolicyApproval, PolicyVersion
from closedloop.users.actor import Actor

SIDES = ("marketing", "sales")
BOTH_SIDES_ROLES = frozenset({"manager", "admin"})


def _validators() -> dict[str, Callable[[dict[str, Any]], object]]:
    # Imported lazily: each domain owns the shape of its own policy.
    from closedloop.handoffs import quality, routing, sla
    from closedloop.scoring import rules

    return {
        "scoring": rules.parse_rules,
        "quality_gate": quality.parse_gate,
        "routing": routing.parse_routing,
        "sla": sla.parse_sla,
    }


def validate_payload(kind: str, payload: dict[str, Any]) -> None:
    """Raise ValidationFailed unless `payload` is a well-formed policy of `kind`."""
    if kind not in POLICY_KINDS:
        raise ValidationFailed(
            translate("policy.error.unknown_kind", kind=kind, kinds=", ".join(POLICY_KINDS)),
            detail={"field": "kind"},
        )
    validator = _validators().get(kind)
    if validator is not None:
        validator(payload)


def propose(
    *,
    session: Session,
    kind: str,
    payload: dict[str, Any],
    effective_from: datetime,
    reason: str,
    actor: Actor,
    clock: Clock = system_clock,
) -> PolicyVersion:
    """Propose a new version of a policy; it waits for approval by both sides."""
    validate_payload(kind, payload)
    now = clock()
    if effective_from.tzinfo is None:
        raise ValidationFailed(translate("policy.error.time_zone"), detail={"field": "effective_from"})
    if effective_from < now:
        raise ValidationFailed(translate("policy.error.past"), detail={"field": "effective_from"})
    if not reason or not reason.strip():
        raise ValidationFailed(translate("policy.error.reason"), detail={"field": "reason"})
    latest = session.scalar(select(func.max(PolicyVersion.version)).where(PolicyVersion.kind == kind)) or 0
    version = PolicyVersion(
        kind=kind,
        version=latest + 1,
        effective_from=effective_from,
        payload=payload,
        reason=reason.strip(),
        proposed_by_id=actor.user_id,
        status="proposed",
        created_at=now,
    )
    session.add(version)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="policy.proposed",
        entity_type="policy_version",
        entity_id=version.id,
        after=snapshot(version),
        clock=clock,
    )
    return version


def sides_for(actor: Actor) -> tuple[str, ...]:
    """The sides an approver speaks for: their own, or both for a manager."""
    if actor.role in BOTH_SIDES_ROLES:
        return SIDES
    if actor.role in SIDES:
        return (actor.role,)
    raise Forbidden(translate("policy.error.approver", role=actor.role))


def approve(
    *,
    session: Session,
    version_id: int,
    actor: Actor,
    clock: Clock = system_clock,
) -> PolicyVersion:
    """Record an approval by someone other than the proposer; with both sides approved the version
    takes effect (never in the past)."""
    version = _get(session, version_id)
    if version.status != "proposed":
        raise InvalidTransition(
            translate("policy.error.not_pending", version=version.version, status=version.status)
        )
    approver_id = _approver_id(actor)
    sides = sides_for(actor)
    if version.proposed_by_id is not None and version.proposed_by_id == approver_id:
        # Two people decide (SPEC section 4): a proposal is never approved by the person who made it.
        raise Forbidden(
            translate("policy.error.own_proposal", version=version.version),
            detail={"code": "own_proposal"},
        )
    now = clock()
    have = set(
        session.scalars(select(PolicyApproval.side).where(PolicyApproval.policy_version_id == version.id))
    )
    added = [side for side in sides if side not in have]
    if not added:
        raise InvalidTransition(translate("policy.error.already_approved"))
    for side in added:
        session.add(
            PolicyApproval(policy_version_id=version.id, user_id=approver_id, side=side, approved_at=now)
        )
    before = snapshot(version, ("status", "effective_from", "approved_at"))
    if have | set(added) >= set(SIDES):
        version.status = "approved"
        version.approved_at = now
        if version.effective_from < now:
            version.effective_from = now
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="policy.approved",
        entity_type="policy_version",
        entity_id=version.id,
        before=before,
        after={**snapshot(version, ("status", "effective_from", "approved_at")), "sides": added},
        clock=clock,
    )
    return version


def _approver_id(actor: Actor) -> int:
    if actor.user_id is None:
        raise Forbidden(translate("policy.error.needs_person"))
    return actor.user_id


def reject(
    *,
    session: Session,
    version_id: int,
    actor: Actor,
    reason: str,
    clock: Clock = system_clock,
) -> PolicyVersion:
    """Turn down a proposed version; it never takes effect."""
    version = _get(session, version_id)
    if version.status != "proposed":
        raise InvalidTransition(
            translate("policy.error.not_pending", version=version.version, status=version.status)
        )
    sides_for(actor)
    version.status = "rejected"
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="policy.rejected",
        entity_type="policy_version",
        entity_id=version.id,
        before={"status": "proposed"},
        after={"status": "rejected", "reason": reason},
        clock=clock,
    )
    return version


def policy_in_force(session: Session, kind: str, at: datetime) -> PolicyVersion | None:
    """The approved version of `kind` in force at the moment `at` (None: the built-in default)."""
    return session.scalars(
        select(PolicyVersion)
        .where(
            PolicyVersion.kind == kind,
            PolicyVersion.status == "approved",
            PolicyVersion.effective_from <= at,
            PolicyVersion.approved_at <= at,
        )
        .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.version.desc())
        .limit(1)
    ).first()


def payload_in_force(
    session: Session, kind: str, at: datetime, default: dict[str, Any]
) -> tuple[dict[str, Any], int | None]:
    """The payload in force at `at` and its version id, or `default` with no id."""
    version = policy_in_force(session, kind, at)
    if version is None:
        return default, None
    return dict(version.payload), version.id


def list_versions(session: Session, kind: str | None = None) -> list[PolicyVersion]:
    """Every version, newest first, optionally of one kind."""
    query = select(PolicyVersion).order_by(PolicyVersion.kind, PolicyVersion.version.desc())
    if kind is not None:
        query = query.where(PolicyVersion.kind == kind)
    return list(session.scalars(query))


def _get(session: Session, version_id: int) -> PolicyVersion:
    version = session.get(PolicyVersion, version_id)
    if version is None:
        raise NotFound(translate("policy.error.not_found", id=version_id))
    return version
