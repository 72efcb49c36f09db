"""Settings: scoring rules and MQL threshold, with a preview of how many leads would change band before proposing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from closedloop.errors import UserError, ValidationFailed
from closedloop.scoring import preview as scoring_preview
from closedloop.scoring import rules as scoring_rules
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, render
from closedloop.web.pages.settings import (
    Csrf,
    current_payload,
    field_errors,
    may_propose,
    parse_json,
    propose_from_form,
    require_section,
    tomorrow,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PATH = "/settings/scoring"
Payload = Annotated[str, Form(max_length=200_000)]
When = Annotated[str, Form(max_length=40)]
Reason = Annotated[str, Form(max_length=2000)]


def show(page: Page, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
         status: int = 200, changes: scoring_preview.BandChanges | None = None) -> Response:  # fmt: skip
    """The rules in force as editable JSON, the preview (if asked) and the propose form."""
    current, version = current_payload(page, "scoring", scoring_rules.DEFAULT_RULES)
    values = dict(values or {})
    values.setdefault("payload", json.dumps(current, ensure_ascii=False, indent=2))
    done = page.request.query_params.get("done")
    flash = page.t("web.settings.done.proposed") if done == "proposed" and not errors else None
    return render(page, "settings_scoring.html", status, version=version, values=values, errors=errors or {},
                  changes=changes, bands=scoring_rules.BANDS, may_propose=may_propose(page.actor, "scoring"),
                  default_when=tomorrow(page), flash=flash, flash_kind="error" if errors else "ok")  # fmt: skip


@router.get(PATH)
def scoring(page: PageDep) -> Response:
    """Scoring rules."""
    require_section(page, PATH)
    return show(page)


def _payload(page: Page, text: str) -> dict[str, Any]:
    value = parse_json(text, page)
    if not isinstance(value, dict):
        raise ValidationFailed(page.t("web.settings.error.object"), detail={"field": "payload"})
    scoring_rules.parse_rules(value)
    return value


@router.post(f"{PATH}/preview")
def preview(page: PageDep, csrf_token: Csrf = "", payload: Payload = "", effective_from: When = "",
            reason: Reason = "") -> Response:  # fmt: skip
    """Score every lead under the typed rules and under the rules in force now; count the band moves (writes nothing)."""
    check_csrf(page, csrf_token)
    require_section(page, PATH)
    values = {"payload": payload, "effective_from": effective_from, "reason": reason}
    try:
        proposed = _payload(page, payload)
        current, _ = current_payload(page, "scoring", scoring_rules.DEFAULT_RULES)
        changes = scoring_preview.band_changes(page.url, current=current, proposed=proposed,
                                               at=datetime.now(UTC))  # fmt: skip
    except UserError as exc:
        return show(
            page, errors=field_errors(exc, ("payload",), "payload"), values=values, status=exc.http_status
        )
    return show(page, values=values, changes=changes)


@router.post(PATH)
def propose(page: PageDep, csrf_token: Csrf = "", payload: Payload = "", effective_from: When = "",
            reason: Reason = "") -> Response:  # fmt: skip
    """Propose the typed rules as a new scoring version (a second person approves)."""
    check_csrf(page, csrf_token)
    require_section(page, PATH)

    def again(page: Page, **kw: Any) -> Response:
        kw["values"] = {**kw.get("values", {}), "payload": payload}
        return show(page, **kw)

    return propose_from_form(page, kind="scoring", payload=lambda: _payload(page, payload),
                             effective_from=effective_from, reason=reason, show=again, done=PATH)  # fmt: skip
