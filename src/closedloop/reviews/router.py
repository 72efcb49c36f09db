"""JSON API for the weekly review: managers and admins run it; every signed-in role reads it."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, status
from pydantic import Field
from sqlalchemy import func, select

from closedloop.access import policy
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.types import (
    Day,
    Id,
    IdPath,
    In,
    Limit,
    LongText,
    Moment,
    Name200,
    Name300,
    Offset,
    Str32,
    Str64,
    Str300,
)
from closedloop.reviews import service
from closedloop.reviews.agenda import item_dict
from closedloop.reviews.models import Review
from closedloop.users.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["reviews"])
Segment = dict[Str32, Str300]


def _can_read(actor: Actor) -> None:
    policy.require(actor, "reviews", "read")  # every signed-in role: the review is the shared meeting


def _can_edit(actor: Actor) -> None:
    policy.require(actor, "reviews", "write")


class ReviewIn(In):
    title: Name200
    period_start: Day
    period_end: Day
    attendees: list[Id] = Field(default_factory=list, max_length=200)
    data_as_of: Moment | None = None


class ReviewPatch(In):
    title: Name200 | None = None
    minutes: LongText | None = None
    status: Literal["planned", "held", "closed"] | None = None
    attendees: list[Id] | None = Field(default=None, max_length=200)


class ActionItemIn(In):
    title: Name300
    owner_id: Id | None = None
    due_date: Day
    metric: Str64
    segment: Segment = Field(default_factory=dict)
    from_stage: Str32 | None = None
    to_stage: Str32 | None = None


class ActionItemPatch(In):
    title: Name300 | None = None
    owner_id: Id | None = None
    due_date: Day | None = None
    status: Literal["open", "in_progress", "done", "dropped"] | None = None


def _url(session: Any) -> str:
    return str(session.get_bind().url.render_as_string(hide_password=False))


def _review(review: Review, session: Any) -> dict[str, Any]:
    return {
        "id": review.id, "title": review.title, "period_start": review.period_start.isoformat(),
        "period_end": review.period_end.isoformat(), "data_as_of": review.data_as_of.isoformat(),
        "status": review.status, "attendees": list(review.attendees or []), "minutes": review.minutes,
        "agenda": review.agenda, "action_items": [item_dict(i) for i in service.review_items(session, review.id)],
    }  # fmt: skip


@router.get("/reviews")
def list_reviews(session: SessionDep, actor: CurrentActor, limit: Limit = 50, offset: Offset = 0) -> Any:
    """Reviews, newest period first (without their agendas)."""
    _can_read(actor)
    total = session.scalar(select(func.count()).select_from(Review)) or 0
    rows = session.scalars(
        select(Review).order_by(Review.period_end.desc(), Review.id.desc()).limit(limit).offset(offset)
    )
    items = [{"id": r.id, "title": r.title, "period_start": r.period_start.isoformat(),
              "period_end": r.period_end.isoformat(), "status": r.status,
              "data_as_of": r.data_as_of.isoformat()} for r in rows]  # fmt: skip
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/reviews/{review_id}")
def get_review(review_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One review: attendees, minutes, the frozen agenda and its action items with before/after."""
    _can_read(actor)
    return _review(service.get_review(session, review_id), session)


@router.post("/reviews", status_code=status.HTTP_201_CREATED)
def create_review(body: ReviewIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Open a review: its agenda is generated from the data and frozen at data_as_of."""
    _can_edit(actor)
    review = service.create_review(
        session=session, url=_url(session), actor=actor, title=body.title, period_start=body.period_start,
        period_end=body.period_end, attendees=body.attendees, as_of=body.data_as_of,
    )  # fmt: skip
    return _review(review, session)


@router.patch("/reviews/{review_id}")
def update_review(review_id: IdPath, body: ReviewPatch, session: SessionDep, actor: CurrentActor) -> Any:
    """Record minutes, attendees, title or status."""
    _can_edit(actor)
    values = body.model_dump(exclude_unset=True)
    review = service.update_review(session=session, actor=actor, review_id=review_id, values=values)
    return _review(review, session)


@router.post("/reviews/{review_id}/action-items", status_code=status.HTTP_201_CREATED)
def add_action_item(review_id: IdPath, body: ActionItemIn, session: SessionDep, actor: CurrentActor) -> Any:
    """An action item with its metric's baseline over the review's period."""
    _can_edit(actor)
    item = service.add_action_item(
        session=session, url=_url(session), actor=actor, review_id=review_id, title=body.title,
        owner_id=body.owner_id, due_date=body.due_date, metric=body.metric, segment=body.segment,
        from_stage=body.from_stage, to_stage=body.to_stage,
    )  # fmt: skip
    return item_dict(item)


@router.patch("/action-items/{item_id}")
def update_action_item(
    item_id: IdPath, body: ActionItemPatch, session: SessionDep, actor: CurrentActor
) -> Any:
    """Change an item's status, owner, due date or title."""
    _can_edit(actor)
    values: dict[str, date | str | int | None] = body.model_dump(exclude_unset=True)
    return item_dict(service.update_action_item(session=session, actor=actor, item_id=item_id, values=values))


# The report-pack subscriptions ride along with the review API (the pack is the review's document).
from closedloop.reports.router import router as _reports_router  # noqa: E402

router.include_router(_reports_router)
