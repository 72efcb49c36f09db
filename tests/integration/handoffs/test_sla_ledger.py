"""The two-sided SLA ledger on a small hand-built month, and routing against the store."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from tests.integration.handoffs.handoff_world import MovableClock, World

from closedloop.handoffs import service as handoffs
from closedloop.handoffs.ledger import prorated_target, sla_ledger
from closedloop.handoffs.models import Activity, Handoff
from closedloop.leads.models import LifecycleEvent
from closedloop.policies import service as policies
from closedloop.scoring import service as scoring

TPE = ZoneInfo("Asia/Taipei")


def tpe(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=TPE)


@pytest.fixture
def world(store):
    session = store.session()
    yield World(session)
    session.close()


def event(s, lead, to_stage, at, *, implied=False, voids=None):
    e = LifecycleEvent(
        lead_id=lead.id,
        from_stage="lead",
        to_stage=to_stage,
        occurred_at=at,
        recorded_at=at,
        implied=implied,
        voids_id=voids,
    )
    s.add(e)
    s.flush()
    return e


def handoff(s, lead, team, assigned, *, response=None, accepted=None, rejected=None, reason=None):
    h = Handoff(
        lead_id=lead.id,
        team_id=team.id,
        assigned_at=assigned,
        recorded_at=assigned,
        first_response_at=response,
        sla_due_at=assigned.replace(hour=assigned.hour + 4),
        accept_due_at=assigned.replace(day=assigned.day + 1),
        attempts_due_at=assigned.replace(day=assigned.day + 5),
        attempts_required=2,
        accepted_at=accepted,
        rejected_at=rejected,
        rejection_reason=reason,
        status="rejected" if rejected else ("accepted" if accepted else "open"),
    )
    s.add(h)
    s.flush()
    return h


def call(s, lead, at):
    s.add(Activity(lead_id=lead.id, type="call", occurred_at=at, recorded_at=at))


def test_ledger_on_a_hand_built_month(world):
    s = world.session
    boss = world.user("boss@x.tw", role="manager")
    world.user("chief@x.tw", role="manager")  # proposes; boss approves (never one's own proposal)
    north, south = world.team("north"), world.team("south")
    clock = MovableClock(tpe(10, 1))
    version = policies.propose(
        session=s,
        kind="sla",
        effective_from=clock(),
        reason="Q4 commitments",
        actor=world.actor("chief@x.tw"),
        payload={
            "marketing": {"mql_volume_per_month": 4, "mql_to_sql_rate": 0.5},
            "sales": {
                "first_response_hours": 4,
                "response_compliance": 0.9,
                "attempts": 2,
                "attempts_within_days": 5,
                "accept_within_hours": 8,
            },
        },
        clock=clock,
    )
    policies.approve(session=s, version_id=version.id, actor=world.actor("boss@x.tw"), clock=clock)
    assert boss.id
    l1, l2, l3 = (world.lead(team_id=north.id) for _ in range(3))
    l4 = world.lead(team_id=north.id, source_type="outbound")
    l5, l6, l7 = (world.lead(team_id=north.id) for _ in range(3))
    l8 = world.lead(team_id=south.id)
    # Marketing: L1 MQL then SQL; L2 MQL (rejected by sales); L3 an implied MQL (not counted);
    # L4 outbound (not counted); L5 MQL on 31 Oct 23:00 Taipei (before the period); L6 voided;
    # L7 MQL twice (re-entry: counted twice in volume, once in the rate) and then an opportunity;
    # L8 belongs to the south team.
    event(s, l1, "mql", tpe(11, 3, 9))
    event(s, l1, "sql", tpe(11, 5, 9))
    event(s, l2, "mql", tpe(11, 10, 9))
    event(s, l3, "mql", tpe(11, 12, 9), implied=True)
    event(s, l3, "sal", tpe(11, 12, 9))
    event(s, l4, "mql", tpe(11, 15, 9))
    event(s, l5, "mql", datetime(2026, 10, 31, 23, tzinfo=TPE))
    wrong = event(s, l6, "mql", tpe(11, 16, 9))
    event(s, l6, "lead", tpe(11, 16, 10), voids=wrong.id)
    event(s, l7, "mql", tpe(11, 20, 9))
    event(s, l7, "recycled", tpe(11, 24, 9))
    event(s, l7, "mql", tpe(11, 25, 9))
    event(s, l7, "opportunity", tpe(11, 28, 9))
    event(s, l8, "mql", tpe(11, 6, 9))
    # Sales (north): H1 answered and accepted in time with two calls; H2 rejected before its response
    # deadline (nothing to answer); H3 answered an hour late, accepted in time, one call only;
    # H4 never answered nor decided. H5 is south's.
    h1 = handoff(s, l1, north, tpe(11, 3, 10), response=tpe(11, 3, 11), accepted=tpe(11, 3, 12))
    call(s, l1, tpe(11, 3, 11))
    call(s, l1, tpe(11, 4, 10))
    h2 = handoff(s, l2, north, tpe(11, 10, 10), rejected=tpe(11, 10, 11), reason="no_budget")
    h3 = handoff(s, l7, north, tpe(11, 20, 10), response=tpe(11, 20, 15), accepted=tpe(11, 21, 9))
    call(s, l7, tpe(11, 20, 15))
    h4 = handoff(s, l7, north, tpe(11, 25, 10))
    handoff(s, l8, south, tpe(11, 6, 10))
    s.commit()

    ledger = sla_ledger(
        session=s, period_start=tpe(11, 1), period_end=tpe(12, 1), as_of=tpe(12, 10), team_id=north.id
    )
    lines = {line.name: line for line in ledger.lines}
    assert ledger.sla_policy_version_id == version.id
    volume = lines["mql_volume"]
    assert (volume.actual, volume.target, volume.met, volume.breaches) == (4, 4, True, [])
    rate = lines["mql_to_sql_rate"]
    assert (rate.numerator, rate.denominator, rate.target, rate.met) == (2, 3, 0.5, True)
    assert rate.actual == pytest.approx(2 / 3)
    assert [(b["handoff_id"], b["reason"]) for b in rate.breaches] == [(h2.id, "no_budget")]
    response = lines["first_response"]
    assert (response.numerator, response.denominator, response.met) == (1, 3, False)
    assert [b["handoff_id"] for b in response.breaches] == [h3.id, h4.id]
    tries = lines["attempts"]
    assert (tries.numerator, tries.denominator) == (1, 3)
    assert [(b["handoff_id"], b["attempts"]) for b in tries.breaches] == [(h3.id, 1), (h4.id, 0)]
    decision = lines["acceptance"]
    assert (decision.numerator, decision.denominator) == (3, 4)
    assert [b["handoff_id"] for b in decision.breaches] == [h4.id]
    assert h1.id not in [b["handoff_id"] for line in ledger.lines for b in line.breaches]

    # All teams: L8 adds an MQL; H5 (never answered) adds a response, an attempt and a decision breach.
    everyone = {
        line.name: line
        for line in sla_ledger(
            session=s, period_start=tpe(11, 1), period_end=tpe(12, 1), as_of=tpe(12, 10)
        ).lines
    }
    assert everyone["mql_volume"].actual == 5
    assert (everyone["first_response"].numerator, everyone["first_response"].denominator) == (1, 4)
    # Half a month later: November 16-30 is 15/30 of 4, December 1-15 is 15/31 of 4.
    assert prorated_target(4, tpe(11, 16), tpe(12, 16), "Asia/Taipei") == pytest.approx(2 + 60 / 31)
    early = sla_ledger(
        session=s, period_start=tpe(11, 1), period_end=tpe(12, 1), as_of=tpe(11, 20, 12), team_id=north.id
    )
    # As of 20 Nov 12:00 only L1 and L2 had become MQLs (L7's first MQL was at 09:00 that day: 3).
    assert {line.name: line.actual for line in early.lines}["mql_volume"] == 3


def test_routing_in_the_store_account_owner_round_robin_and_caps(world):
    s = world.session
    clock = MovableClock(datetime(2026, 11, 2, 1, tzinfo=UTC))
    boss = world.user("boss@x.tw", role="manager")
    north, south = world.team("north"), world.team("south")
    amy = world.user("amy@x.tw", team=north, capacity=1)
    ben = world.user("ben@x.tw", team=north, capacity=1)
    sue = world.user("sue@x.tw", team=south)
    world.user("chief@x.tw", role="manager")  # proposes; boss approves (never one's own proposal)
    version = policies.propose(
        session=s,
        kind="routing",
        effective_from=clock(),
        reason="territories",
        actor=world.actor("chief@x.tw"),
        payload={"rules": [{"match": {"region": "南區"}, "team": "south"}], "default_team": "north"},
        clock=clock,
    )
    policies.approve(session=s, version_id=version.id, actor=world.actor("boss@x.tw"), clock=clock)
    assert boss.id

    def mql(**values):
        lead = world.lead(**values)
        world.touch(lead, "form_submit", clock(), landing_page="/demo")
        result = scoring.score_lead(session=s, lead_id=lead.id, clock=clock).handoff
        clock.advance(minutes=1)
        return result

    assert mql(region="南區").owner_id == sue.id
    first, second, third = mql(), mql(), mql()
    # Round-robin: amy (never assigned, lower id), then ben; both are now at their cap of one.
    assert (first.owner_id, second.owner_id) == (amy.id, ben.id)
    assert (third.owner_id, third.team_id) == (None, north.id)
    # Amy decides on hers: she has room again.
    handoffs.accept(session=s, handoff_id=first.id, actor=world.actor("amy@x.tw"), clock=clock)
    assert mql().owner_id == amy.id
    # The account owner comes first, whatever the territory says.
    account = world.account("Acme", owner=sue)
    assert mql(region="北區", account_id=account.id).owner_id == sue.id
    s.commit()


def test_rejections_flow_back_by_channel_campaign_and_reason(world):
    from closedloop.handoffs.ledger import rejections
    from closedloop.marketing.models import Campaign

    s = world.session
    north = world.team("north")
    spring = Campaign(name="Spring Expo", normalised_name="spring expo", channel="Paid Search")
    s.add(spring)
    s.flush()
    paid = [world.lead(first_channel="Paid Search", first_campaign_id=spring.id) for _ in range(2)]
    mail = world.lead(first_channel="Email")
    bare = world.lead()
    handoff(s, paid[0], north, tpe(11, 2, 10), rejected=tpe(11, 2, 11), reason="spam")
    handoff(s, paid[1], north, tpe(11, 3, 10), accepted=tpe(11, 3, 11))
    handoff(s, mail, north, tpe(11, 4, 10), rejected=tpe(11, 4, 11), reason="no_budget")
    handoff(s, bare, north, tpe(11, 5, 10))
    handoff(s, mail, north, tpe(12, 2, 10), rejected=tpe(12, 2, 11), reason="spam")  # outside the period
    s.commit()
    rows = rejections(session=s, period_start=tpe(11, 1), period_end=tpe(12, 1), by=("channel", "campaign"))
    assert [
        (r["group"], r["handed_off"], r["rejected"], r["reasons"], r["rejection_rate"]) for r in rows
    ] == [
        ({"channel": "Paid Search", "campaign": "Spring Expo"}, 2, 1, {"spam": 1}, 0.5),
        ({"channel": "(none)", "campaign": "(none)"}, 1, 0, {}, 0.0),
        ({"channel": "Email", "campaign": "(none)"}, 1, 1, {"no_budget": 1}, 1.0),
    ]
    overall = rejections(session=s, period_start=tpe(11, 1), period_end=tpe(12, 1))
    assert [(r["handed_off"], r["rejected"], r["reasons"]) for r in overall] == [
        (4, 2, {"spam": 1, "no_budget": 1})
    ]
