"""Reviews and action items: create, record minutes, and measure each item's metric before and after."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.analytics import api
from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.errors import NotFound, ValidationFailed
from closedloop.i18n import translate
from closedloop.reviews import pack
from closedloop.reviews.agenda import build_agenda, item_dict
from closedloop.reviews.models import ACTION_STATUSES, REVIEW_STATUSES, ActionItem, Review
from closedloop.users.actor import Actor
from closedloop.users.models import User


def previous_period(
    session: Session, start: date, end: date, *, exclude_id: int | None = None
) -> tuple[date, date]:
    """The period of the last review before `start`, else the same number of days just before it."""
    query = (
        select(Review).where(Review.period_end < start).order_by(Review.period_end.desc(), Review.id.desc())
    )
    if exclude_id is not None:
        query = query.where(Review.id != exclude_id)
    last = session.scalars(query.limit(1)).first()
    if last is not None:
        return last.period_start, last.period_end
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def metric_value(
    url: str, item: ActionItem, *, date_from: date, date_to: date, as_of: datetime
) -> float | None:
    """The item's metric in its segment over a period, measured at `as_of`."""
    found = api.metrics(
        url, [item.metric], from_stage=item.from_stage, to_stage=item.to_stage,
        where=dict(item.segment or {}), date_from=date_from, date_to=date_to, as_of=as_of,
    )["results"]  # fmt: skip
    value = found[0]["value"] if found else None
    return None if value is None else float(value)


def _check_users(session: Session, ids: list[int]) -> None:
    for user_id in ids:
        if session.get(User, user_id) is None:
            raise ValidationFailed(
                translate("reviews.error.unknown_user", id=user_id), detail={"field": "user"}
            )


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise ValidationFailed(translate("reviews.error.period"), detail={"field": "period_end"})


def get_review(session: Session, review_id: int) -> Review:
    """The review, or NotFound."""
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound(translate("reviews.error.not_found", id=review_id))
    return review


def create_review(
    *, session: Session, url: str, actor: Actor, title: str, period_start: date, period_end: date,
    attendees: list[int] | None = None, as_of: datetime | None = None, clock: Clock = system_clock,
) -> Review:  # fmt: skip
    """A review with its agenda generated and frozen at `data_as_of`; earlier items get their after value."""
    _check_period(period_start, period_end)
    _check_users(session, attendees or [])
    data_as_of = as_of or clock()
    previous = previous_period(session, period_start, period_end)
    review = Review(
        title=title, period_start=period_start, period_end=period_end, data_as_of=data_as_of,
        attendees=list(attendees or []), created_by_id=actor.user_id, status="planned",
    )  # fmt: skip
    session.add(review)
    session.flush()
    measured = measure_items(session=session, url=url, review=review)
    agenda = build_agenda(
        url, session=session, period=(period_start, period_end), previous=previous, as_of=data_as_of
    )
    agenda["followed_up"] = [item_dict(item) for item in measured]
    agenda["frozen"] = pack.sections(
        url, session=session, period=(period_start, period_end), as_of=data_as_of
    )
    review.agenda = agenda
    session.flush()
    audit_service.record(session, actor=actor, action="review.created", entity_type="review",
                         entity_id=review.id, after=audit_service.snapshot(review), clock=clock)  # fmt: skip
    return review


def update_review(
    *, session: Session, actor: Actor, review_id: int, values: dict[str, Any], clock: Clock = system_clock
) -> Review:
    """Record minutes, attendees, status or title (the agenda and its numbers stay frozen)."""
    review = get_review(session, review_id)
    if "status" in values and values["status"] not in REVIEW_STATUSES:
        raise ValidationFailed(
            translate("reviews.error.status", status=values["status"]), detail={"field": "status"}
        )
    if "attendees" in values:
        _check_users(session, list(values["attendees"] or []))
    before = audit_service.snapshot(review)
    for key in ("title", "minutes", "status", "attendees"):
        if key in values:
            setattr(review, key, values[key])
    session.flush()
    audit_service.record(session, actor=actor, action="review.updated", entity_type="review", entity_id=review.id,
                         before=before, after=audit_service.snapshot(review), clock=clock)  # fmt: skip
    return review


def add_action_item(
    *, session: Session, url: str, actor: Actor, review_id: int, title: str, owner_id: int | None,
    due_date: date, metric: str, segment: dict[str, str] | None = None, from_stage: str | None = None,
    to_stage: str | None = None, clock: Clock = system_clock,
) -> ActionItem:  # fmt: skip
    """An action item whose baseline is its metric over the review's period, as the review saw it."""
    review = get_review(session, review_id)
    api.declaration(metric)
    if owner_id is not None:
        _check_users(session, [owner_id])
    item = ActionItem(
        review_id=review.id, title=title, owner_id=owner_id, due_date=due_date, status="open", metric=metric,
        segment=dict(segment or {}), from_stage=from_stage, to_stage=to_stage, baseline_as_of=review.data_as_of,
    )  # fmt: skip
    item.baseline_value = metric_value(
        url, item, date_from=review.period_start, date_to=review.period_end, as_of=review.data_as_of
    )
    session.add(item)
    session.flush()
    audit_service.record(session, actor=actor, action="review.action_item.created", entity_type="action_item",
                         entity_id=item.id, after=audit_service.snapshot(item), clock=clock)  # fmt: skip
    return item


def update_action_item(
    *, session: Session, actor: Actor, item_id: int, values: dict[str, Any], clock: Clock = system_clock
) -> ActionItem:
    """Change an item's status, owner, due date or title (its metric and baseline stay)."""
    item = session.get(ActionItem, item_id)
    if item is None:
        raise NotFound(translate("reviews.error.item_not_found", id=item_id))
    if "status" in values and values["status"] not in ACTION_STATUSES:
        raise ValidationFailed(
            translate("reviews.error.status", status=values["status"]), detail={"field": "status"}
        )
    if values.get("owner_id") is not None:
        _check_users(session, [values["owner_id"]])
    before = audit_service.snapshot(item)
    for key in ("title", "status", "owner_id", "due_date"):
        if key in values:
            setattr(item, key, values[key])
    session.flush()
    audit_service.record(session, actor=actor, action="review.action_item.updated", entity_type="action_item",
                         entity_id=item.id, before=before, after=audit_service.snapshot(item), clock=clock)  # fmt: skip
    return item


def measure_items(*, session: Session, url: str, review: Review) -> list[ActionItem]:
    """Every item from earlier reviews (not dropped) gets its metric over this review's period: the after."""
    items = list(
        session.scalars(
            select(ActionItem)
            .join(Review, Review.id == ActionItem.review_id)
            .where(Review.period_end < review.period_start, ActionItem.status != "dropped")
            .order_by(ActionItem.id)
        )
    )
    for item in items:
        item.current_value = metric_value(
            url, item, date_from=review.period_start, date_to=review.period_end, as_of=review.data_as_of
        )
        item.current_as_of = review.data_as_of
        item.current_review_id = review.id
    session.flush()
    return items


def review_items(session: Session, review_id: int) -> list[ActionItem]:
    """The action items raised in one review."""
    return list(
        session.scalars(select(ActionItem).where(ActionItem.review_id == review_id).order_by(ActionItem.id))
    )
