"""JSON API of predictive scoring: `/api/v1/predictive/...`.

Marketing, sales (their own leads only), managers and admins read scores and explanations;
only admins, managers and marketing train, apply or roll back. Viewers see none of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from closedloop.access.scope import lead_condition
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.errors import Forbidden, NotFound
from closedloop.i18n import translate
from closedloop.leads.models import Lead
from closedloop.predictive import registry, service
from closedloop.users.actor import Actor

router = APIRouter(prefix="/api/v1/predictive", tags=["predictive"])
READERS = frozenset({"admin", "manager", "marketing", "sales"})
TRAINERS = frozenset({"admin", "manager", "marketing"})
Lang = Literal["en", "zh-TW", "zh-CN"]


def _require(actor: Actor, roles: frozenset[str], action: str) -> None:
    if not (actor.is_system or actor.role in roles):
        raise Forbidden(translate("access.error.forbidden", resource="predictive", action=action))


class TrainIn(BaseModel):
    """What to train: the lead target (or the churn model) and the moment to train as of."""

    kind: Literal["lead", "churn"] = "lead"
    target: Literal["won", "sql"] = "won"
    as_of: datetime | None = None
    horizon_days: int = service.HORIZON_DAYS


class RollbackIn(BaseModel):
    """Which version to make active again (default: the one before the active one)."""

    kind: Literal["lead", "churn"] = "lead"
    target: Literal["won", "sql", "churn"] = "won"
    to_version: str | None = None


@router.get("/models")
def list_models(session: SessionDep, actor: CurrentActor, kind: str = "lead") -> list[dict[str, Any]]:
    """Every version of a kind, newest first, with its evaluation."""
    _require(actor, READERS, "read")
    return [registry.summary(row) for row in registry.versions(session=session, kind=kind)]


@router.post("/models/train")
def train_model(body: TrainIn, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """Train a new version and make it active; returns its evaluation."""
    _require(actor, TRAINERS, "train")
    if body.kind == "churn":
        row = service.train_churn_model(session=session, actor=actor, as_of=body.as_of)
    else:
        row = service.train_lead_model(session=session, actor=actor, target=body.target, as_of=body.as_of,
                                       horizon_days=body.horizon_days)  # fmt: skip
    return registry.summary(row)


@router.post("/models/rollback")
def rollback(body: RollbackIn, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """Make an earlier version active."""
    _require(actor, TRAINERS, "rollback")
    target = "churn" if body.kind == "churn" else body.target
    row = registry.rollback(session=session, kind=body.kind, target=target, actor=actor,
                            to_version=body.to_version)  # fmt: skip
    return registry.summary(row)


@router.post("/apply")
def apply(
    session: SessionDep, actor: CurrentActor, kind: str = "lead", target: str = "won"
) -> dict[str, Any]:
    """Rescore open leads (or active accounts) with the active version."""
    _require(actor, TRAINERS, "apply")
    if kind == "churn":
        return service.apply_churn_model(session=session)
    return service.apply_lead_model(session=session, target=target)


@router.get("/leads/{lead_id}/explanation")
def lead_explanation(
    lead_id: int, session: SessionDep, actor: CurrentActor, target: str = "won", lang: Lang = "en"
) -> dict[str, Any]:
    """A lead's predicted probability and the factors pushing it up and down."""
    _require(actor, READERS, "read")
    if session.scalar(select(Lead.id).where(Lead.id == lead_id, lead_condition(actor))) is None:
        raise NotFound(translate("predictive.error.no_lead", lead_id=lead_id))
    return service.explain_lead(session=session, lead_id=lead_id, target=target, lang=lang)


@router.get("/accounts/{account_id}/churn")
def account_churn(
    account_id: int, session: SessionDep, actor: CurrentActor, lang: Lang = "en"
) -> dict[str, Any]:
    """An active customer's monthly churn probability, explained."""
    _require(actor, TRAINERS | {"sales"}, "read")
    return service.explain_account(session=session, account_id=account_id, lang=lang)
