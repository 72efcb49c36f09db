"""My queue (sales): MQLs waiting for me with SLA time left; accept, reject, qualify, log an activity, open a deal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from closedloop.access.scope import get_visible, scoped
from closedloop.analytics.relations import exponent
from closedloop.deals import service as deal_service
from closedloop.errors import UserError, ValidationFailed
from closedloop.handoffs import activities as activity_service
from closedloop.handoffs import service as handoff_service
from closedloop.handoffs.models import REJECTION_REASONS, RESPONSE_ACTIVITY_TYPES, Handoff
from closedloop.leads.models import Lead
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, render
from closedloop.workspace.models import WorkspaceSettings

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Csrf = Annotated[str, Form(max_length=200)]
WORKING_STAGES = ("mql", "sal", "sql")
DONE = ("accepted", "rejected", "qualified", "logged", "deal_opened")
QUEUE_SIZE = 50  # the most urgent first; a longer list is not worked through in one sitting


def _items(page: Page) -> list[tuple[Handoff, Lead]]:
    """Open hand-offs, and accepted ones whose lead is not yet an opportunity: mine (managers: my team's).

    Two queries merged here rather than one with an OR across the join: the accepted part is read
    from the few leads still at a working stage (index on stage), not from every accepted hand-off
    of the store (60 ms at scale m, 10 ms this way).
    """

    def mine(stmt: Any) -> Any:
        if page.actor.role == "sales":
            return stmt.where(Handoff.owner_id == page.actor.user_id)
        return scoped(stmt, Handoff, page.actor)

    order = (Handoff.sla_due_at.asc().nulls_last(), Handoff.id)
    joined = select(Handoff, Lead).join(Lead, Lead.id == Handoff.lead_id)
    waiting = mine(joined.where(Handoff.status == "open")).order_by(*order).limit(QUEUE_SIZE)
    working = mine(joined.where(Handoff.status == "accepted", Lead.stage.in_(WORKING_STAGES)))
    db = page.request.state.db
    found = [(h, lead) for h, lead in db.execute(waiting).all()]
    if len(found) < QUEUE_SIZE:
        rest = working.order_by(*order).limit(QUEUE_SIZE - len(found))
        found += [(h, lead) for h, lead in db.execute(rest).all()]
    return found


def show(page: Page, *, flash: str | None = None, kind: str = "ok", status: int = 200) -> Response:
    """The queue page."""
    now = datetime.now(UTC)
    items = []
    for h, lead in _items(page):
        due = h.accept_due_at if h.status == "open" and h.accept_due_at else h.sla_due_at
        items.append({"h": h, "lead": lead, "due": due, "left": page.left(due, now),
                      "overdue": due is not None and due < now})  # fmt: skip
    done = page.request.query_params.get("done")
    if flash is None and done in DONE:
        flash = page.t(f"web.queue.done.{done}")
    return render(page, "queue.html", status, items=items, reasons=REJECTION_REASONS,
                  activity_types=RESPONSE_ACTIVITY_TYPES, flash=flash, flash_kind=kind)  # fmt: skip


@router.get("/queue")
def queue(page: PageDep) -> Response:
    """The caller's hand-offs waiting for an answer."""
    page.require("handoffs", "respond")
    return show(page)


def _act(page: Page, csrf: str, action: str, run: object) -> Response:
    """Check CSRF and permission, run the change; on a user error roll back and show why."""
    check_csrf(page, csrf)
    page.require("handoffs", "respond")
    try:
        run()  # type: ignore[operator]
    except UserError as exc:
        page.request.state.db.rollback()
        return show(page, flash=exc.message, kind="error", status=exc.http_status)
    return RedirectResponse(f"/queue?done={action}", status_code=303)


def _handoff(page: Page, handoff_id: int) -> Handoff:
    return get_visible(page.request.state.db, Handoff, handoff_id, page.actor)


@router.post("/queue/{handoff_id}/accept")
def accept(page: PageDep, handoff_id: int, csrf_token: Csrf = "") -> Response:
    """Accept the hand-off: the lead becomes an SAL."""
    db = page.request.state.db
    return _act(page, csrf_token, "accepted", lambda: handoff_service.accept(
        session=db, handoff_id=_handoff(page, handoff_id).id, actor=page.actor))  # fmt: skip


@router.post("/queue/{handoff_id}/reject")
def reject(page: PageDep, handoff_id: int, csrf_token: Csrf = "",
           reason: Annotated[str, Form(max_length=40)] = "",
           text: Annotated[str, Form(max_length=2000)] = "") -> Response:  # fmt: skip
    """Reject with a reason code (and words for `other`)."""
    db = page.request.state.db
    return _act(page, csrf_token, "rejected", lambda: handoff_service.reject(
        session=db, handoff_id=_handoff(page, handoff_id).id, reason=reason, text=text.strip() or None,
        actor=page.actor))  # fmt: skip


@router.post("/queue/{handoff_id}/qualify")
def qualify(page: PageDep, handoff_id: int, csrf_token: Csrf = "") -> Response:
    """Need, budget, authority and timing confirmed: the lead becomes an SQL."""
    db = page.request.state.db
    return _act(page, csrf_token, "qualified", lambda: handoff_service.qualify(
        session=db, handoff_id=_handoff(page, handoff_id).id, actor=page.actor))  # fmt: skip


@router.post("/queue/{handoff_id}/activity")
def activity(page: PageDep, handoff_id: int, csrf_token: Csrf = "",
             type_: Annotated[str, Form(alias="type", max_length=20)] = "",
             notes: Annotated[str, Form(max_length=4000)] = "") -> Response:  # fmt: skip
    """Log a call, email or meeting on the hand-off's lead (the first one answers the SLA)."""
    page.require("activities", "create")
    db = page.request.state.db
    return _act(page, csrf_token, "logged", lambda: activity_service.log_activity(
        session=db, type=type_, actor=page.actor, lead_id=_handoff(page, handoff_id).lead_id,
        notes=notes.strip() or None))  # fmt: skip


def parse_amount(text: str, currency: str, page: Page) -> int:
    """An amount typed in major units ("120,000.50") as minor units."""
    try:
        value = Decimal(text.replace(",", "").strip() or "0")
    except InvalidOperation as exc:
        raise ValidationFailed(page.t("web.error.amount")) from exc
    if value < 0 or value > Decimal(10) ** 12:
        raise ValidationFailed(page.t("web.error.amount"))
    return int((value * 10 ** exponent(currency)).to_integral_value())


@router.post("/queue/{handoff_id}/deal")
def open_deal(page: PageDep, handoff_id: int, csrf_token: Csrf = "",
              name: Annotated[str, Form(max_length=300)] = "",
              amount: Annotated[str, Form(max_length=30)] = "0") -> Response:  # fmt: skip
    """Open a deal for the qualified lead: it becomes an opportunity."""
    page.require("deals", "write")
    db = page.request.state.db

    def run() -> None:
        handoff = _handoff(page, handoff_id)
        lead = get_visible(db, Lead, handoff.lead_id, page.actor)
        settings = db.get(WorkspaceSettings, 1)
        currency = (settings.reporting_currency if settings else None) or "TWD"
        deal_service.open_deal(session=db, name=name.strip() or (lead.name or lead.email or f"#{lead.id}"),
                               amount_minor=parse_amount(amount, currency, page), currency=currency,
                               actor=page.actor, lead_id=lead.id, owner_id=page.actor.user_id)  # fmt: skip

    return _act(page, csrf_token, "deal_opened", run)
