"""Versioned shared definitions: both sides approve, effective_from holds, never applied to the past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.integration.handoffs.handoff_world import MovableClock, World

from closedloop.errors import Forbidden, InvalidTransition, ValidationFailed
from closedloop.policies import service as policies
from closedloop.policies.models import PolicyApproval
from closedloop.scoring import service as scoring

T0 = datetime(2026, 11, 2, 1, tzinfo=UTC)  # Monday 09:00 in Taipei
TPE = ZoneInfo("Asia/Taipei")


@pytest.fixture
def world(store):
    session = store.session()
    w = World(session)
    w.north = w.team("north")
    w.user("mkt@x.tw", role="marketing")
    w.user("sal@x.tw", role="sales")
    w.user("boss@x.tw", role="manager")
    w.user("chief@x.tw", role="manager")  # a second manager: nobody approves their own proposal
    w.user("exec@x.tw", role="viewer")
    session.commit()
    yield w
    session.close()


def sla(hours: float) -> dict:
    return {"sales": {"first_response_hours": hours}}


def test_not_in_force_until_both_sides_approve_and_never_before_effective_from(world):
    s, clock = world.session, MovableClock(T0)
    version = policies.propose(
        session=s,
        kind="sla",
        payload=sla(2),
        effective_from=T0 + timedelta(days=1),
        reason="tighter",
        actor=world.actor("chief@x.tw"),
        clock=clock,
    )
    assert version.version == 1 and version.status == "proposed"
    assert policies.policy_in_force(s, "sla", T0 + timedelta(days=5)) is None
    clock.advance(hours=1)
    policies.approve(session=s, version_id=version.id, actor=world.actor("mkt@x.tw"), clock=clock)
    # One side is not enough.
    assert policies.policy_in_force(s, "sla", T0 + timedelta(days=5)) is None
    with pytest.raises(InvalidTransition):
        policies.approve(session=s, version_id=version.id, actor=world.actor("mkt@x.tw"), clock=clock)
    clock.advance(hours=1)
    policies.approve(session=s, version_id=version.id, actor=world.actor("sal@x.tw"), clock=clock)
    s.commit()
    assert version.status == "approved"
    assert version.effective_from == T0 + timedelta(days=1)
    assert policies.policy_in_force(s, "sla", T0 + timedelta(hours=23, minutes=59)) is None
    assert policies.policy_in_force(s, "sla", T0 + timedelta(days=1)).id == version.id
    sides = sorted(s.scalars(select(PolicyApproval.side)))
    assert sides == ["marketing", "sales"]


def test_late_approval_takes_effect_at_approval_never_in_the_past(world):
    s, clock = world.session, MovableClock(T0)
    boss = world.actor("boss@x.tw")
    first = policies.propose(
        session=s, kind="sla", payload=sla(4), effective_from=T0, reason="v1", actor=boss, clock=clock
    )
    policies.approve(
        session=s, version_id=first.id, actor=world.actor("chief@x.tw"), clock=clock
    )  # both sides
    second = policies.propose(
        session=s,
        kind="sla",
        payload=sla(1),
        effective_from=T0 + timedelta(hours=1),
        reason="v2",
        actor=boss,
        clock=clock,
    )
    policies.approve(session=s, version_id=second.id, actor=world.actor("mkt@x.tw"), clock=clock)
    clock.set(T0 + timedelta(hours=5))
    policies.approve(session=s, version_id=second.id, actor=world.actor("sal@x.tw"), clock=clock)
    s.commit()
    # Proposed for 10:00 local but approved at 14:00: it applies from 14:00 only.
    assert second.effective_from == T0 + timedelta(hours=5)
    assert policies.policy_in_force(s, "sla", T0 + timedelta(hours=2)).id == first.id
    assert policies.policy_in_force(s, "sla", T0 + timedelta(hours=5)).id == second.id


def test_hand_offs_keep_the_policy_of_their_moment(world):
    s, clock = world.session, MovableClock(T0)
    boss = world.actor("boss@x.tw")
    routing = policies.propose(
        session=s,
        kind="routing",
        payload={"default_team": "north"},
        effective_from=T0,
        reason="all north",
        actor=boss,
        clock=clock,
    )
    policies.approve(session=s, version_id=routing.id, actor=world.actor("chief@x.tw"), clock=clock)
    world.user("rep@x.tw", team=world.north)
    old = policies.propose(
        session=s, kind="sla", payload=sla(4), effective_from=T0, reason="v1", actor=boss, clock=clock
    )
    policies.approve(session=s, version_id=old.id, actor=world.actor("chief@x.tw"), clock=clock)
    new = policies.propose(
        session=s,
        kind="sla",
        payload=sla(1),
        effective_from=T0 + timedelta(days=1),
        reason="v2",
        actor=boss,
        clock=clock,
    )
    policies.approve(session=s, version_id=new.id, actor=world.actor("chief@x.tw"), clock=clock)
    lead = world.lead()
    world.touch(lead, "form_submit", T0, landing_page="/demo")
    before = scoring.score_lead(session=s, lead_id=lead.id, clock=clock).handoff
    clock.set(T0 + timedelta(days=1))
    later_lead = world.lead()
    world.touch(later_lead, "form_submit", clock(), landing_page="/demo")
    after = scoring.score_lead(session=s, lead_id=later_lead.id, clock=clock).handoff
    s.commit()
    # Monday 09:00 + 4 h = 13:00; Tuesday 09:00 + 1 h = 10:00 (Taipei).
    assert (before.sla_policy_version_id, before.sla_due_at) == (
        old.id,
        datetime(2026, 11, 2, 13, tzinfo=TPE),
    )
    assert (after.sla_policy_version_id, after.sla_due_at) == (new.id, datetime(2026, 11, 3, 10, tzinfo=TPE))
    assert before.routing_policy_version_id == routing.id


def test_refusals(world):
    s, clock = world.session, MovableClock(T0)
    with pytest.raises(ValidationFailed):
        policies.propose(
            session=s,
            kind="sla",
            payload=sla(4),
            effective_from=T0 - timedelta(days=1),
            reason="backdated",
            actor=world.actor("mkt@x.tw"),
            clock=clock,
        )
    with pytest.raises(ValidationFailed):
        policies.propose(
            session=s,
            kind="sla",
            payload=sla(-1),
            effective_from=T0,
            reason="bad",
            actor=world.actor("mkt@x.tw"),
            clock=clock,
        )
    with pytest.raises(ValidationFailed):
        policies.propose(
            session=s,
            kind="horoscope",
            payload={},
            effective_from=T0,
            reason="?",
            actor=world.actor("mkt@x.tw"),
            clock=clock,
        )
    with pytest.raises(ValidationFailed):
        policies.propose(
            session=s,
            kind="scoring",
            payload={"bands": {"A": 1, "B": 9}},
            effective_from=T0,
            reason="bad bands",
            actor=world.actor("mkt@x.tw"),
            clock=clock,
        )
    version = policies.propose(
        session=s,
        kind="sla",
        payload=sla(4),
        effective_from=T0,
        reason="ok",
        actor=world.actor("mkt@x.tw"),
        clock=clock,
    )
    with pytest.raises(Forbidden):
        policies.approve(session=s, version_id=version.id, actor=world.actor("exec@x.tw"), clock=clock)
    policies.reject(
        session=s, version_id=version.id, actor=world.actor("sal@x.tw"), reason="too slow", clock=clock
    )
    with pytest.raises(InvalidTransition):
        policies.approve(session=s, version_id=version.id, actor=world.actor("boss@x.tw"), clock=clock)
    assert policies.policy_in_force(s, "sla", T0 + timedelta(days=1)) is None
