"""Numbers under the policy versions in force at each event (SPEC section 4), never re-derived.

A scoring version raising the MQL threshold from 50 to 60 takes effect on April 1: a lead scoring
54 in March became an MQL and still counts; the same engagement in April makes no MQL. A stage
probability version changing `proposal` from 0.5 to 0.8 takes effect on March 1: a deal that
entered proposal in February keeps 0.5, one entering it in March weighs 0.8, and a version
approved late (effective April 1, approved May 1) only applies from its approval.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from tests.integration.handoffs.handoff_world import MovableClock, World

from closedloop.analytics import api, engine
from closedloop.deals.models import Deal, DealStageEvent
from closedloop.policies import service as policies
from closedloop.scoring import rules
from closedloop.scoring import service as scoring

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-06-30"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def world(store):
    session = store.session()
    w = World(session)
    north = w.team("north", manager="boss@x.tw")
    w.user("amy@x.tw", team=north)
    w.user("mkt@x.tw", role="marketing")
    w.clock = MovableClock(at("2026-01-02 00:00"))
    payload = {"rules": [{"match": {"region": "北區"}, "team": "north"}], "default_team": "north"}
    w.version("routing", payload, at("2026-01-03 00:00"))
    session.commit()
    yield w
    session.close()
    engine.close(store.url)


def _version(
    self: World, kind: str, payload: dict, effective: datetime, approve_at: datetime | None = None
) -> None:
    version = policies.propose(session=self.session, kind=kind, payload=payload, effective_from=effective,
                               reason="test", actor=self.actor("mkt@x.tw"), clock=self.clock)  # fmt: skip
    if approve_at is not None:
        self.clock.set(approve_at)
    policies.approve(
        session=self.session, version_id=version.id, actor=self.actor("boss@x.tw"), clock=self.clock
    )


World.version = _version  # type: ignore[attr-defined]


def engaged_lead(w: World, when: datetime):
    """A lead with three form submits and three webinars: 30 + 24 = 54 points under the default rules."""
    w.clock.set(when)
    lead = w.lead(region="北區", industry="manufacturing", created_at=when)
    for _ in range(3):
        w.touch(lead, "form_submit", when)
        w.touch(lead, "webinar", when)
    outcome = scoring.score_lead(session=w.session, lead_id=lead.id, clock=w.clock)
    w.session.commit()
    return lead, outcome


def test_mql_threshold_change_mid_period(store, world) -> None:
    march, outcome = engaged_lead(world, at("2026-03-10 02:00"))
    assert outcome.result.score == 54 and march.stage == "mql"
    stricter = copy.deepcopy(rules.DEFAULT_RULES) | {"mql_threshold": 60}
    world.clock.set(at("2026-03-20 00:00"))
    world.version("scoring", stricter, at("2026-04-01 00:00"))
    world.session.commit()
    april, outcome = engaged_lead(world, at("2026-04-10 02:00"))
    assert outcome.result.score == 54 and april.stage == "lead"
    # Scoring March's lead again under the new version does not undo its MQL.
    world.clock.set(at("2026-04-11 00:00"))
    scoring.score_lead(session=world.session, lead_id=march.id, clock=world.clock)
    world.session.commit()
    found = api.metrics(store.url, ["stage_count"], from_stage="mql", by=["cohort_month"], **PERIOD)[
        "results"
    ]
    assert {r["group"]["cohort_month"]: r["value"] for r in found} == {"2026-03": 1}
    leads = api.metrics(store.url, ["stage_count"], from_stage="lead", **PERIOD)["results"][0]
    assert leads["value"] == 2


def test_stage_probabilities_in_force_when_each_deal_entered_its_stage(store, world) -> None:
    s = world.session
    world.clock.set(at("2026-02-20 00:00"))
    world.version(
        "stage_probabilities", {"proposal": "0.8", "initial_contact": "0.2"}, at("2026-03-01 00:00")
    )
    world.clock.set(at("2026-03-20 00:00"))
    late = {"proposal": "0.9", "initial_contact": "0.3"}
    world.version("stage_probabilities", late, at("2026-04-01 00:00"), approve_at=at("2026-05-01 00:00"))
    deals = {}
    for name, created, entered in (
        ("feb", "2026-01-10 00:00", "2026-02-01 00:00"),  # proposal under the seeded 0.5
        ("mar", "2026-02-10 00:00", "2026-03-05 00:00"),  # 0.8
        ("apr", "2026-02-11 00:00", "2026-04-15 00:00"),  # still 0.8: the late version is approved May 1
        ("may", "2026-02-12 00:00", "2026-05-15 00:00"),  # 0.9
    ):
        deal = Deal(name=name, stage="proposal", status="open", currency="TWD", amount_minor=100000,
                    created_at=at(created))  # fmt: skip
        s.add(deal)
        s.flush()
        s.add(DealStageEvent(deal_id=deal.id, to_stage="proposal", occurred_at=at(entered)))
        deals[name] = deal.id
    # A deal with no stage event weighs by its creation: initial_contact 0.2 after March 1.
    s.add(Deal(name="new", stage="initial_contact", status="open", currency="TWD", amount_minor=100000,
               created_at=at("2026-03-02 00:00")))  # fmt: skip
    s.commit()
    weighted = api.metrics(store.url, ["weighted_pipeline"], **PERIOD)["results"][0]
    assert weighted["value"] == pytest.approx(1000 * (0.5 + 0.8 + 0.8 + 0.9 + 0.2))
    # As of March 10 the April and May deals have no stage event yet: they weigh by their February
    # creation, under the seeded version (proposal 0.5).
    early = api.metrics(store.url, ["weighted_pipeline"], **{**PERIOD, "as_of": "2026-03-10"})["results"][0]
    assert early["value"] == pytest.approx(1000 * (0.5 + 0.8 + 0.5 + 0.5 + 0.2))
