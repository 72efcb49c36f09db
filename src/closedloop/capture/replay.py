"""Replaying quarantined capture input (events, whole batches, forms) once it is fixed or allowed.

Registered with the quarantine service as the replayer of source "capture". A refused batch
(unknown origin, say) replays as it was sent once the site allows it; a fixed event replays with
the corrected fields (`quarantine fix` puts them under payload["values"]).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from closedloop.capture import forms
from closedloop.capture import service as capture_service
from closedloop.capture.events import BatchError, FieldError, parse_batch, parse_event
from closedloop.clock import Clock, system_clock
from closedloop.marketing.models import Site
from closedloop.quarantine import service as quarantine_service
from closedloop.quarantine.models import QuarantinedRecord

# Payload keys written by the capture endpoint itself; anything else under "values" is a fix.
ENVELOPE = frozenset(
    {"site_id", "index", "received_at", "event", "origin", "body", "fields", "key", "truncated"}
)
MAX_BATCH = 1000


def _fixes(payload: dict[str, Any]) -> dict[str, Any]:
    values = payload.get("values")
    if not isinstance(values, dict):
        return {}
    return {k: v for k, v in values.items() if k not in ENVELOPE}


def _site(session: Session, payload: dict[str, Any]) -> Site | None:
    site_id = payload.get("site_id")
    return session.get(Site, site_id) if isinstance(site_id, int) else None


def replay_capture_record(
    *, session: Session, record: QuarantinedRecord, actor: Any = None, clock: Clock = system_clock
) -> tuple[str, list[FieldError]]:
    """Run one quarantined capture record through capture again: (outcome, errors); errors write nothing."""
    payload = dict(record.payload or {})
    site = _site(session, payload)
    if site is None:
        return "invalid", [FieldError(None, "site_id", "no registered site for this record")]
    now = clock()
    fixes = _fixes(payload)
    original = payload.get("event")
    if record.kind == "event" and isinstance(original, dict):
        event = parse_event({**original, **fixes}, index=0, visitor_key=None, now=now)
        if isinstance(event, list):
            return "invalid", event
        flags = capture_service.record_events(
            session=session, items=[capture_service.Incoming(site.id, event)], clock=clock
        )
        return ("inserted" if flags[0] else "duplicate"), []
    if record.kind == "event":
        try:
            parsed = parse_batch(payload.get("body"), now=now, max_events=MAX_BATCH)
        except BatchError as exc:
            return "invalid", [exc.error]
        if parsed.rejected:
            return "invalid", [e for _, _, errors in parsed.rejected for e in errors]
        flags = capture_service.record_events(
            session=session, items=[capture_service.Incoming(site.id, e) for e in parsed.events], clock=clock
        )
        return f"inserted {sum(flags)} of {len(flags)}", []
    if record.kind in ("form", "identify"):
        raw = payload.get("fields") if isinstance(payload.get("fields"), dict) else payload.get("body")
        if not isinstance(raw, dict):
            return "invalid", [FieldError(None, "fields", "no form fields in this record")]
        # A person replaying a honeypot catch has judged it genuine.
        fields = {k: v for k, v in {**raw, **fixes}.items() if k != forms.HONEYPOT}
        submission = forms.parse_submission(fields, now=now, required=())
        if isinstance(submission, list):
            return "invalid", submission
        result = forms.submit_form(
            session=session,
            site_id=site.id,
            submission=submission,
            record_touch=record.kind == "form",
            clock=clock,
        )
        return ("created" if result.created else "updated"), []
    return "invalid", [
        FieldError(None, "kind", f"capture records of kind {record.kind!r} cannot be replayed")
    ]


quarantine_service.register_replayer("capture", replay_capture_record)
