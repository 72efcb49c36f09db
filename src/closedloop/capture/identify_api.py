"""`POST /api/v1/identify`: the authenticated identify call for servers and apps (SPEC section 3).

The same semantics as `POST /t/form`: the lead is created, or only its empty fields are filled
(never its owner, stage or identities: SPEC section 8), and the visitor's anonymous touches are
stitched to it. The caller is an API key with the `capture` scope; the audit log names its user.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from closedloop.access import policy
from closedloop.api.deps import BEARER, SessionDep
from closedloop.capture import forms
from closedloop.capture import service as capture_service
from closedloop.capture.settings import CaptureSettings, get_capture_settings
from closedloop.clock import system_clock
from closedloop.errors import Forbidden, Unauthenticated, ValidationFailed
from closedloop.i18n import translate
from closedloop.marketing.models import Site
from closedloop.users import auth
from closedloop.users.actor import Actor
from closedloop.users.service import actor_for

router = APIRouter(prefix="/api/v1", tags=["capture"])
CAPTURE_SCOPE = "capture"
FieldValue = Annotated[str, Field(max_length=2000)] | int | float | bool | None


def capture_key_actor(request: Request, session: SessionDep, _bearer: Any = Depends(BEARER)) -> Actor:
    """The user behind a bearer API key that carries the `capture` scope; 401/403 otherwise."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(translate("users.error.unauthenticated"))
    key, user = auth.resolve_api_key(session=session, token=token.strip())
    if CAPTURE_SCOPE not in key.scopes:
        raise Forbidden(translate("users.error.key_scope", scope=CAPTURE_SCOPE))
    return actor_for(user, via="api", api_key_id=key.id)


CaptureActor = Annotated[Actor, Depends(capture_key_actor)]


class IdentifyIn(BaseModel):
    """Who the visitor is. `site_key` (the site's public key) or `site_id` names the site."""

    model_config = ConfigDict(extra="forbid")

    site_key: str | None = Field(default=None, max_length=64)
    site_id: int | None = Field(default=None, ge=1)
    visitor_id: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    # Lead fields (first_name, last_name, name, title, industry, company_size, country) and
    # anything else, which goes to the lead's custom fields; cl_first_*/cl_last_* carry UTMs.
    fields: dict[str, FieldValue] = Field(default_factory=dict, max_length=100)
    # True records a form_submit touch as POST /t/form does (with the server's required fields).
    form: bool = False
    event_id: str | None = Field(default=None, max_length=64)
    page_url: str | None = Field(default=None, max_length=2000)
    referrer: str | None = Field(default=None, max_length=2000)


class IdentifyOut(BaseModel):
    """What the call did."""

    lead_id: int | None
    created: bool
    spam: bool
    stitched: int
    filled: list[str]


def _site(session: Session, body: IdentifyIn) -> Site:
    site: Site | None = None
    if body.site_key:
        site = capture_service.site_by_key(session=session, public_key=body.site_key)
    elif body.site_id:
        site = session.get(Site, body.site_id)
        site = site if site is not None and site.is_active else None
    if site is None:
        raise ValidationFailed(
            translate("capture.error.unknown_key"),
            detail={"field": "site_key" if body.site_key else "site_id"},
        )
    return site


def _settings(request: Request) -> CaptureSettings:
    return getattr(request.app.state, "capture_settings", None) or get_capture_settings()


@router.post("/identify", response_model=IdentifyOut, responses={422: {"description": "Invalid fields"}})
def identify(body: IdentifyIn, request: Request, session: SessionDep, actor: CaptureActor) -> Any:
    """Create the lead or fill its empty fields, and stitch the visitor's anonymous touches to it."""
    policy.require(actor, "leads", "create")  # identify creates or fills a lead
    site = _site(session, body)
    data: dict[str, Any] = {
        str(k): v for k, v in body.fields.items() if str(k).strip().lower() != forms.HONEYPOT
    }
    named = {
        "email": body.email,
        "phone": body.phone,
        "cl_vid": body.visitor_id,
        "cl_eid": body.event_id,
        "cl_page": body.page_url,
        "cl_ref": body.referrer,
    }
    data.update({k: v for k, v in named.items() if v is not None})
    data = {k: ("" if v is None else str(v)) for k, v in data.items()}
    now = system_clock()
    required = _settings(request).required if body.form else ()
    parsed = forms.parse_submission(data, now=now, required=required)
    if isinstance(parsed, list):
        detail = capture_service.describe(parsed)
        # Answered, not raised: the request's transaction commits the quarantined record.
        capture_service.quarantine(
            session=session,
            kind="form" if body.form else "identify",
            payload={"site_id": site.id, "fields": data, "api_key_id": actor.api_key_id},
            errors=parsed,
            reason=detail,
        )
        problem = {
            "type": "about:blank",
            "title": "Validation failed",
            "status": 422,
            "detail": detail,
            "errors": [e.as_dict() for e in parsed],
        }
        return JSONResponse(problem, status_code=422, media_type="application/problem+json")
    result = forms.submit_form(
        session=session, site_id=site.id, submission=parsed, record_touch=body.form, actor=actor
    )
    return IdentifyOut(
        lead_id=result.lead_id,
        created=result.created,
        spam=result.spam,
        stitched=result.stitched,
        filled=result.filled,
    )
