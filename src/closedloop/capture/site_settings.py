"""Sites registered for capture, changed by a person (web settings): create, rename, origins, on/off; audited."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.capture.service import normalise_origin
from closedloop.clock import Clock, system_clock
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate
from closedloop.marketing.models import Site
from closedloop.users.actor import Actor

SITE_FIELDS = ("name", "public_key", "origins", "is_active")


def parse_origins(text: str | Sequence[str]) -> list[str]:
    """Allowed origins from lines (or a list), normalised and de-duplicated; ValidationFailed names a bad one."""
    items = text.split() if isinstance(text, str) else list(text)
    allowed = sorted({normalise_origin(o) for o in items if o.strip()})
    if not allowed:
        raise ValidationFailed(translate("capture.error.no_origin"), detail={"field": "origins"})
    return allowed


def create_site(
    *, session: Session, actor: Actor, name: str, origins: str | Sequence[str], clock: Clock = system_clock
) -> Site:
    """Register a website with a fresh public key and its allowed origins; audited as the person."""
    name = name.strip()
    if not name:
        raise ValidationFailed(translate("capture.error.site_name"), detail={"field": "name"})
    allowed = parse_origins(origins)
    site = Site(name=name, public_key="pk_" + secrets.token_urlsafe(24), origins=allowed, created_at=clock())
    session.add(site)
    session.flush()
    audit_service.record(session, actor=actor, action="site.created", entity_type="site", entity_id=site.id,
                         after=audit_service.snapshot(site, SITE_FIELDS), clock=clock)  # fmt: skip
    return site


def update_site(
    *,
    session: Session,
    actor: Actor,
    site: Site,
    origins: str | Sequence[str],
    is_active: bool,
    clock: Clock = system_clock,
) -> Site:
    """Change a site's allowed origins or switch it off (its key is refused from then on); audited."""
    before = audit_service.snapshot(site, SITE_FIELDS)
    site.origins = parse_origins(origins)
    site.is_active = is_active
    session.flush()
    audit_service.record(session, actor=actor, action="site.updated", entity_type="site", entity_id=site.id,
                         before=before, after=audit_service.snapshot(site, SITE_FIELDS), clock=clock)  # fmt: skip
    return site
