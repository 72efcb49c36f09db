"""JSON API for report packs by email: `/api/v1/subscriptions` (which pack, language and schedule, to whom)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response, status

from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.types import Id, IdPath, In
from closedloop.reports import subscriptions

# Relative paths: `reviews.router` includes this router under its /api/v1 prefix.
router = APIRouter(tags=["reports"])


class SubscriptionIn(In):
    report: Literal["weekly", "monthly"]
    schedule: Literal["weekly", "monthly"] | None = None  # default: the report's own rhythm
    language: Literal["en", "zh-TW", "zh-CN"]
    user_id: Id | None = None  # default: the caller (when no team is given)
    team_id: Id | None = None
    channel_id: Id | None = None  # the email channel; default: the first one


@router.get("/subscriptions")
def list_subscriptions(session: SessionDep, actor: CurrentActor) -> Any:
    """Report subscriptions the caller may see: leaders all, others their own and their team's."""
    return {"items": [subscriptions.as_dict(s) for s in subscriptions.visible(session, actor)]}


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED)
def create_subscription(body: SubscriptionIn, session: SessionDep, actor: CurrentActor) -> Any:
    """Receive a report pack as PDF by email after every week or month (a repeat returns the same one)."""
    user_id = body.user_id if body.user_id is not None or body.team_id is not None else actor.user_id
    sub = subscriptions.subscribe(
        session=session, actor=actor, report=body.report, schedule=body.schedule, language=body.language,
        user_id=user_id, team_id=body.team_id, channel_id=body.channel_id,
    )  # fmt: skip
    return subscriptions.as_dict(sub)


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(subscription_id: IdPath, session: SessionDep, actor: CurrentActor) -> Response:
    """Stop a subscription (packs already written are still delivered)."""
    subscriptions.unsubscribe(session=session, actor=actor, subscription_id=subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
