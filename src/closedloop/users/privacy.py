"""Personal data (SPEC section 8): export everything held about a person, or erase it.

Erasure nulls identities and free text everywhere (audit payloads included) but keeps the rows,
so anonymous counts survive; a salted hash of each identity stops a later import bringing the
person back (`is_erased`).
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.audit.models import AuditLog
from closedloop.clock import Clock, system_clock
from closedloop.deals.models import Deal, DealStageEvent
from closedloop.errors import NotFound
from closedloop.handoffs.models import Activity, Handoff
from closedloop.i18n import translate
from closedloop.leads.identity import IdentityError, identity_hash, normalise_email
from closedloop.leads.models import ErasedIdentity, Lead, LeadScore, LifecycleEvent
from closedloop.marketing.models import CLICK_ID_FIELDS, Touchpoint, Visitor
from closedloop.revenue.models import CustomerFeedback, RevenueEvent
from closedloop.users.actor import Actor

IDENTITY_FIELDS = ("email", "phone", "line_user_id", "wechat_unionid", "external_id")
PERSONAL_TEXT_FIELDS = ("first_name", "last_name", "name", "title")
ERASED = "(erased)"


def erasure_salt(secret_key: str | None = None) -> str:
    """The salt of identity hashes: the workspace's secret key."""
    if secret_key:
        return secret_key
    from closedloop.config import get_settings

    return get_settings().require_secret(demo=True)


def _email(value: str) -> str:
    try:
        return normalise_email(value) or value.strip().lower()
    except IdentityError:
        return value.strip().lower()


def is_erased(
    session: Session,
    *,
    email: str | None = None,
    phone: str | None = None,
    line_user_id: str | None = None,
    wechat_unionid: str | None = None,
    external_id: str | None = None,
    secret_key: str | None = None,
) -> bool:
    """True when any given identity (normalised as stored on leads) belonged to an erased person."""
    salt = erasure_salt(secret_key)
    given = {
        "email": _email(email) if email else None,
        "phone": phone,
        "line_user_id": line_user_id,
        "wechat_unionid": wechat_unionid,
        "external_id": external_id,
    }
    hashes = [identity_hash(kind, value, salt=salt) for kind, value in given.items() if value]
    if not hashes:
        return False
    return (
        session.scalar(select(ErasedIdentity.id).where(ErasedIdentity.identity_hash.in_(hashes))) is not None
    )


def _person_leads(session: Session, email: str) -> list[Lead]:
    address = _email(email)
    primary = list(session.scalars(select(Lead).where(Lead.email == address)))
    if not primary:
        raise NotFound(translate("privacy.error.no_person", email=address))
    ids = [lead.id for lead in primary]
    merged = session.scalars(select(Lead).where(Lead.merged_into_id.in_(ids), Lead.id.not_in(ids)))
    return primary + list(merged)


def _rows(session: Session, model: type, condition: Any) -> list[Any]:
    return list(session.scalars(select(model).where(condition).order_by(model.id)))  # type: ignore[attr-defined]


def _related(session: Session, lead_ids: list[int]) -> dict[str, list[Any]]:
    deals = _rows(session, Deal, Deal.lead_id.in_(lead_ids))
    deal_ids = [d.id for d in deals]
    visitors = _rows(session, Visitor, Visitor.lead_id.in_(lead_ids))
    visitor_ids = [v.id for v in visitors]
    return {
        "visitors": visitors,
        "touchpoints": _rows(
            session, Touchpoint, or_(Touchpoint.lead_id.in_(lead_ids), Touchpoint.visitor_id.in_(visitor_ids))
        ),
        "lifecycle_events": _rows(session, LifecycleEvent, LifecycleEvent.lead_id.in_(lead_ids)),
        "lead_scores": _rows(session, LeadScore, LeadScore.lead_id.in_(lead_ids)),
        "handoffs": _rows(session, Handoff, Handoff.lead_id.in_(lead_ids)),
        "activities": _rows(
            session, Activity, or_(Activity.lead_id.in_(lead_ids), Activity.deal_id.in_(deal_ids))
        ),
        "deals": deals,
        "deal_stage_events": _rows(session, DealStageEvent, DealStageEvent.deal_id.in_(deal_ids)),
        "revenue_events": _rows(
            session, RevenueEvent, or_(RevenueEvent.lead_id.in_(lead_ids), RevenueEvent.deal_id.in_(deal_ids))
        ),
        "feedback": _rows(session, CustomerFeedback, CustomerFeedback.lead_id.in_(lead_ids)),
    }


def _about(related: dict[str, list[Any]], lead_ids: list[int]) -> Any:
    """The audit entries whose subject is the person's lead or one of its records."""
    pairs = [("lead", lead_ids)] + [
        (kind, [row.id for row in related[key]])
        for kind, key in (("deal", "deals"), ("handoff", "handoffs"), ("activity", "activities"))
    ]
    return or_(
        *(
            and_(AuditLog.entity_type == kind, AuditLog.entity_id.in_([str(i) for i in ids]))
            for kind, ids in pairs
            if ids
        )
    )


def export_person(
    *, session: Session, actor: Actor, email: str, clock: Clock = system_clock
) -> dict[str, Any]:
    """Everything held about the person with this email, as JSON-safe data; the export is audited."""
    leads = _person_leads(session, email)
    lead_ids = [lead.id for lead in leads]
    related = _related(session, lead_ids)
    audit_rows = _rows(session, AuditLog, _about(related, lead_ids))
    data: dict[str, Any] = {"email": _email(email), "leads": [audit_service.snapshot(lead) for lead in leads]}
    for key, rows in related.items():
        data[key] = [audit_service.snapshot(row) for row in rows]
    data["audit_entries"] = [audit_service.snapshot(row) for row in audit_rows]
    audit_service.record(
        session,
        actor=actor,
        action="person.exported",
        entity_type="lead",
        entity_id=lead_ids[0],
        after={"leads": lead_ids},
        clock=clock,
    )
    return data


def _strip_query(url: str | None) -> str | None:
    """A URL without its query and fragment (where emails and names hide)."""
    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _scrub(value: Any, secrets_: list[str]) -> Any:
    """`value` with every occurrence of the erased strings replaced, at any depth."""
    if isinstance(value, str):
        for secret in secrets_:
            if secret in value:
                value = value.replace(secret, ERASED)
        return value
    if isinstance(value, dict):
        return {
            k: (None if k in IDENTITY_FIELDS + PERSONAL_TEXT_FIELDS and v else _scrub(v, secrets_))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub(v, secrets_) for v in value]
    return value


def erase_person(
    *, session: Session, actor: Actor, email: str, secret_key: str | None = None, clock: Clock = system_clock
) -> dict[str, int]:
    """Erase the person's identities and free text everywhere; keep rows (counts) and identity hashes."""
    salt = erasure_salt(secret_key)
    leads = _person_leads(session, email)
    lead_ids = [lead.id for lead in leads]
    related = _related(session, lead_ids)
    about = _about(related, lead_ids)
    values: set[str] = set()
    identities = 0
    for lead in leads:
        for kind in IDENTITY_FIELDS:
            value = getattr(lead, kind)
            if not value:
                continue
            values.add(value)
            digest = identity_hash(kind, value, salt=salt)
            if (
                session.scalar(select(ErasedIdentity.id).where(ErasedIdentity.identity_hash == digest))
                is None
            ):
                session.add(ErasedIdentity(identity_hash=digest, erased_at=clock()))
                identities += 1
            setattr(lead, kind, None)
        for field in PERSONAL_TEXT_FIELDS:
            if getattr(lead, field):
                values.add(getattr(lead, field))
            setattr(lead, field, None)
        lead.custom = {}
        lead.first_landing_page = _strip_query(lead.first_landing_page)
    for row in related["activities"]:
        if row.notes:
            values.add(row.notes)
        row.notes = None
    for row in related["lifecycle_events"]:
        row.reason_text = None
    for row in related["handoffs"]:
        row.rejection_text = None
    for row in related["feedback"]:
        row.comment = None
    for row in related["deals"]:
        row.lost_reason_text = None
        row.custom = {}
        if any(v in row.name for v in values if len(v) >= 2):
            row.name = ERASED
    for row in related["touchpoints"]:
        for field in CLICK_ID_FIELDS:
            setattr(row, field, None)
        row.referrer = None
        row.landing_page = _strip_query(row.landing_page)
    for row in related["visitors"]:
        row.visitor_key = f"erased-{secrets.token_hex(16)}"
    session.flush()
    scrubbed = _scrub_audit(session, about, sorted((v for v in values if len(v) >= 2), key=len, reverse=True))
    audit_service.record(
        session,
        actor=actor,
        action="person.erased",
        entity_type="lead",
        entity_id=lead_ids[0],
        after={"leads": lead_ids, "identities": identities, "audit_entries": scrubbed},
        clock=clock,
    )
    session.flush()
    return {"leads": len(lead_ids), "identities": identities, "audit_entries": scrubbed}


def _scrub_audit(session: Session, about: Any, values: list[str]) -> int:
    """Remove the erased values from audit payloads: entries about the person, and any that quote them."""
    searchable = [v for v in values if len(v) >= 3]
    patterns = {
        form for v in searchable for form in (v, json.dumps(v)[1:-1], json.dumps(v, ensure_ascii=False)[1:-1])
    }
    quoting = [
        cast(column, String).contains(pattern, autoescape=True)
        for pattern in patterns
        for column in (AuditLog.before, AuditLog.after)
    ]
    count = 0
    for entry in session.scalars(select(AuditLog).where(or_(about, *quoting))):
        before, after = _scrub(entry.before, values), _scrub(entry.after, values)
        if before != entry.before or after != entry.after:
            entry.before, entry.after = before, after
            count += 1
    return count
