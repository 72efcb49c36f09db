"""The transition table of SPEC section 2, checked for every pair of stages."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedloop.errors import InvalidTransition, ValidationFailed
from closedloop.leads.lifecycle import (
    MAIN_LINE,
    EventView,
    Stage,
    check_transition,
    highest_main_stage,
    implied_stages,
    reaches,
)

# The table as written in SPEC section 2, typed out independently of the code.
SPEC_TABLE = {
    "lead": {"mql", "sal", "sql", "opportunity", "recycled", "disqualified"},
    "mql": {"sal", "sql", "recycled", "disqualified"},
    "sal": {"sql", "recycled", "disqualified"},
    "sql": {"opportunity", "recycled", "disqualified"},
    "opportunity": {"customer", "lost"},
    "lost": {"mql", "sql", "disqualified"},
    "recycled": {"mql", "sql", "disqualified"},
    "disqualified": {"lead"},
    "customer": set(),
}
ALL = list(SPEC_TABLE)
NEEDS_REASON = {"recycled", "disqualified", "lost"}


@pytest.mark.parametrize(("source", "target"), list(itertools.product(ALL, ALL)))
def test_every_pair_follows_the_spec_table(source: str, target: str) -> None:
    allowed = target in SPEC_TABLE[source]
    # outbound leads may skip, and managers may correct a disqualification, with a reason
    kwargs = {"source_type": "outbound", "reason": "other", "actor_role": "manager"}
    if allowed:
        check_transition(source, target, **kwargs)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(source, target, **kwargs)


@pytest.mark.parametrize("target", ["sal", "sql", "opportunity"])
def test_inbound_leads_may_not_skip_from_lead(target: str) -> None:
    with pytest.raises(InvalidTransition):
        check_transition("lead", target, source_type="inbound")
    check_transition("lead", target, source_type="partner_referral")


@pytest.mark.parametrize("target", sorted(NEEDS_REASON))
def test_off_line_moves_need_a_reason(target: str) -> None:
    source = "opportunity" if target == "lost" else "mql"
    with pytest.raises(ValidationFailed):
        check_transition(source, target, source_type="inbound")
    check_transition(source, target, source_type="inbound", reason="no_budget")


def test_only_a_manager_brings_back_a_disqualified_lead_with_a_reason() -> None:
    with pytest.raises(InvalidTransition):
        check_transition("disqualified", "lead", source_type="inbound", actor_role="sales", reason="x")
    with pytest.raises(ValidationFailed):
        check_transition("disqualified", "lead", source_type="inbound", actor_role="manager")
    check_transition("disqualified", "lead", source_type="inbound", actor_role="manager", reason="mistake")


def test_customer_is_final_for_people_and_history() -> None:
    for target in ALL:
        with pytest.raises(InvalidTransition):
            check_transition("customer", target, source_type="outbound", reason="x", actor_role="admin")
        with pytest.raises(InvalidTransition):
            check_transition("customer", target, source_type="outbound", history=True)


def test_history_moves_forward_from_main_line_recycled_and_lost() -> None:
    check_transition("mql", "customer", source_type="inbound", history=True)
    check_transition("recycled", "opportunity", source_type="inbound", history=True)
    check_transition("lost", "customer", source_type="inbound", history=True)
    with pytest.raises(InvalidTransition):
        check_transition("sql", "mql", source_type="inbound", history=True)  # never backwards
    with pytest.raises(InvalidTransition):
        check_transition("disqualified", "customer", source_type="inbound", history=True)


def test_unknown_stage_is_a_validation_error() -> None:
    with pytest.raises(ValidationFailed):
        check_transition("lead", "prospect", source_type="inbound")


def test_implied_stages_are_the_skipped_main_line_stages() -> None:
    assert implied_stages("lead", "sql") == [Stage.MQL, Stage.SAL]
    assert implied_stages(None, "mql") == [Stage.LEAD]
    assert implied_stages("sql", "opportunity") == []
    assert implied_stages("mql", "recycled") == []
    assert highest_main_stage(["lead", "recycled", "mql"]) is Stage.MQL
    assert highest_main_stage(["recycled"]) is None


T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def test_reaches_follow_the_waterfall_convention() -> None:
    events = [
        EventView("lead", T0),
        EventView("mql", T0 + timedelta(days=1), implied=True),
        EventView("sal", T0 + timedelta(days=1), implied=True),
        EventView("sql", T0 + timedelta(days=1)),
        EventView("opportunity", T0 + timedelta(days=5)),
    ]
    got = reaches(events)
    assert got[Stage.MQL].at == T0 + timedelta(days=1) and got[Stage.MQL].implied
    assert got[Stage.SQL].at == T0 + timedelta(days=1) and not got[Stage.SQL].implied
    assert Stage.CUSTOMER not in got
    # Without the implied events the skipped stages are still reached, at the same instant.
    bare = reaches([e for e in events if not e.implied])
    assert bare[Stage.SAL].at == T0 + timedelta(days=1) and bare[Stage.SAL].implied


def test_voided_events_count_for_nothing_and_reentry_keeps_the_first() -> None:
    events = [
        EventView("lead", T0),
        EventView("mql", T0 + timedelta(days=1), voided=True),
        EventView("recycled", T0 + timedelta(days=2)),
        EventView("mql", T0 + timedelta(days=3)),
        EventView("mql", T0 + timedelta(days=9)),
    ]
    got = reaches(events)
    assert got[Stage.MQL].at == T0 + timedelta(days=3) and not got[Stage.MQL].implied


@given(
    st.lists(
        st.tuples(st.sampled_from([s.value for s in MAIN_LINE]), st.integers(0, 100), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_reaches_are_monotone_along_the_main_line(raw: list[tuple[str, int, bool]]) -> None:
    got = reaches([EventView(stage, T0 + timedelta(hours=h), voided=v) for stage, h, v in raw])
    reached = [s for s in MAIN_LINE if s in got]
    # every reached stage's predecessors are reached, no later
    assert reached == list(MAIN_LINE[: len(reached)])
    for a, b in itertools.pairwise(reached):
        assert got[a].at <= got[b].at
