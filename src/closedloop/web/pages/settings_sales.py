"""Settings owned by the sales side: pipeline stages (names, probabilities), SLA policy and business hours, routing.

Stage probabilities, the SLA and routing are versioned definitions: the forms here propose a new
version (SPEC section 4). Stage names, calendars and team calendars are admin settings, changed
at once and audited.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from closedloop.deals import stages as deal_stages
from closedloop.deals.models import PipelineStage
from closedloop.errors import UserError, ValidationFailed
from closedloop.handoffs.routing import DEFAULT_ROUTING, RULE_KEYS
from closedloop.handoffs.sla import DEFAULT_SLA
from closedloop.i18n import LANGUAGES
from closedloop.users.models import Team
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, not_found, render
from closedloop.web.pages.settings import (
    Csrf,
    current_payload,
    may_propose,
    propose_from_form,
    require_admin,
    require_section,
    tomorrow,
)
from closedloop.workspace import service as workspace_service
from closedloop.workspace.models import BusinessCalendar, CalendarDay

router = APIRouter(route_class=PageRoute, include_in_schema=False)
When = Annotated[str, Form(max_length=40)]
Reason = Annotated[str, Form(max_length=2000)]
SLA_FIELDS = (  # (side, name, unit): shares are typed as percentages
    ("sales", "first_response_hours", "hours"), ("sales", "accept_within_hours", "hours"),
    ("sales", "attempts", "count"), ("sales", "attempts_within_days", "days"),
    ("sales", "response_compliance", "share"), ("marketing", "mql_volume_per_month", "count"),
    ("marketing", "mql_to_sql_rate", "share"),
)  # fmt: skip
RULE_ROWS_BLANK = 2


def _is_admin(page: Page) -> bool:
    return page.actor.is_system or page.actor.role == "admin"


def _flash(page: Page, errors: dict[str, str] | None) -> dict[str, Any]:
    done = page.request.query_params.get("done")
    flash = (
        page.t(f"web.sales_settings.done.{done}")
        if done in ("proposed", "saved", "added") and not errors
        else None
    )
    return {"flash": flash, "flash_kind": "error" if errors else "ok"}


def _number(page: Page, text: str, field: str, low: Decimal, high: Decimal | None) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation as exc:
        raise ValidationFailed(page.t("web.sales_settings.error.number"), detail={"field": field}) from exc
    if not value.is_finite() or value < low or (high is not None and value > high):
        raise ValidationFailed(page.t("web.sales_settings.error.range", low=low, high=high if high is not None else "∞"),
                               detail={"field": field})  # fmt: skip
    return value


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v)[:2000] for k, v in form.items() if isinstance(v, str)}


# ---------------------------------------------------------------- pipeline stages


def show_pipeline(page: Page, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                  status: int = 200) -> Response:  # fmt: skip
    """Stages in order with their names and the probability in force."""
    stages = list(page.request.state.db.scalars(select(PipelineStage).order_by(PipelineStage.position)))
    payload, version = current_payload(page, "stage_probabilities")
    probability = {s.key: Decimal(str(payload.get(s.key, s.probability))) for s in stages}
    movable = _movable(stages)
    return render(page, "settings_pipeline.html", status, stages=stages, probability=probability, version=version,
                  langs=LANGUAGES, is_admin=_is_admin(page), movable=movable, categories=deal_stages.OPEN_CATEGORIES, may_propose=may_propose(page.actor, "stage_probabilities"),
                  errors=errors or {}, values=values or {}, default_when=tomorrow(page), **_flash(page, errors))  # fmt: skip


def _movable(stages: list[PipelineStage]) -> dict[str, tuple[bool, bool]]:
    """Per stage, whether it may move up and down: open stages stay before won and lost."""
    out = {}
    for i, stage in enumerate(stages):
        before = stages[i - 1] if i > 0 else None
        after = stages[i + 1] if i + 1 < len(stages) else None
        up = before is not None and not (stage.outcome != "open" and before.outcome == "open")
        down = after is not None and not (stage.outcome == "open" and after.outcome != "open")
        out[stage.key] = (up, down)
    return out


@router.get("/settings/pipeline")
def pipeline(page: PageDep) -> Response:
    """Pipeline stages and names."""
    require_section(page, "/settings/pipeline")
    return show_pipeline(page)


@router.post("/settings/pipeline/{key}/names")
async def rename_stage(page: PageDep, key: str, request: Request) -> Response:
    """New display names for a stage (admins)."""
    form = await _form(request)
    check_csrf(page, form.get("csrf_token"))
    require_section(page, "/settings/pipeline")
    require_admin(page)
    if page.request.state.db.scalar(select(PipelineStage.id).where(PipelineStage.key == key)) is None:
        raise not_found(page)
    names = {lang: form.get(f"name-{lang}", "") for lang in LANGUAGES}
    try:
        deal_stages.rename_stage(session=page.request.state.db, actor=page.actor, key=key, names=names)
    except UserError as exc:
        page.request.state.db.rollback()
        message = page.t("deal.error.stage_name", stage=key)
        return show_pipeline(page, errors={f"{key}-names": message}, status=exc.http_status)
    return RedirectResponse("/settings/pipeline?done=saved", status_code=303)


@router.post("/settings/pipeline/stages")
async def add_stage(page: PageDep, request: Request) -> Response:
    """Add an open stage with its names (admins); its probability comes through a proposal."""
    form = await _form(request)
    check_csrf(page, form.get("csrf_token"))
    require_section(page, "/settings/pipeline")
    require_admin(page)
    names = {lang: form.get(f"new-name-{lang}", "") for lang in LANGUAGES}
    try:
        deal_stages.add_stage(session=page.request.state.db, actor=page.actor, key=form.get("key", ""),
                               names=names, forecast_category=form.get("forecast_category", "pipeline"),
                               after=form.get("after") or None)  # fmt: skip
    except UserError as exc:
        page.request.state.db.rollback()
        named = str(exc.detail.get("field") or "key")
        field = (
            f"new-{named}"
            if named.startswith("name-") or named in ("key", "forecast_category", "after")
            else "new-key"
        )
        return show_pipeline(page, errors={field: exc.message}, values=form, status=exc.http_status)
    return RedirectResponse("/settings/pipeline?done=added", status_code=303)


@router.post("/settings/pipeline/order")
async def reorder_stages(page: PageDep, request: Request) -> Response:
    """Move one stage up or down (`move` = "key:up" or "key:down"), or set the whole `order` (admins)."""
    form = await _form(request)
    check_csrf(page, form.get("csrf_token"))
    require_section(page, "/settings/pipeline")
    require_admin(page)
    db = page.request.state.db
    keys = list(db.scalars(select(PipelineStage.key).order_by(PipelineStage.position, PipelineStage.id)))
    key, _, direction = form.get("move", "").partition(":")
    if key in keys and direction in ("up", "down"):
        i = keys.index(key)
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(keys):
            keys[i], keys[j] = keys[j], keys[i]
    elif form.get("order"):
        keys = [k.strip() for k in form["order"].split(",") if k.strip()]
    try:
        deal_stages.reorder_stages(session=db, actor=page.actor, keys=keys)
    except UserError as exc:
        db.rollback()
        return show_pipeline(page, errors={"order": exc.message}, status=exc.http_status)
    return RedirectResponse(f"/settings/pipeline?done=saved#stage-{key}" if key else "/settings/pipeline?done=saved",
                            status_code=303)  # fmt: skip


@router.post("/settings/pipeline/probabilities")
async def propose_probabilities(page: PageDep, request: Request) -> Response:
    """Propose new win probabilities for the open stages (percent)."""
    form = await _form(request)
    check_csrf(page, form.get("csrf_token"))
    require_section(page, "/settings/pipeline")
    db = page.request.state.db
    open_stages = list(db.scalars(select(PipelineStage.key).where(PipelineStage.outcome == "open")))

    def payload() -> dict[str, Any]:
        current, _ = current_payload(page, "stage_probabilities")
        out = dict(current)
        for key in open_stages:
            share = _number(page, form.get(f"prob-{key}", ""), f"prob-{key}", Decimal(0), Decimal(100)) / 100
            out[key] = str(share.normalize())
        return out

    def show(page: Page, **kw: Any) -> Response:
        kw["values"] = {**kw.get("values", {}), **form}
        return show_pipeline(page, **kw)

    return propose_from_form(page, kind="stage_probabilities", payload=payload,
                             effective_from=form.get("effective_from", ""), reason=form.get("reason", ""),
                             show=show, done="/settings/pipeline",
                             fields=tuple(f"prob-{k}" for k in open_stages))  # fmt: skip


# ---------------------------------------------------------------- SLA and business hours


def show_sla(page: Page, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
             status: int = 200) -> Response:  # fmt: skip
    """The SLA in force, a form to propose a new one, the business calendars and which team uses which."""
    db = page.request.state.db
    payload, version = current_payload(page, "sla", DEFAULT_SLA)
    figures = {}
    for side, name, unit in SLA_FIELDS:
        value = Decimal(str(dict(payload.get(side, {})).get(name, DEFAULT_SLA[side][name])))
        figures[name] = (value * 100).normalize() if unit == "share" else value.normalize()
    calendars = list(db.scalars(select(BusinessCalendar).order_by(BusinessCalendar.name)))
    days = {c.id: list(db.scalars(select(CalendarDay).where(CalendarDay.calendar_id == c.id)
                                  .where(CalendarDay.day >= date.today().replace(month=1, day=1))
                                  .order_by(CalendarDay.day))) for c in calendars}  # fmt: skip
    hours = {c.id: workspace_service.hours_as_text(c.working_hours or {}) for c in calendars}
    teams = list(db.scalars(select(Team).order_by(Team.name)))
    return render(page, "settings_sla.html", status, fields=SLA_FIELDS, figures=figures, version=version,
                  calendars=calendars, days=days, hours=hours, teams=teams, is_admin=_is_admin(page),
                  may_propose=may_propose(page.actor, "sla"), errors=errors or {}, values=values or {},
                  default_when=tomorrow(page), today=datetime.now(page.tz).date(), **_flash(page, errors))  # fmt: skip


@router.get("/settings/sla")
def sla(page: PageDep) -> Response:
    """SLA policy and business hours."""
    require_section(page, "/settings/sla")
    return show_sla(page)


@router.post("/settings/sla")
async def propose_sla(page: PageDep, request: Request) -> Response:
    """Propose a new SLA version from the form's figures."""
    form = await _form(request)
    check_csrf(page, form.get("csrf_token"))
    require_section(page, "/settings/sla")

    def payload() -> dict[str, Any]:
        out: dict[str, dict[str, float | int]] = {"sales": {}, "marketing": {}}
        for side, name, unit in SLA_FIELDS:
            high = Decimal(100) if unit == "share" else None
            value = _number(page, form.get(name, ""), name, Decimal(0), high)
            if unit in ("hours", "days") and value == 0:
                raise ValidationFailed(page.t("web.sales_settings.error.positive"), detail={"field": name})
            out[side][name] = (
                int(value) if unit == "count" else float(value / 100 if unit == "share" else value)
            )
        return out

    def show(page: Page, **kw: Any) -> Response:
        kw["values"] = {**kw.get("values", {}), **form}
        return show_sla(page, **kw)

    return propose_from_form(page, kind="sla", payload=payload, effective_from=form.get("effective_from", ""),
                             reason=form.get("reason", ""), show=show, done="/settings/sla",
                             fields=tuple(name for _, name, _ in SLA_FIELDS))  # fmt: skip


def _calendar_change(page: Page, run: Any, field: str) -> Response:
    try:
        run()
    except UserError as exc:
        page.request.state.db.rollback()
        named = str(exc.detail.get("field") or "")
        return show_sla(
            page, errors={f"{field}-{named}" if named else field: exc.message}, status=exc.http_status
        )
    return RedirectResponse("/settings/sla?done=saved", status_code=303)


@router.post("/settings/sla/calendars")
async def save_calendar(page: PageDep, request: Request) -> Response:
    """Create a calendar, or change one's name, time zone and weekly hours (admins)."""
    form = await _form(request)
    check_csrf(page, form.get("csrf_token"))
    require_section(page, "/settings/sla")
    require_admin(page)
    db = page.request.state.db
    calendar_id = form.get("calendar_id", "")
    calendar = db.get(BusinessCalendar, int(calendar_id)) if calendar_id.isdigit() else None
    if calendar_id and calendar is None:
        raise not_found(page)
    prefix = f"cal{calendar.id}" if calendar else "cal-new"

    def run() -> None:
        hours = workspace_service.hours_from_text({d: form.get(f"day-{d}", "") for d in range(7)})
        workspace_service.save_calendar(session=db, actor=page.actor, calendar=calendar, name=form.get("name", ""),
                                        time_zone=form.get("time_zone", "Asia/Taipei"), working_hours=hours)  # fmt: skip

    return _calendar_change(page, run, prefix)


@router.post("/settings/sla/calendars/{calendar_id}/days")
async def set_day(page: PageDep, calendar_id: int, request: Request) -> Response:
    """Add a holiday or make-up working day, or clear a date (kind "clear")."""
    form = await _form(request)
    check_csrf(page, form.get("csrf_token"))
    require_section(page, "/settings/sla")
    require_admin(page)
    calendar = page.request.state.db.get(BusinessCalendar, calendar_id)
    if calendar is None:
        raise not_found(page)

    def run() -> None:
        try:
            day = date.fromisoformat(form.get("day", ""))
        except ValueError as exc:
            raise ValidationFailed(page.t("web.sales_settings.error.day"), detail={"field": "day"}) from exc
        kind = form.get("kind", "")
        workspace_service.set_day(session=page.request.state.db, actor=page.actor, calendar=calendar, day=day,
                                  kind=None if kind == "clear" else kind, name=form.get("day_name"))  # fmt: skip

    return _calendar_change(page, run, f"days{calendar_id}")


@router.post("/settings/sla/teams/{team_id}")
def set_team_calendar(page: PageDep, team_id: int, csrf_token: Csrf = "",
                      calendar_id: Annotated[str, Form(max_length=12)] = "") -> Response:  # fmt: skip
    """Which calendar a team's SLA hours count in."""
    check_csrf(page, csrf_token)
    require_section(page, "/settings/sla")
    require_admin(page)
    team = page.request.state.db.get(Team, team_id)
    if team is None:
        raise not_found(page)
    return _calendar_change(page, lambda: workspace_service.set_team_calendar(
        session=page.request.state.db, actor=page.actor, team=team,
        calendar_id=int(calendar_id) if calendar_id.isdigit() else None), f"team{team_id}")  # fmt: skip


# ---------------------------------------------------------------- routing


def show_routing(page: Page, *, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                 status: int = 200) -> Response:  # fmt: skip
    """The routing rules in force, as an editable ordered list, and a form to propose a new version."""
    payload, version = current_payload(page, "routing", DEFAULT_ROUTING)
    rules = [{"team": r.get("team", ""), **{k: ", ".join(v if isinstance(v, list) else [str(v)])
                                            for k, v in dict(r.get("match", {})).items()}}
             for r in payload.get("rules", [])]  # fmt: skip
    rules += [{"team": ""}] * RULE_ROWS_BLANK
    teams = list(
        page.request.state.db.scalars(select(Team.name).where(Team.kind == "sales").order_by(Team.name))
    )
    return render(page, "settings_routing.html", status, rules=rules, keys=RULE_KEYS, teams=teams, version=version,
                  payload=payload, may_propose=may_propose(page.actor, "routing"), errors=errors or {},
                  values=values or {}, default_when=tomorrow(page), **_flash(page, errors))  # fmt: skip


@router.get("/settings/routing")
def routing(page: PageDep) -> Response:
    """Routing rules."""
    require_section(page, "/settings/routing")
    return show_routing(page)


@router.post("/settings/routing")
async def propose_routing(page: PageDep, request: Request) -> Response:
    """Propose routing rules: rows in order (first match wins), an empty team drops the row."""
    form = await _form(request)
    check_csrf(page, form.get("csrf_token"))
    require_section(page, "/settings/routing")
    known = set(page.request.state.db.scalars(select(Team.name)))

    def payload() -> dict[str, Any]:
        rows = []
        for i in range(200):
            if f"team-{i}" not in form:
                break
            team = form[f"team-{i}"].strip()
            match = {
                k: [v.strip() for v in form.get(f"{k}-{i}", "").split(",") if v.strip()] for k in RULE_KEYS
            }
            match = {k: v for k, v in match.items() if v}
            if not team:
                continue
            if team not in known:
                raise ValidationFailed(page.t("web.people.error.team"), detail={"field": f"team-{i}"})
            if not match:
                raise ValidationFailed(
                    page.t("web.sales_settings.error.match"), detail={"field": f"team-{i}"}
                )
            order = form.get(f"order-{i}", str(i))
            rows.append(
                (_number(page, order, f"order-{i}", Decimal(0), None), i, {"match": match, "team": team})
            )
        default = form.get("default_team", "").strip()
        if default and default not in known:
            raise ValidationFailed(page.t("web.people.error.team"), detail={"field": "default_team"})
        return {"account_owner_first": form.get("account_owner_first") == "1",
                "rules": [r for _, _, r in sorted(rows, key=lambda r: (r[0], r[1]))], "default_team": default or None}  # fmt: skip

    def show(page: Page, **kw: Any) -> Response:
        kw["values"] = {**kw.get("values", {}), **form}
        return show_routing(page, **kw)

    return propose_from_form(page, kind="routing", payload=payload, effective_from=form.get("effective_from", ""),
                             reason=form.get("reason", ""), show=show, done="/settings/routing",
                             fields=("default_team", *(f"{k}-{i}" for k in ("team", "order") for i in range(200))))  # fmt: skip
