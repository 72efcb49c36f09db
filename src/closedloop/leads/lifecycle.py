"""The lifecycle rules of SPEC section 2, as plain functions over plain data.

`check_transition` decides whether a change is allowed; `implied_stages` names the main-line
stages a change skips; `reaches` derives `reached_at(s)` from events with the waterfall
convention. The analytics layer computes the same in SQL and is tested against these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from closedloop.errors import InvalidTransition, ValidationFailed
from closedloop.i18n import translate


class Stage(StrEnum):
    LEAD = "lead"
    MQL = "mql"
    SAL = "sal"
    SQL = "sql"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    RECYCLED = "recycled"
    DISQUALIFIED = "disqualified"
    LOST = "lost"


MAIN_LINE: tuple[Stage, ...] = (
    Stage.LEAD,
    Stage.MQL,
    Stage.SAL,
    Stage.SQL,
    Stage.OPPORTUNITY,
    Stage.CUSTOMER,
)
MAIN_INDEX = {stage: i for i, stage in enumerate(MAIN_LINE)}
OFF_LINE: tuple[Stage, ...] = (Stage.RECYCLED, Stage.DISQUALIFIED, Stage.LOST)
# Changes into these stages need a reason code.
NEEDS_REASON = frozenset({Stage.RECYCLED, Stage.DISQUALIFIED, Stage.LOST})
SKIPPING_SOURCE_TYPES = frozenset({"outbound", "partner_referral"})

# The table of SPEC section 2, for changes made by people and rules.
ALLOWED: dict[Stage, frozenset[Stage]] = {
    Stage.LEAD: frozenset(
        {Stage.MQL, Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.RECYCLED, Stage.DISQUALIFIED}
    ),
    Stage.MQL: frozenset({Stage.SAL, Stage.SQL, Stage.RECYCLED, Stage.DISQUALIFIED}),
    Stage.SAL: frozenset({Stage.SQL, Stage.RECYCLED, Stage.DISQUALIFIED}),
    Stage.SQL: frozenset({Stage.OPPORTUNITY, Stage.RECYCLED, Stage.DISQUALIFIED}),
    Stage.OPPORTUNITY: frozenset({Stage.CUSTOMER, Stage.LOST}),
    Stage.LOST: frozenset({Stage.MQL, Stage.SQL, Stage.DISQUALIFIED}),
    Stage.RECYCLED: frozenset({Stage.MQL, Stage.SQL, Stage.DISQUALIFIED}),
    Stage.DISQUALIFIED: frozenset({Stage.LEAD}),
    Stage.CUSTOMER: frozenset(),
}
# From lead, only outbound and partner leads may skip straight to these.
SKIPS_FROM_LEAD = frozenset({Stage.SAL, Stage.SQL, Stage.OPPORTUNITY})


def check_transition(
    from_stage: Stage | str,
    to_stage: Stage | str,
    *,
    source_type: str,
    reason: str | None = None,
    actor_role: str | None = None,
    history: bool = False,
    lang: str = "en",
) -> None:
    """Raise InvalidTransition (or ValidationFailed for a missing reason) unless the change is allowed.

    `history` marks changes brought by imports and won deals: they may move a lead forward
    along the main line from any main-line stage or from recycled/lost.
    """
    source, target = _stage(from_stage), _stage(to_stage)
    if history and _history_allows(source, target):
        return
    refused = InvalidTransition(
        translate(
            "error.invalid_transition",
            lang,
            from_stage=translate(f"stage.{source}", lang),
            to_stage=translate(f"stage.{target}", lang),
        ),
        detail={"from_stage": source.value, "to_stage": target.value},
    )
    if target not in ALLOWED[source]:
        raise refused
    if source is Stage.LEAD and target in SKIPS_FROM_LEAD and source_type not in SKIPPING_SOURCE_TYPES:
        raise refused
    if source is Stage.DISQUALIFIED and actor_role not in ("manager", "admin"):
        raise InvalidTransition(
            "Only a manager may bring a disqualified lead back (a mistake corrected), with a reason",
            detail={"from_stage": source.value, "to_stage": target.value},
        )
    if (target in NEEDS_REASON or source is Stage.DISQUALIFIED) and not reason:
        raise ValidationFailed(
            translate("error.reason_required", lang, to_stage=translate(f"stage.{target}", lang)),
            detail={"field": "reason"},
        )


def _history_allows(source: Stage, target: Stage) -> bool:
    if target not in MAIN_INDEX:
        return False
    if source in (Stage.RECYCLED, Stage.LOST):
        return True
    return source in MAIN_INDEX and MAIN_INDEX[target] > MAIN_INDEX[source]


def implied_stages(highest_reached: Stage | str | None, to_stage: Stage | str) -> list[Stage]:
    """Main-line stages strictly between the highest stage the lead reached and `to_stage`."""
    target = _stage(to_stage)
    if target not in MAIN_INDEX:
        return []
    start = -1 if highest_reached is None else MAIN_INDEX[_stage(highest_reached)]
    return list(MAIN_LINE[start + 1 : MAIN_INDEX[target]])


@dataclass(frozen=True, slots=True)
class EventView:
    """What `reaches` needs of a lifecycle event."""

    to_stage: str
    occurred_at: datetime
    implied: bool = False
    voided: bool = False


@dataclass(frozen=True, slots=True)
class Reach:
    """When a lead first reached a stage, and whether that reach was a real event."""

    at: datetime
    implied: bool


def reaches(events: Iterable[EventView]) -> dict[Stage, Reach]:
    """`reached_at(s)` for each main-line stage: the earliest non-voided event at s or any later stage.

    A reach is real only when the earliest event at exactly s is a non-implied event at that instant.
    """
    live = [e for e in events if not e.voided and e.to_stage in MAIN_INDEX]
    result: dict[Stage, Reach] = {}
    for stage in MAIN_LINE:
        index = MAIN_INDEX[stage]
        later = [e for e in live if MAIN_INDEX[Stage(e.to_stage)] >= index]
        if not later:
            continue
        at = min(e.occurred_at for e in later)
        real = any(e.to_stage == stage and not e.implied and e.occurred_at == at for e in live)
        result[stage] = Reach(at=at, implied=not real)
    return result


def highest_main_stage(stages: Iterable[str]) -> Stage | None:
    """The furthest main-line stage among `stages` (None if none is on the main line)."""
    on_line = [Stage(s) for s in stages if s in MAIN_INDEX]
    return max(on_line, key=MAIN_INDEX.__getitem__) if on_line else None


def _stage(value: Stage | str) -> Stage:
    try:
        return Stage(value)
    except ValueError as exc:
        raise ValidationFailed(f"unknown lifecycle stage {value!r}", detail={"field": "stage"}) from exc
