"""The pipeline's stages: renamed, added and reordered by an admin, each change audited.

Stage keys never change (deals and events refer to them); win probabilities are a shared
definition with two-party approval (SPEC section 4, `policies/`), so a new stage counts at 0%
until a stage-probability proposal gives it its own.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.deals.models import PipelineStage
from closedloop.errors import Conflict, NotFound, ValidationFailed
from closedloop.i18n import translate
from closedloop.users.actor import Actor


def rename_stage(
    *, session: Session, actor: Actor, key: str, names: dict[str, str], clock: Clock = system_clock
) -> PipelineStage:
    """Set a stage's display names (en, zh-TW, zh-CN); its key, which data refers to, never changes. Audited."""
    stage = session.scalars(select(PipelineStage).where(PipelineStage.key == key)).first()
    if stage is None:
        raise NotFound(translate("deal.error.stage", stage=key))
    cleaned = _clean_names(key, names)
    before = {"names": dict(stage.names or {})}
    stage.names = cleaned
    session.flush()
    audit_service.record(session, actor=actor, action="pipeline_stage.renamed", entity_type="pipeline_stage",
                         entity_id=stage.id, before=before, after={"key": key, "names": cleaned}, clock=clock)  # fmt: skip
    return stage


STAGE_KEY = re.compile(r"^[a-z][a-z0-9_]{1,63}\Z")
OPEN_CATEGORIES = ("pipeline", "best_case", "commit")


def _clean_names(key: str, names: dict[str, str]) -> dict[str, str]:
    from closedloop.i18n import LANGUAGES

    cleaned = {lang: (names.get(lang) or "").strip() for lang in LANGUAGES}
    missing = [lang for lang, text in cleaned.items() if not text or len(text) > 100]
    if missing:
        raise ValidationFailed(
            translate("deal.error.stage_name", stage=key), detail={"field": f"name-{missing[0]}"}
        )
    return cleaned


def add_stage(
    *,
    session: Session,
    actor: Actor,
    key: str,
    names: dict[str, str],
    forecast_category: str = "pipeline",
    after: str | None = None,
    clock: Clock = system_clock,
) -> PipelineStage:
    """Add an open stage after `after` (default: after the last open stage). Audited.

    Its win probability is a shared definition (SPEC section 4): the stage starts at 0% in the
    stage table, and a stage-probability proposal approved by both sides gives it its own.
    """
    key = key.strip()
    if not STAGE_KEY.match(key):
        raise ValidationFailed(translate("deal.error.stage_key", value=key), detail={"field": "key"})
    if session.scalar(select(PipelineStage.id).where(PipelineStage.key == key)) is not None:
        raise Conflict(translate("deal.error.stage_exists", stage=key), detail={"field": "key"})
    if forecast_category not in OPEN_CATEGORIES:
        raise ValidationFailed(
            translate("deal.error.forecast_category", categories=", ".join(OPEN_CATEGORIES)),
            detail={"field": "forecast_category"},
        )
    cleaned = _clean_names(key, names)
    ordered = list(session.scalars(select(PipelineStage).order_by(PipelineStage.position, PipelineStage.id)))
    if after:
        anchor = next((s for s in ordered if s.key == after), None)
        if anchor is None or anchor.outcome != "open":
            raise ValidationFailed(translate("deal.error.stage", stage=after), detail={"field": "after"})
        index = ordered.index(anchor) + 1
    else:
        index = max((i + 1 for i, s in enumerate(ordered) if s.outcome == "open"), default=0)
    stage = PipelineStage(key=key, position=index, probability=0, forecast_category=forecast_category,
                          outcome="open", names=cleaned, is_active=True)  # fmt: skip
    ordered.insert(index, stage)
    session.add(stage)
    for position, each in enumerate(ordered):
        each.position = position
    session.flush()
    audit_service.record(session, actor=actor, action="pipeline_stage.added", entity_type="pipeline_stage",
                         entity_id=stage.id, after={"key": key, "names": cleaned, "position": index,
                                                    "forecast_category": forecast_category,
                                                    "order": [s.key for s in ordered]}, clock=clock)  # fmt: skip
    return stage


def reorder_stages(
    *, session: Session, actor: Actor, keys: list[str], clock: Clock = system_clock
) -> list[PipelineStage]:
    """Put the stages in the order of `keys` (every stage once, open stages before won and lost). Audited."""
    ordered = list(session.scalars(select(PipelineStage).order_by(PipelineStage.position, PipelineStage.id)))
    by_key = {s.key: s for s in ordered}
    wanted = [by_key.get(k) for k in keys]
    closed_seen = False
    valid = len(keys) == len(set(keys)) == len(by_key) and all(s is not None for s in wanted)
    for stage in wanted if valid else []:
        assert stage is not None
        if stage.outcome != "open":
            closed_seen = True
        elif closed_seen:
            valid = False
    if not valid:
        raise ValidationFailed(translate("deal.error.stage_order"), detail={"field": "order"})
    before = [s.key for s in ordered]
    if before == keys:
        return ordered
    for position, stage in enumerate(wanted):
        assert stage is not None
        stage.position = position
    session.flush()
    audit_service.record(session, actor=actor, action="pipeline_stage.reordered", entity_type="pipeline_stage",
                         entity_id=None, before={"order": before}, after={"order": keys}, clock=clock)  # fmt: skip
    return [s for s in wanted if s is not None]
