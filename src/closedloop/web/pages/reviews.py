"""The weekly review pages: the list, one review (agenda, minutes, action items) and their forms.

Every signed-in role reads reviews; managers and admins create and edit them (the same
("reviews", "read"/"write") rows as the API). Changes go through `reviews.service`, which audits them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from closedloop.access import policy
from closedloop.analytics.declarations import DIMENSIONS, LEAD_DIMENSIONS, METRICS
from closedloop.errors import NotFound, UserError, ValidationFailed
from closedloop.i18n import LANGUAGES
from closedloop.leads.lifecycle import MAIN_LINE
from closedloop.reports import subscriptions
from closedloop.reports.build import week_period
from closedloop.reports.render import fmt, metric_label
from closedloop.reviews import service
from closedloop.reviews.agenda import item_dict
from closedloop.reviews.models import ACTION_STATUSES, REVIEW_STATUSES, Review
from closedloop.users.models import Team, User
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, render
from closedloop.workspace.models import WorkspaceSettings

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Csrf = Annotated[str, Form(max_length=200)]
Short = Annotated[str, Form(max_length=300)]
Ids = Annotated[list[str], Form(max_length=200)]
DONE = ("created", "updated", "item_added", "item_updated", "subscribed", "unsubscribed")
LIST_SIZE = 100


def _today(page: Page) -> date:
    settings = page.request.state.db.get(WorkspaceSettings, 1)
    zone = ZoneInfo((settings.reporting_time_zone if settings else None) or "Asia/Taipei")
    return datetime.now(zone).date()


def _users(page: Page) -> list[User]:
    return list(
        page.request.state.db.scalars(select(User).where(User.is_active.is_(True)).order_by(User.email))
    )


def _names(page: Page) -> dict[int, str]:
    rows = page.request.state.db.execute(select(User.id, User.name, User.email))
    return {uid: (name or email) for uid, name, email in rows}


def _day(page: Page, text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValidationFailed(page.t("web.reviews.error.date"), detail={"field": field}) from exc


def _ids(page: Page, values: list[str], field: str) -> list[int]:
    out = []
    for value in values:
        if value.strip():
            if not value.strip().isdigit():
                raise ValidationFailed(page.t("web.reviews.error.user"), detail={"field": field})
            out.append(int(value))
    return out


def _helpers(page: Page) -> dict[str, Any]:
    return {"fmt": fmt, "metric_label": lambda metric, stage=None: metric_label(metric, stage, page.lang)}


def _act(page: Page, csrf: str, run: Callable[[], str], fallback: Callable[[str, int], Response]) -> Response:
    """Check CSRF and role, run the change; a user error rolls back and shows the form again with why."""
    check_csrf(page, csrf)
    page.require("reviews", "write")
    try:
        target = run()
    except UserError as exc:
        page.request.state.db.rollback()
        return fallback(exc.message, exc.http_status)
    return RedirectResponse(target, status_code=303)


def show_list(page: Page, *, flash: str | None = None, kind: str = "ok", status: int = 200) -> Response:
    """The list of reviews, newest period first, with the form to open one."""
    session = page.request.state.db
    rows = list(session.scalars(
        select(Review).order_by(Review.period_end.desc(), Review.id.desc()).limit(LIST_SIZE)))  # fmt: skip
    counts = _item_counts(page, [r.id for r in rows])
    start, end = week_period(_today(page))
    return render(page, "reviews.html", status, reviews=rows, counts=counts, users=_users(page),
                  may_edit=policy.allowed(page.actor, "reviews", "write"), default_start=start,
                  default_end=end, flash=flash, flash_kind=kind, **_subscription_context(page))  # fmt: skip


def _subscription_context(page: Page) -> dict[str, Any]:
    """The caller's report subscriptions and what the form offers (teams only to leaders)."""
    session = page.request.state.db
    subs = subscriptions.visible(session, page.actor)
    teams = dict(session.execute(select(Team.id, Team.name).order_by(Team.name)).all())
    return {"subscriptions": subs, "names": _names(page), "teams": teams,
            "may_team": policy.allowed(page.actor, "report_subscriptions", "team"), "languages": LANGUAGES}  # fmt: skip


def _item_counts(page: Page, ids: list[int]) -> dict[int, int]:
    from closedloop.reviews.models import ActionItem

    if not ids:
        return {}
    rows = page.request.state.db.execute(
        select(ActionItem.review_id, func.count())
        .where(ActionItem.review_id.in_(ids))
        .group_by(ActionItem.review_id)
    )
    return {rid: n for rid, n in rows}


@router.get("/reviews")
def reviews(page: PageDep) -> Response:
    """Reviews, newest first; leaders see the form to open the next one."""
    page.require("reviews", "read")
    done = page.request.query_params.get("done")
    return show_list(page, flash=page.t(f"web.reviews.done.{done}") if done in DONE else None)


@router.post("/reviews")
def create(page: PageDep, csrf_token: Csrf = "", title: Short = "", period_start: Short = "",
           period_end: Short = "", attendees: Ids = []) -> Response:  # noqa: B006  # fmt: skip
    """Open a review: its agenda is generated from the data now and frozen."""

    def run() -> str:
        review = service.create_review(
            session=page.request.state.db, url=page.url, actor=page.actor,
            title=title.strip() or page.t("web.reviews.untitled"),
            period_start=_day(page, period_start, "period_start"), period_end=_day(page, period_end, "period_end"),
            attendees=_ids(page, attendees, "attendees"),
        )  # fmt: skip
        return f"/reviews/{review.id}?done=created"

    return _act(
        page, csrf_token, run, lambda msg, code: show_list(page, flash=msg, kind="error", status=code)
    )


def show_review(
    page: Page, review_id: int, *, flash: str | None = None, kind: str = "ok", status: int = 200
) -> Response:
    """One review: attendees, the frozen agenda, minutes and action items with before/after."""
    session = page.request.state.db
    review = service.get_review(session, review_id)
    names = _names(page)
    items = [
        {**item_dict(i), "owner": names.get(i.owner_id or 0)}
        for i in service.review_items(session, review.id)
    ]
    agenda: dict[str, Any] = dict(review.agenda or {})
    followed = [{**i, "owner": names.get(i.get("owner_id") or 0)} for i in agenda.get("followed_up", [])]
    overdue = [{**i, "owner": names.get(i.get("owner_id") or 0)} for i in agenda.get("overdue", [])]
    return render(
        page, "review.html", status, review=review, a=agenda, items=items, followed=followed, overdue=overdue,
        attendees=[names.get(a, f"#{a}") for a in review.attendees or []], users=_users(page),
        may_edit=policy.allowed(page.actor, "reviews", "write"), statuses=REVIEW_STATUSES,
        item_statuses=ACTION_STATUSES, metrics=sorted(METRICS), dimensions=LEAD_DIMENSIONS,
        stages=[s.value for s in MAIN_LINE], flash=flash, flash_kind=kind, **_helpers(page),
    )  # fmt: skip


@router.get("/reviews/{review_id}")
def review(page: PageDep, review_id: int) -> Response:
    """The review page."""
    page.require("reviews", "read")
    done = page.request.query_params.get("done")
    return show_review(page, review_id, flash=page.t(f"web.reviews.done.{done}") if done in DONE else None)


@router.post("/reviews/{review_id}")
def update(page: PageDep, review_id: int, csrf_token: Csrf = "", title: Short = "",
           minutes: Annotated[str, Form(max_length=20000)] = "", status: Annotated[str, Form(max_length=16)] = "",
           attendees: Ids = []) -> Response:  # noqa: B006  # fmt: skip
    """Record the minutes, attendees, title and status (the agenda's numbers stay frozen)."""

    def run() -> str:
        values: dict[str, Any] = {
            "minutes": minutes.strip() or None,
            "attendees": _ids(page, attendees, "attendees"),
        }
        if title.strip():
            values["title"] = title.strip()
        if status:
            values["status"] = status
        service.update_review(
            session=page.request.state.db, actor=page.actor, review_id=review_id, values=values
        )
        return f"/reviews/{review_id}?done=updated"

    return _act(page, csrf_token, run,
                lambda msg, code: show_review(page, review_id, flash=msg, kind="error", status=code))  # fmt: skip


@router.post("/reviews/{review_id}/action-items")
def add_item(page: PageDep, review_id: int, csrf_token: Csrf = "", title: Short = "", owner_id: Short = "",
             due_date: Short = "", metric: Annotated[str, Form(max_length=64)] = "",
             from_stage: Annotated[str, Form(max_length=32)] = "", to_stage: Annotated[str, Form(max_length=32)] = "",
             dimension: Annotated[str, Form(max_length=32)] = "", value: Short = "") -> Response:  # fmt: skip
    """An action item: who moves which metric in which segment by when; its baseline is measured now."""

    def run() -> str:
        if not title.strip():
            raise ValidationFailed(page.t("web.reviews.error.title"), detail={"field": "title"})
        if dimension and dimension not in DIMENSIONS:
            raise ValidationFailed(page.t("web.reviews.error.dimension"), detail={"field": "dimension"})
        owners = _ids(page, [owner_id], "owner_id")
        service.add_action_item(
            session=page.request.state.db, url=page.url, actor=page.actor, review_id=review_id, title=title.strip(),
            owner_id=owners[0] if owners else None, due_date=_day(page, due_date, "due_date"), metric=metric,
            segment={dimension: value.strip()} if dimension and value.strip() else {},
            from_stage=from_stage or None, to_stage=to_stage or None,
        )  # fmt: skip
        return f"/reviews/{review_id}?done=item_added#items"

    return _act(page, csrf_token, run,
                lambda msg, code: show_review(page, review_id, flash=msg, kind="error", status=code))  # fmt: skip


@router.post("/reviews/{review_id}/action-items/{item_id}")
def update_item(page: PageDep, review_id: int, item_id: int, csrf_token: Csrf = "",
                status: Annotated[str, Form(max_length=16)] = "", owner_id: Short = "",
                due_date: Short = "") -> Response:  # fmt: skip
    """Change an item's status, owner or due date."""

    def run() -> str:
        item = next(
            (i for i in service.review_items(page.request.state.db, review_id) if i.id == item_id), None
        )
        if item is None:
            raise NotFound(page.t("reviews.error.item_not_found", id=item_id))
        values: dict[str, Any] = {}
        if status:
            values["status"] = status
        if owner_id.strip():
            values["owner_id"] = _ids(page, [owner_id], "owner_id")[0]
        if due_date.strip():
            values["due_date"] = _day(page, due_date, "due_date")
        service.update_action_item(
            session=page.request.state.db, actor=page.actor, item_id=item.id, values=values
        )
        return f"/reviews/{review_id}?done=item_updated#items"

    return _act(page, csrf_token, run,
                lambda msg, code: show_review(page, review_id, flash=msg, kind="error", status=code))  # fmt: skip


@router.post("/reports/subscriptions")
def subscribe(page: PageDep, csrf_token: Csrf = "", report: Annotated[str, Form(max_length=16)] = "",
              schedule: Annotated[str, Form(max_length=16)] = "", language: Annotated[str, Form(max_length=8)] = "",
              team_id: Short = "") -> Response:  # fmt: skip
    """Receive a report pack by email as PDF (for oneself, or for a team: leaders)."""
    check_csrf(page, csrf_token)
    teams = _ids(page, [team_id], "team_id")
    try:
        subscriptions.subscribe(
            session=page.request.state.db, actor=page.actor, report=report, schedule=schedule or None,
            language=language or page.lang, user_id=None if teams else page.actor.user_id,
            team_id=teams[0] if teams else None,
        )  # fmt: skip
    except UserError as exc:
        page.request.state.db.rollback()
        return show_list(page, flash=exc.message, kind="error", status=exc.http_status)
    return RedirectResponse("/reviews?done=subscribed#subscriptions", status_code=303)


@router.post("/reports/subscriptions/{subscription_id}/delete")
def unsubscribe(page: PageDep, subscription_id: int, csrf_token: Csrf = "") -> Response:
    """Stop a report subscription."""
    check_csrf(page, csrf_token)
    try:
        subscriptions.unsubscribe(
            session=page.request.state.db, actor=page.actor, subscription_id=subscription_id
        )
    except UserError as exc:
        page.request.state.db.rollback()
        return show_list(page, flash=exc.message, kind="error", status=exc.http_status)
    return RedirectResponse("/reviews?done=unsubscribed#subscriptions", status_code=303)
