"""Settings hub and the shared definitions (SPEC section 4): propose, approve by a second person, history.

Each settings area is its own module (`settings_people`, `settings_sites`, `settings_sales`,
`settings_scoring`, `settings_channels`); this one holds the hub, the policy proposals page and
the helpers they share: who may open which area, form errors next to their field, and the
propose form every versioned definition uses.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from closedloop.errors import Forbidden, UserError, ValidationFailed
from closedloop.policies import service as policy_service
from closedloop.policies.models import POLICY_KINDS, PolicyApproval, PolicyVersion
from closedloop.policies.router import PROPOSERS
from closedloop.users.actor import Actor
from closedloop.users.models import User
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Csrf = Annotated[str, Form(max_length=200)]

# Who may open which settings area (worked out from SPEC section 1 and the access issue):
# admins everything; managers read people and approve definitions for both sides; marketing owns
# capture, scoring and channel rules; sales owns routing, SLA and stage probabilities.
SECTIONS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("/settings/policies", "web.settings.policies", frozenset({"admin", "manager", "marketing", "sales"})),
    ("/settings/users", "web.settings.users", frozenset({"admin", "manager"})),
    ("/settings/sites", "web.settings.sites", frozenset({"admin", "marketing"})),
    ("/settings/pipeline", "web.settings.pipeline", frozenset({"admin", "manager", "sales"})),
    ("/settings/sla", "web.settings.sla", frozenset({"admin", "manager", "sales"})),
    ("/settings/routing", "web.settings.routing", frozenset({"admin", "manager", "sales"})),
    ("/settings/scoring", "web.settings.scoring", frozenset({"admin", "manager", "marketing"})),
    ("/settings/channels", "web.settings.channels", frozenset({"admin", "manager", "marketing"})),
)
SETTINGS_ROLES = frozenset().union(*(roles for _, _, roles in SECTIONS))
STATUSES = ("proposed", "approved", "rejected")


def may_open(actor: Actor, path: str) -> bool:
    """True when the actor's role may open the settings area at `path`."""
    if path == "/settings":
        return actor.is_system or actor.role in SETTINGS_ROLES
    return any(p == path and (actor.is_system or actor.role in roles) for p, _, roles in SECTIONS)


def require_section(page: Page, path: str) -> None:
    """403 unless the role may open this settings area."""
    if not may_open(page.actor, path):
        raise Forbidden(page.t("web.error.forbidden"))


def require_admin(page: Page) -> None:
    """403 unless an admin (people, keys, stage names, calendars)."""
    if not (page.actor.is_system or page.actor.role == "admin"):
        raise Forbidden(page.t("web.error.forbidden"))


def field_errors(exc: UserError, fields: tuple[str, ...], default: str) -> dict[str, str]:
    """The error keyed by the form field it names (a service's `detail.field`), else `default`."""
    named = str(exc.detail.get("field", ""))
    if named in fields:
        return {named: exc.message}
    root = named.split(".")[0].split("[")[0]
    return {root if root in fields else default: exc.message}


def parse_when(text: str, page: Page, field: str = "effective_from") -> datetime:
    """A local date-time typed in the user's zone (datetime-local), as an aware moment."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValidationFailed(page.t("web.settings.error.when"), detail={"field": field}) from exc
    return value.replace(tzinfo=page.tz) if value.tzinfo is None else value


def tomorrow(page: Page) -> str:
    """The default moment a proposal takes effect: tomorrow 00:00 in the user's zone (datetime-local)."""
    day = datetime.now(page.tz).date() + timedelta(days=1)
    return datetime.combine(day, time(0, 0)).strftime("%Y-%m-%dT%H:%M")


def may_propose(actor: Actor, kind: str) -> bool:
    """The policy router's rule: who proposes which kind."""
    return actor.is_system or actor.role in PROPOSERS.get(kind, frozenset({"admin", "manager"}))


def current_payload(
    page: Page, kind: str, default: dict[str, Any] | None = None
) -> tuple[dict[str, Any], Any]:
    """The payload in force now and its version (None: the built-in default)."""
    from datetime import UTC

    version = policy_service.policy_in_force(page.request.state.db, kind, datetime.now(UTC))
    if version is not None:
        return dict(version.payload), version
    return (dict(default) if default is not None else built_in_default(kind)), None


def built_in_default(kind: str) -> dict[str, Any]:
    """The definition each domain applies until a version of `kind` is approved."""
    from closedloop.handoffs.quality import DEFAULT_GATE
    from closedloop.handoffs.routing import DEFAULT_ROUTING
    from closedloop.handoffs.sla import DEFAULT_SLA
    from closedloop.scoring.rules import DEFAULT_RULES

    defaults = {
        "scoring": DEFAULT_RULES,
        "quality_gate": DEFAULT_GATE,
        "routing": DEFAULT_ROUTING,
        "sla": DEFAULT_SLA,
    }
    return dict(json.loads(json.dumps(defaults.get(kind, {}))))


def propose(
    page: Page, *, kind: str, payload: dict[str, Any], effective_from: str, reason: str
) -> PolicyVersion:
    """Propose a version of `kind` for the signed-in person (role checked, audited by the service)."""
    if not may_propose(page.actor, kind):
        raise Forbidden(page.t("web.error.forbidden"))
    when = parse_when(effective_from, page)
    if not reason.strip():
        raise ValidationFailed(page.t("web.settings.error.reason"), detail={"field": "reason"})
    if kind == "channel_rules":
        from closedloop.marketing import channels

        return channels.propose_rules(session=page.request.state.db, rules=payload.get("rules", []),
                                      reason=reason.strip(), actor=page.actor, effective_from=when,
                                      clock=_clock)  # fmt: skip
    return policy_service.propose(session=page.request.state.db, kind=kind, payload=payload,
                                  effective_from=when, reason=reason, actor=page.actor)  # fmt: skip


def _clock() -> datetime:
    from closedloop.clock import system_clock

    return system_clock()


def parse_json(text: str, page: Page, field: str = "payload") -> Any:
    """JSON typed into a form, or a ValidationFailed naming the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            page.t("web.settings.error.json", line=exc.lineno, column=exc.colno), detail={"field": field}
        ) from exc


def propose_from_form(
    page: Page,
    *,
    kind: str,
    payload: Callable[[], dict[str, Any]],
    effective_from: str,
    reason: str,
    show: Callable[..., Response],
    done: str,
    fields: tuple[str, ...] = (),
) -> Response:
    """Run a proposal; on a user error roll back and show the page again with the error at its field."""
    try:
        propose(page, kind=kind, payload=payload(), effective_from=effective_from, reason=reason)
    except Forbidden:
        raise
    except UserError as exc:
        page.request.state.db.rollback()
        errors = field_errors(exc, ("effective_from", "reason", "payload", *fields), "payload")
        return show(page, errors=errors, status=exc.http_status,
                    values={"effective_from": effective_from, "reason": reason})  # fmt: skip
    return RedirectResponse(f"{done}?done=proposed", status_code=303)


# ---------------------------------------------------------------- hub


@router.get("/settings")
def hub(page: PageDep) -> Response:
    """The settings areas this role may open, with how many proposals wait for approval."""
    require_section(page, "/settings")
    areas = [(path, page.t(key), page.t(key + "_hint")) for path, key, roles in SECTIONS
             if page.actor.is_system or page.actor.role in roles]  # fmt: skip
    pending = len(page.request.state.db.scalars(
        select(PolicyVersion.id).where(PolicyVersion.status == "proposed")).all())  # fmt: skip
    return render(page, "settings.html", areas=areas, pending=pending)


# ---------------------------------------------------------------- policies


def _history(page: Page, kind: str | None) -> list[dict[str, Any]]:
    db = page.request.state.db
    versions = policy_service.list_versions(db, kind)[:200]
    ids = [v.id for v in versions]
    approvals: dict[int, list[tuple[PolicyApproval, str]]] = {}
    if ids:
        rows = db.execute(select(PolicyApproval, User.email).join(User, User.id == PolicyApproval.user_id)
                          .where(PolicyApproval.policy_version_id.in_(ids)).order_by(PolicyApproval.id)).all()  # fmt: skip
        for approval, email in rows:
            approvals.setdefault(approval.policy_version_id, []).append((approval, email))
    people = dict(db.execute(select(User.id, User.email)).all()) if versions else {}
    out = []
    for v in versions:
        mine = v.proposed_by_id is not None and v.proposed_by_id == page.actor.user_id
        sides = {a.side for a, _ in approvals.get(v.id, [])}
        can_side = _approver_sides(page.actor) - sides
        out.append({"v": v, "proposer": people.get(v.proposed_by_id, "—") if v.proposed_by_id else "—",
                    "approvals": approvals.get(v.id, []), "mine": mine,
                    "can_approve": v.status == "proposed" and not mine and bool(can_side),
                    "can_reject": v.status == "proposed" and bool(_approver_sides(page.actor)),
                    "payload": json.dumps(v.payload, ensure_ascii=False, indent=2, sort_keys=True),
                    "diff": _diff(page, v) if v.status == "proposed" else []})  # fmt: skip
    return out


def _diff(page: Page, version: PolicyVersion) -> list[str]:
    """What a proposal changes against the version in force now: unified diff lines of the pretty JSON."""
    current, _ = current_payload(page, version.kind)
    before = json.dumps(current, ensure_ascii=False, indent=2, sort_keys=True).splitlines()
    after = json.dumps(version.payload, ensure_ascii=False, indent=2, sort_keys=True).splitlines()
    return [line for line in difflib.unified_diff(before, after, lineterm="", n=1)
            if not line.startswith(("---", "+++"))][:400]  # fmt: skip


def _approver_sides(actor: Actor) -> set[str]:
    try:
        return set(policy_service.sides_for(actor))
    except Forbidden:
        return set()


def show_policies(
    page: Page,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    flash: str | None = None,
    kind: str | None = None,
    flash_kind: str = "ok",
) -> Response:
    """The proposals page: what waits for approval, the full history, and a form to propose."""
    kind = kind if kind in POLICY_KINDS else page.request.query_params.get("kind")
    kind = kind if kind in POLICY_KINDS else None
    kinds = [k for k in POLICY_KINDS if may_propose(page.actor, k) and k != "channel_rules"]
    form_kind = kind if kind in kinds else (kinds[0] if kinds else None)
    values = dict(values or {})
    if form_kind and "payload" not in values:
        payload, _ = current_payload(page, form_kind)
        values["payload"] = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True)
    done = page.request.query_params.get("done")
    if flash is None and done in ("proposed", "approved", "rejected"):
        flash = page.t(f"web.settings.done.{done}")
    history = _history(page, kind)
    return render(page, "settings_policies.html", status, history=history,
                  pending=[h for h in history if h["v"].status == "proposed"], kinds=kinds, kind=kind,
                  all_kinds=POLICY_KINDS, form_kind=form_kind, errors=errors or {}, values=values,
                  default_when=tomorrow(page), flash=flash, flash_kind="error" if errors else flash_kind)  # fmt: skip


@router.get("/settings/policies")
def policies_page(page: PageDep) -> Response:
    """Proposals waiting for approval and every version with its approvals."""
    require_section(page, "/settings/policies")
    return show_policies(page)


@router.post("/settings/policies")
def propose_policy(
    page: PageDep,
    csrf_token: Csrf = "",
    kind: Annotated[str, Form(max_length=32)] = "",
    payload: Annotated[str, Form(max_length=200_000)] = "",
    effective_from: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Propose a new version of a definition; it waits for a second person's approval."""
    check_csrf(page, csrf_token)
    require_section(page, "/settings/policies")
    if kind not in POLICY_KINDS:
        raise ValidationFailed(page.t("web.settings.error.kind"))

    def show(page: Page, **kw: Any) -> Response:
        kw["values"] = {**kw.get("values", {}), "payload": payload}
        return show_policies(page, kind=kind, **kw)

    def parsed() -> dict[str, Any]:
        value = parse_json(payload, page)
        if not isinstance(value, dict):
            raise ValidationFailed(page.t("web.settings.error.object"), detail={"field": "payload"})
        return value

    return propose_from_form(page, kind=kind, payload=parsed, effective_from=effective_from, reason=reason,
                             show=show, done="/settings/policies")  # fmt: skip


def _decide(
    page: Page, csrf: str, version_id: int, run: Callable[[PolicyVersion], object], done: str
) -> Response:
    check_csrf(page, csrf)
    require_section(page, "/settings/policies")
    db = page.request.state.db
    version = db.get(PolicyVersion, version_id)
    if version is None:
        from closedloop.web.pages.common import not_found

        raise not_found(page)
    try:
        run(version)
    except UserError as exc:
        db.rollback()
        return show_policies(page, flash=exc.message, flash_kind="error", status=exc.http_status)
    return RedirectResponse(f"/settings/policies?done={done}", status_code=303)


@router.post("/settings/policies/{version_id}/approve")
def approve_policy(page: PageDep, version_id: int, csrf_token: Csrf = "") -> Response:
    """Approve for the caller's side; the person who proposed it cannot approve it (two people decide)."""

    def run(version: PolicyVersion) -> None:
        # The service refuses the proposer's own approval (the API too); the page words it in the user's language.
        policy_service.approve(session=page.request.state.db, version_id=version.id, actor=page.actor)

    return _decide(page, csrf_token, version_id, run, "approved")


@router.post("/settings/policies/{version_id}/reject")
def reject_policy(
    page: PageDep, version_id: int, csrf_token: Csrf = "", reason: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    """Turn a proposal down with a reason; it never takes effect."""

    def run(version: PolicyVersion) -> None:
        if not reason.strip():
            raise ValidationFailed(page.t("web.settings.error.reason"), detail={"field": "reason"})
        policy_service.reject(session=page.request.state.db, version_id=version.id, actor=page.actor,
                              reason=reason.strip())  # fmt: skip

    return _decide(page, csrf_token, version_id, run, "rejected")
