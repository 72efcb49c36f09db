"""The pipeline board: open deals by stage with amounts and weighted totals; move, win, lose."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from closedloop.access.scope import get_visible, scoped
from closedloop.deals import service as deal_service
from closedloop.deals.models import Deal
from closedloop.errors import Conflict, UserError
from closedloop.web.pages import numbers
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, render
from closedloop.web.pages.tables import Table, csv_response

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Csrf = Annotated[str, Form(max_length=200)]
Version = Annotated[int, Form(ge=1, le=2**31)]
PER_COLUMN = 30
LOST_REASONS = ("price", "competitor", "no_decision", "timing", "no_budget", "other")
DONE = ("moved", "won", "lost")


def stage_name(page: Page, stage: Any) -> str:
    """A pipeline stage's name in the user's language (its key when unnamed)."""
    names = stage.names or {}
    return str(names.get(page.lang) or names.get("en") or stage.key)


def show(page: Page, *, flash: str | None = None, kind: str = "ok", status: int = 200) -> Response:
    """The board."""
    db = page.request.state.db
    stages = [s for s in deal_service.stages(db) if s.outcome == "open" and s.is_active]
    ws = numbers.workspace(page.url)
    scope, _ = page.scope()
    got = numbers.ask(page.url, {"open": ("metrics", {"names": ["pipeline_as_of"], "by": ["deal_stage"],
                                                      "scope": scope})})  # fmt: skip
    by_stage = {r["group"].get("deal_stage"): r for r in got["open"]["results"]}
    table = Table("pipeline", page.t("web.pipeline.totals"),
                  [page.t("web.col.deal_stage"), page.t("web.col.deals"), page.t("web.col.amount"),
                   page.t("web.col.probability"), page.t("web.col.weighted")], numeric={1, 2, 3, 4})  # fmt: skip
    columns = []
    for s in stages:
        r = by_stage.get(s.key) or {}
        amount = r.get("value") or 0.0
        count = (r.get("figures") or {}).get("deals", 0)
        weighted = amount * float(s.probability)
        table.add([stage_name(page, s), page.num(count), page.money(amount, ws.currency), page.pct(float(s.probability), 0),
                   page.money(weighted, ws.currency)], [s.key, count, amount, float(s.probability), weighted])  # fmt: skip
        deals = list(db.scalars(scoped(select(Deal).where(Deal.status == "open", Deal.stage == s.key), Deal, page.actor)
                                .order_by(Deal.amount_minor.desc(), Deal.id).limit(PER_COLUMN)))  # fmt: skip
        visible = db.scalar(scoped(select(func.count()).select_from(Deal).where(Deal.status == "open", Deal.stage == s.key),
                                   Deal, page.actor)) or 0  # fmt: skip
        columns.append({"stage": s, "name": stage_name(page, s), "deals": deals, "more": visible - len(deals),
                        "count": count, "amount": page.money(amount, ws.currency),
                        "weighted": page.money(weighted, ws.currency)})  # fmt: skip
    csv = csv_response(page, [table])
    if csv is not None:
        return csv
    done = page.request.query_params.get("done")
    if flash is None and done in DONE:
        flash = page.t(f"web.pipeline.done.{done}")
    return render(page, "pipeline.html", status, columns=columns, stages=stages, table=table, flash=flash,
                  flash_kind=kind, lost_reasons=LOST_REASONS, stage_name=lambda s: stage_name(page, s))  # fmt: skip


@router.get("/pipeline")
def pipeline(page: PageDep) -> Response:
    """Deals by stage."""
    page.require("deals", "read")
    return show(page)


def _change(page: Page, csrf: str, done: str, run: Any) -> Response:
    check_csrf(page, csrf)
    page.require("deals", "write")
    try:
        run()
    except Conflict:
        page.request.state.db.rollback()
        return show(page, flash=page.t("web.pipeline.conflict"), kind="error", status=409)
    except UserError as exc:
        page.request.state.db.rollback()
        return show(page, flash=exc.message, kind="error", status=exc.http_status)
    return RedirectResponse(f"/pipeline?done={done}", status_code=303)


def _deal(page: Page, deal_id: int) -> Deal:
    return get_visible(page.request.state.db, Deal, deal_id, page.actor)


@router.post("/pipeline/{deal_id}/move")
def move(page: PageDep, deal_id: int, version: Version, csrf_token: Csrf = "",
         stage: Annotated[str, Form(max_length=64)] = "") -> Response:  # fmt: skip
    """Move a deal; if someone changed it since the board was drawn, say so instead of overwriting."""
    db = page.request.state.db
    return _change(page, csrf_token, "moved", lambda: deal_service.move_stage(
        session=db, deal_id=_deal(page, deal_id).id, to_stage=stage, expected_version=version, actor=page.actor))  # fmt: skip


@router.post("/pipeline/{deal_id}/win")
def win(page: PageDep, deal_id: int, version: Version, csrf_token: Csrf = "") -> Response:
    """Mark the deal won: its lead becomes a customer."""
    db = page.request.state.db
    return _change(page, csrf_token, "won", lambda: deal_service.win(
        session=db, deal_id=_deal(page, deal_id).id, expected_version=version, actor=page.actor))  # fmt: skip


@router.post("/pipeline/{deal_id}/lose")
def lose(page: PageDep, deal_id: int, version: Version, csrf_token: Csrf = "",
         reason: Annotated[str, Form(max_length=40)] = "",
         text: Annotated[str, Form(max_length=2000)] = "") -> Response:  # fmt: skip
    """Mark the deal lost with a reason."""
    db = page.request.state.db
    return _change(page, csrf_token, "lost", lambda: deal_service.lose(
        session=db, deal_id=_deal(page, deal_id).id, expected_version=version, reason=reason, text=text.strip() or None,
        actor=page.actor))  # fmt: skip
