"""Form submissions and identify calls: create the lead or fill only its empty fields, then stitch.

Public input never changes a known lead's owner, stage or identities (SPEC section 8): a field
is written only where the lead has none. Every earlier anonymous touch of the visitor becomes
the lead's, and the lead's first-touch columns follow its earliest touch.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.accounts import service as account_service
from closedloop.audit import service as audit_service
from closedloop.capture import service as capture_service
from closedloop.capture.events import (
    EVENT_ID,
    MAX_SHORT,
    UTM_FIELDS,
    VISITOR_ID,
    CaptureEvent,
    FieldError,
    clean_url,
    parse_timestamp,
)
from closedloop.clock import Clock, system_clock
from closedloop.leads.identity import (
    IdentityError,
    email_domain,
    is_free_mail,
    normalise_email,
    normalise_phone,
)
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import CLICK_ID_FIELDS, Touchpoint
from closedloop.users.actor import Actor

TOUCH_KEYS = (*UTM_FIELDS, *CLICK_ID_FIELDS)
# Form field name (lower-case) -> lead column; everything else (company included) goes to `custom`.
LEAD_FIELDS = {
    "first_name": "first_name",
    "firstname": "first_name",
    "last_name": "last_name",
    "lastname": "last_name",
    "name": "name",
    "full_name": "name",
    "title": "title",
    "job_title": "title",
    "industry": "industry",
    "company_size": "company_size",
    "country": "country",
}
EMAIL_KEYS = ("email", "e-mail", "email_address")
PHONE_KEYS = ("phone", "mobile", "tel", "telephone", "phone_number")
HONEYPOT = "cl_hp"
MAX_CUSTOM_FIELDS = 30
MAX_CUSTOM_VALUE = 2000
CAPTURE_ACTOR = capture_service.CAPTURE_ACTOR
# A reconstructed first touch counts as already captured when a stored touch is this close.
FIRST_TOUCH_SLACK = timedelta(seconds=5)


@dataclass(slots=True)
class FormSubmission:
    """A parsed, validated public form submission or identify call."""

    visitor_key: str | None
    event_id: str | None
    email: str | None
    phone: str | None
    lead_values: dict[str, str] = field(default_factory=dict)
    custom: dict[str, str] = field(default_factory=dict)
    page_url: str | None = None
    referrer: str | None = None
    first_touch: dict[str, str] = field(default_factory=dict)
    last_touch: dict[str, str] = field(default_factory=dict)
    first_at: datetime | None = None
    first_landing: str | None = None
    first_referrer: str | None = None
    honeypot: bool = False
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class FormResult:
    """What a submission did: the lead, whether it was new or spam, touches stitched, fields filled."""

    lead_id: int | None
    created: bool
    spam: bool
    stitched: int = 0
    filled: list[str] = field(default_factory=list)


def _url_or_none(value: str | None) -> str | None:
    if not value or not re.match(r"^https?://[^/\s]+", value):
        return None
    return value[:2000]


def parse_submission(
    data: Mapping[str, Any], *, now: datetime, required: Sequence[str] = ()
) -> FormSubmission | list[FieldError]:
    """Validate a form's fields (email, phone to E.164, required fields); the errors name each field."""
    fields = {str(k).strip().lower(): ("" if v is None else str(v).strip()) for k, v in data.items()}
    errors: list[FieldError] = []
    email_raw = next((fields[k] for k in EMAIL_KEYS if fields.get(k)), None)
    phone_raw = next((fields[k] for k in PHONE_KEYS if fields.get(k)), None)
    country = (fields.get("country") or "").upper() or None
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        errors.append(FieldError(None, "country", "must be a two-letter ISO 3166 code"))
        country = None
    email = phone = None
    try:
        email = normalise_email(email_raw)
    except IdentityError as exc:
        errors.append(FieldError(None, "email", str(exc)))
    try:
        phone = normalise_phone(phone_raw, country=country)
    except IdentityError as exc:
        errors.append(FieldError(None, "phone", str(exc)))
    # A form may ask for more (hidden field cl_required="name,company"), never for less than the server.
    extra = [f.strip().lower() for f in fields.get("cl_required", "").split(",") if f.strip()][:20]
    for name in dict.fromkeys([*required, *extra]):
        if not fields.get(name.lower()):
            errors.append(FieldError(None, name, "required"))
    if email_raw is None and phone_raw is None and "email" not in required:
        errors.append(FieldError(None, "email", "an email or a phone number is required"))
    vid = fields.get("cl_vid") or None
    if vid and not VISITOR_ID.match(vid):
        errors.append(FieldError(None, "cl_vid", "8-64 characters of A-Z a-z 0-9 _ . : -"))
    eid = fields.get("cl_eid") or None
    if eid and not EVENT_ID.match(eid):
        errors.append(FieldError(None, "cl_eid", "1-64 printable characters without spaces"))
    first_at = None
    if fields.get("cl_first_ts"):
        try:
            first_at = parse_timestamp(
                int(fields["cl_first_ts"]) if fields["cl_first_ts"].isdigit() else fields["cl_first_ts"],
                now=now,
            )
        except ValueError:
            first_at = None  # a bad hint is dropped, the submission still counts
    if errors:
        return errors
    lead_values: dict[str, str] = {}
    custom: dict[str, str] = {}
    for key, value in fields.items():
        if not value or key in EMAIL_KEYS or key in PHONE_KEYS or key.startswith("cl_") or key == "k":
            continue
        if key in LEAD_FIELDS:
            lead_values[LEAD_FIELDS[key]] = value[:200] if key != "country" else value.upper()
        elif len(custom) < MAX_CUSTOM_FIELDS and re.fullmatch(r"[a-z0-9_.\-]{1,64}", key):
            custom[key] = value[:MAX_CUSTOM_VALUE]

    def touch(prefix: str) -> dict[str, str]:
        return {k: fields[prefix + k][:MAX_SHORT] for k in TOUCH_KEYS if fields.get(prefix + k)}

    return FormSubmission(
        visitor_key=vid,
        event_id=eid,
        email=email,
        phone=phone,
        lead_values=lead_values,
        custom=custom,
        page_url=_url_or_none(fields.get("cl_page")),
        referrer=_url_or_none(fields.get("cl_ref")),
        first_touch=touch("cl_first_"),
        last_touch=touch("cl_last_"),
        first_at=first_at,
        first_landing=_url_or_none(fields.get("cl_first_landing")),
        first_referrer=_url_or_none(fields.get("cl_first_ref")),
        honeypot=bool(fields.get(HONEYPOT)),
        raw={k: v[:MAX_CUSTOM_VALUE] for k, v in list(fields.items())[:100]},
    )


def _find_lead(session: Session, email: str | None) -> Lead | None:
    if not email:
        return None
    lead = session.scalar(select(Lead).where(Lead.email == email))
    hops = 0
    while lead is not None and lead.merged_into_id is not None and hops < 10:
        lead = session.get(Lead, lead.merged_into_id)
        hops += 1
    return lead


def _create_lead(
    session: Session, sub: FormSubmission, *, spam: bool, clock: Clock, actor: Actor = CAPTURE_ACTOR
) -> Lead:
    now = clock()
    lead = Lead(
        email=sub.email,
        phone=sub.phone,
        source_type="inbound",
        stage="lead",
        is_spam=spam,
        custom=dict(sub.custom),
        created_at=now,
        recorded_at=now,
        updated_at=now,
        **sub.lead_values,
    )
    _match_account(session, lead, sub)
    session.add(lead)
    session.flush()
    if not spam:  # a bot's lead stays out of the funnel and of hand-offs
        session.add(
            LifecycleEvent(
                lead_id=lead.id, to_stage="lead", occurred_at=now, recorded_at=now, source="capture"
            )
        )
    audit_service.record(
        session,
        actor=actor,
        action="lead.created",
        entity_type="lead",
        entity_id=lead.id,
        after={"source": "form", "spam": spam, **audit_service.snapshot(lead, ("stage", "source_type"))},
        clock=clock,
    )
    return lead


def _match_account(session: Session, lead: Lead, sub: FormSubmission) -> None:
    company = sub.custom.get("company")
    if lead.account_id is not None or not company:
        return
    domain = email_domain(sub.email)
    found = account_service.find_account(
        session=session, domain=None if is_free_mail(domain) else domain, name=company
    )
    if found is not None:
        lead.account_id = found.id


def _fill_empty(
    session: Session, lead: Lead, sub: FormSubmission, *, clock: Clock, actor: Actor = CAPTURE_ACTOR
) -> list[str]:
    """Write submitted values only where the known lead has none; owner, stage, identities untouched."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    candidates: dict[str, Any] = dict(sub.lead_values)
    if sub.phone:
        candidates["phone"] = sub.phone
    if sub.email and lead.email is None and _find_lead(session, sub.email) is None:
        candidates["email"] = sub.email
    for column, value in candidates.items():
        if getattr(lead, column) in (None, ""):
            before[column] = None
            after[column] = value
            setattr(lead, column, value)
    custom = dict(lead.custom or {})
    for key, value in sub.custom.items():
        if key not in custom:
            custom[key] = value
            after[f"custom.{key}"] = value
    if custom != (lead.custom or {}):
        lead.custom = custom
    _match_account(session, lead, sub)
    if after:
        lead.updated_at = clock()
        audit_service.record(
            session,
            actor=actor,
            action="lead.filled_from_form",
            entity_type="lead",
            entity_id=lead.id,
            before=before,
            after=after,
            clock=clock,
        )
    return sorted(after)


def _reconstructed_first_touch(
    session: Session, *, site_id: int, visitor_id: int, sub: FormSubmission, clock: Clock
) -> None:
    """Record the first touch the form carries when no stored touch of the visitor goes back that far."""
    if sub.first_at is None or not (sub.first_touch or sub.first_landing or sub.first_referrer):
        return
    earliest = session.scalar(
        select(Touchpoint.occurred_at)
        .where(Touchpoint.visitor_id == visitor_id)
        .order_by(Touchpoint.occurred_at)
        .limit(1)
    )
    if earliest is not None and earliest <= sub.first_at + FIRST_TOUCH_SLACK:
        return
    clicked = any(sub.first_touch.get(k) for k in CLICK_ID_FIELDS)
    event = CaptureEvent(
        index=0,
        event_id=f"ft:{sub.visitor_key}"[:64],
        visitor_key=str(sub.visitor_key),
        type="ad_click" if clicked else "page_view",
        occurred_at=sub.first_at,
        landing_page=clean_url(sub.first_landing) if sub.first_landing else None,
        referrer=clean_url(sub.first_referrer) if sub.first_referrer else None,
        values=dict(sub.first_touch),
    )
    capture_service.record_events(
        session=session, items=[capture_service.Incoming(site_id, event)], clock=clock
    )


def submit_form(
    *,
    session: Session,
    site_id: int,
    submission: FormSubmission,
    record_touch: bool = True,
    clock: Clock = system_clock,
    actor: Actor = CAPTURE_ACTOR,
) -> FormResult:
    """Create or fill the lead, stitch the visitor's anonymous touches, record the form_submit touch.

    `actor` is who the audit log names: the public capture endpoint, or the API key's user.
    """
    sub = submission
    lead = _find_lead(session, sub.email)
    if sub.honeypot:
        if lead is not None:  # a bot never touches a known lead; the submission is kept for review
            capture_service.quarantine(
                session=session,
                kind="form",
                payload={"site_id": site_id, "fields": sub.raw},
                errors=[FieldError(None, HONEYPOT, "honeypot field filled")],
                reason=f"{HONEYPOT}: honeypot field filled (known lead left unchanged)",
                clock=clock,
            )
            return FormResult(lead_id=None, created=False, spam=True)
        lead = _create_lead(session, sub, spam=True, clock=clock, actor=actor)
        return FormResult(lead_id=lead.id, created=True, spam=True)
    visitor_key = sub.visitor_key or ("f_" + secrets.token_urlsafe(16))
    visitor = capture_service.visitor_for_key(session=session, key=visitor_key, site_id=site_id, clock=clock)
    if lead is None and sub.email is None and visitor.lead_id is not None:
        lead = session.get(Lead, visitor.lead_id)
    created = lead is None
    filled: list[str] = []
    if lead is None:
        lead = _create_lead(session, sub, spam=False, clock=clock, actor=actor)
    else:
        filled = _fill_empty(session, lead, sub, clock=clock, actor=actor)
    if sub.visitor_key:
        _reconstructed_first_touch(session, site_id=site_id, visitor_id=visitor.id, sub=sub, clock=clock)
    stitched = capture_service.stitch_visitor(session=session, visitor=visitor, lead=lead, clock=clock)
    if record_touch:
        page = sub.page_url
        event = CaptureEvent(
            index=0,
            event_id=sub.event_id or ("form:" + secrets.token_urlsafe(18)),
            visitor_key=visitor_key,
            type="form_submit",
            occurred_at=clock(),
            landing_page=clean_url(page) if page else None,
            referrer=clean_url(sub.referrer) if sub.referrer else None,
            values=dict(sub.last_touch),
        )
        capture_service.record_events(
            session=session, items=[capture_service.Incoming(site_id, event)], clock=clock
        )
    return FormResult(lead_id=lead.id, created=created, spam=False, stitched=stitched, filled=filled)
