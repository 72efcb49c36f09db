"""Settings (marketing): the channel rules editor. Ordered rules, a preview, a new version, re-deriving history.

A new version is a proposal (SPEC section 4: a second person approves, never applied to the past).
Re-deriving history under an approved version is a separate, explicit, audited action
(`channels.rederive_channels`); the page lists every past re-derivation from the audit log.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from closedloop.audit.models import AuditLog
from closedloop.errors import UserError, ValidationFailed
from closedloop.marketing import channels
from closedloop.marketing.channel_preview import preview_rules
from closedloop.policies.models import PolicyVersion
from closedloop.users.models import User
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, not_found, render
from closedloop.web.pages.settings import (
    field_errors,
    parse_when,
    propose_from_form,
    require_section,
    tomorrow,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PATH = "/settings/channels"
BLANK_ROWS = 2
MAX_ROWS = 200


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v)[:20_000] for k, v in form.items() if isinstance(v, str)}


def _rows_from(rules: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = [{"channel": str(r.get("channel", "")), "when": json.dumps(r.get("when", []), ensure_ascii=False)}
            for r in rules]  # fmt: skip
    return rows + [{"channel": "", "when": "[]"}] * BLANK_ROWS


def _rules_from(page: Page, form: dict[str, str]) -> list[dict[str, Any]]:
    """The rule rows typed in the form, in their order (ties keep the row order); a row without a channel is dropped."""
    rows = []
    for i in range(MAX_ROWS):
        if f"channel-{i}" not in form:
            break
        name = form[f"channel-{i}"].strip()
        if not name:
            continue
        try:
            when = json.loads(form.get(f"when-{i}", "[]") or "[]")
        except json.JSONDecodeError as exc:
            raise ValidationFailed(page.t("web.settings.error.json", line=exc.lineno, column=exc.colno),
                                   detail={"field": f"when-{i}"}) from exc  # fmt: skip
        if not isinstance(when, list) or not all(isinstance(a, dict) for a in when):
            raise ValidationFailed(page.t("web.channels.error.when"), detail={"field": f"when-{i}"})
        try:
            order = Decimal(form.get(f"order-{i}", str(i + 1)).strip() or str(i + 1))
        except ArithmeticError as exc:
            raise ValidationFailed(
                page.t("web.sales_settings.error.number"), detail={"field": f"order-{i}"}
            ) from exc
        rows.append((order, i, {"channel": name, "when": when}))
        try:
            channels.validate_rules([{"channel": name, "when": when}])
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, detail={"field": f"when-{i}"}) from exc
    if not rows:
        raise ValidationFailed(page.t("web.channels.error.empty"), detail={"field": "rules"})
    return [r for _, _, r in sorted(rows, key=lambda r: (r[0], r[1]))]


def show(page: Page, *, errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
         status: int = 200, preview: dict[str, Any] | None = None, flash: str | None = None) -> Response:  # fmt: skip
    """The rules in force as ordered rows, versions with their status, and the re-derive history."""
    db = page.request.state.db
    in_force = channels.rules_in_force(db, at=datetime.now(UTC))
    if form:
        rows = [{"channel": form.get(f"channel-{i}", ""), "when": form.get(f"when-{i}", "[]"),
                 "order": form.get(f"order-{i}", "")} for i in range(MAX_ROWS) if f"channel-{i}" in form]  # fmt: skip
    else:
        rows = _rows_from(channels.rules_of(in_force))
    versions = list(db.scalars(select(PolicyVersion).where(PolicyVersion.kind == channels.KIND)
                               .order_by(PolicyVersion.version.desc())))  # fmt: skip
    runs = db.execute(select(AuditLog, User.email).outerjoin(User, User.id == AuditLog.actor_user_id)
                      .where(AuditLog.action == "channel_rules.rederived").order_by(AuditLog.id.desc()).limit(50)).all()  # fmt: skip
    done = page.request.query_params.get("done")
    if flash is None and done in ("proposed", "rederived") and not errors:
        flash = page.t(f"web.channels.done.{done}")
    return render(page, "settings_channels.html", status, rows=rows, in_force=in_force, versions=versions, runs=runs,
                  errors=errors or {}, values=form or {}, preview=preview, default_when=tomorrow(page),
                  may_propose=page.actor.is_system or page.actor.role in ("admin", "manager", "marketing"),
                  flash=flash, flash_kind="error" if errors else "ok")  # fmt: skip


@router.get(PATH)
def channel_rules(page: PageDep) -> Response:
    """The channel rules editor."""
    require_section(page, PATH)
    return show(page)


def _fields(form: dict[str, str]) -> tuple[str, ...]:
    return (
        "rules",
        *(f"{k}-{i}" for k in ("when", "order") for i in range(MAX_ROWS) if f"channel-{i}" in form),
    )


@router.post(f"{PATH}/preview")
async def preview(page: PageDep, request: Request) -> Response:
    """How many rule-derived touches would change channel under the typed rules (writes nothing)."""
    form = await _form(request)
    check_csrf(page, form.get("csrf_token"))
    require_section(page, PATH)
    try:
        result = preview_rules(page.url, _rules_from(page, form))
    except UserError as exc:
        return show(page, errors=field_errors(exc, _fields(form), "rules"), form=form, status=exc.http_status)
    return show(page, form=form, preview=result)


@router.post(PATH)
async def propose(page: PageDep, request: Request) -> Response:
    """Propose the typed rules as a new version; it takes effect once approved, never in the past."""
    form = await _form(request)
    check_csrf(page, form.get("csrf_token"))
    require_section(page, PATH)
    effective_from = form.get("effective_from", "")

    def payload() -> dict[str, Any]:
        if parse_when(effective_from, page) < datetime.now(UTC):
            raise ValidationFailed(page.t("web.channels.error.past"), detail={"field": "effective_from"})
        return {"rules": _rules_from(page, form)}

    def again(page: Page, **kw: Any) -> Response:
        kw.pop("values", None)
        return show(page, form=form, **kw)

    return propose_from_form(page, kind=channels.KIND, payload=payload, effective_from=effective_from,
                             reason=form.get("reason", ""), show=again, done=PATH, fields=_fields(form))  # fmt: skip


@router.post(f"{PATH}/rederive")
async def rederive(page: PageDep, request: Request) -> Response:
    """Re-derive every rule-derived touch's channel under an approved version: explicit, confirmed, audited."""
    form = await _form(request)
    check_csrf(page, form.get("csrf_token"))
    require_section(page, PATH)
    db = page.request.state.db
    version_id = form.get("version_id", "")
    version = db.get(PolicyVersion, int(version_id)) if version_id.isdigit() else None
    if version is None or version.kind != channels.KIND:
        raise not_found(page)
    if version.status != "approved":
        return show(
            page, errors={f"rederive-{version.id}": page.t("web.channels.error.not_approved")}, status=409
        )
    if form.get("confirm") != "1":
        return show(page, errors={f"rederive-{version.id}": page.t("web.channels.error.confirm")}, status=422)
    channels.rederive_channels(
        session=db, actor=page.actor, clock=lambda: datetime.now(UTC), version_id=version.id
    )
    return RedirectResponse(f"{PATH}?done=rederived", status_code=303)
