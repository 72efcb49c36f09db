"""MQL -> hand-off -> accept / reject / qualify / recycle / re-entry, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.integration.handoffs.handoff_world import MovableClock, World

from closedloop.audit.models import AuditLog
from closedloop.errors import Conflict, InvalidTransition, ValidationFailed
from closedloop.handoffs import quality
from closedloop.handoffs import service as handoffs
from closedloop.handoffs.activities import attempts, log_activity
from closedloop.handoffs.models import DataQualityHold, Handoff
from closedloop.leads.models import LeadScore, LifecycleEvent
from closedloop.outbox.models import OutboxMessage
from closedloop.policies import service as policies
from closedloop.scoring import service as scoring
from closedloop.users.actor import system_actor

TPE = ZoneInfo("Asia/Taipei")
FRIDAY_5PM = datetime(2026, 11, 20, 17, tzinfo=TPE)
MONDAY_NOON = datetime(2026, 11, 23, 12, tzinfo=TPE)


def events(session, lead_id):
    rows = session.scalars(
        select(LifecycleEvent)
        .where(LifecycleEvent.lead_id == lead_id, LifecycleEvent.from_stage.is_not(None))
        .order_by(LifecycleEvent.id)
    )
    return [(e.from_stage, e.to_stage, e.implied, e.reason) for e in rows]


@pytest.fixture
def world(store):
    session = store.session()
    w = World(session)
    north = w.team("north", manager="boss@x.tw")
    w.user("amy@x.tw", team=north)
    w.user("ben@x.tw", team=north)
    w.user("mkt@x.tw", role="marketing")
    w.user("sal@x.tw", role="sales")
    clock = MovableClock(datetime(2026, 11, 1, tzinfo=UTC))
    for kind, payload in (
        ("routing", {"rules": [{"match": {"region": "北區"}, "team": "north"}], "default_team": "north"}),
        (
            "sla",
            {
                "sales": {
                    "first_response_hours": 4,
                    "accept_within_hours": 9,
                    "attempts": 2,
                    "attempts_within_days": 5,
                }
            },
        ),
    ):
        version = policies.propose(
            session=session,
            kind=kind,
            payload=payload,
            effective_from=clock(),
            reason="kick-off",
            actor=w.actor("mkt@x.tw"),
            clock=clock,
        )
        policies.approve(session=session, version_id=version.id, actor=w.actor("boss@x.tw"), clock=clock)
    session.commit()
    w.clock = clock
    yield w
    session.close()


def test_demo_request_makes_an_mql_handed_off_with_a_business_hour_deadline(world):
    s, clock = world.session, world.clock
    clock.set(FRIDAY_5PM)
    lead = world.lead(region="北區", industry="manufacturing")
    world.touch(lead, "form_submit", FRIDAY_5PM, landing_page="https://x.tw/demo")
    outcome = scoring.score_lead(session=s, lead_id=lead.id, clock=clock)
    s.commit()
    # Default rules: +15 demo request, +10 form submit, no decay at the same instant.
    assert outcome.result.score == 25
    assert [i.text() for i in outcome.result.items] == ["+15 demo request", "+10 form submit"]
    history = s.scalars(select(LeadScore).where(LeadScore.lead_id == lead.id)).all()
    assert [(h.score, h.band) for h in history] == [(25.0, "C")]
    handoff = outcome.handoff
    assert handoff is not None
    assert lead.stage == "mql"
    assert events(s, lead.id) == [("lead", "mql", False, "high_intent:demo request")]
    # Friday 17:00 Taipei + 4 business hours (09-18, Mon-Fri) = Monday 12:00; decision: 9 h = Mon 17:00.
    assert handoff.sla_due_at == MONDAY_NOON
    assert handoff.accept_due_at == datetime(2026, 11, 23, 17, tzinfo=TPE)
    assert handoff.owner_id in (world.users["amy@x.tw"].id, world.users["ben@x.tw"].id)
    assert lead.owner_id == handoff.owner_id
    topics = s.scalars(select(OutboxMessage.topic)).all()
    assert topics == ["handoff.assigned"]
    actions = set(s.scalars(select(AuditLog.action)))
    assert {"lead.scored", "lead.stage_changed", "handoff.created"} <= actions


def _mql(world, **values):
    s, clock = world.session, world.clock
    lead = world.lead(region="北區", **values)
    world.touch(lead, "form_submit", clock(), landing_page="/demo")
    outcome = scoring.score_lead(session=s, lead_id=lead.id, clock=clock)
    s.commit()
    return lead, outcome.handoff


def test_accept_then_qualify(world):
    s, clock = world.session, world.clock
    clock.set(FRIDAY_5PM)
    lead, handoff = _mql(world)
    amy = world.actor("amy@x.tw")
    clock.advance(hours=1)
    handoffs.accept(session=s, handoff_id=handoff.id, actor=amy, clock=clock)
    handoffs.qualify(session=s, handoff_id=handoff.id, actor=amy, clock=clock)
    s.commit()
    assert events(s, lead.id) == [
        ("lead", "mql", False, "high_intent:demo request"),
        ("mql", "sal", False, None),
        ("sal", "sql", False, None),
    ]
    assert handoff.status == "accepted"
    assert handoff.accepted_at == clock()
    with pytest.raises(InvalidTransition):
        handoffs.accept(session=s, handoff_id=handoff.id, actor=amy, clock=clock)


def test_qualify_straight_from_mql_writes_an_implied_sal(world):
    s, clock = world.session, world.clock
    lead, handoff = _mql(world)
    handoffs.qualify(session=s, handoff_id=handoff.id, actor=world.actor("ben@x.tw"), clock=clock)
    s.commit()
    assert events(s, lead.id)[1:] == [("mql", "sal", True, None), ("mql", "sql", False, None)]
    assert handoff.status == "accepted"


def test_reject_as_spam_disqualifies_and_no_budget_recycles(world):
    s, clock = world.session, world.clock
    spam, spam_handoff = _mql(world)
    poor, poor_handoff = _mql(world)
    amy = world.actor("amy@x.tw")
    handoffs.reject(session=s, handoff_id=spam_handoff.id, reason="spam", actor=amy, clock=clock)
    handoffs.reject(session=s, handoff_id=poor_handoff.id, reason="no_budget", actor=amy, clock=clock)
    s.commit()
    assert events(s, spam.id)[-1] == ("mql", "disqualified", False, "spam")
    assert spam.is_spam is True
    assert events(s, poor.id)[-1] == ("mql", "recycled", False, "no_budget")
    assert (poor_handoff.status, poor_handoff.rejection_reason) == ("rejected", "no_budget")
    topics = s.scalars(select(OutboxMessage.topic).where(OutboxMessage.topic == "handoff.rejected")).all()
    assert len(topics) == 2
    with pytest.raises(ValidationFailed):
        handoffs.reject(session=s, handoff_id=spam_handoff.id, reason="because", actor=amy, clock=clock)
    # A spam lead never comes back by itself, even with new engagement.
    world.touch(spam, "form_submit", clock.advance(days=1), landing_page="/demo")
    assert scoring.score_lead(session=s, lead_id=spam.id, clock=clock).handoff is None


def test_other_needs_a_text(world):
    s, clock = world.session, world.clock
    _, handoff = _mql(world)
    with pytest.raises(ValidationFailed):
        handoffs.reject(
            session=s, handoff_id=handoff.id, reason="other", actor=world.actor("amy@x.tw"), clock=clock
        )


def test_recycle_and_reentry_on_new_engagement_hands_off_again(world):
    s, clock = world.session, world.clock
    clock.set(datetime(2026, 11, 2, 2, tzinfo=UTC))
    lead, first = _mql(world)
    amy = world.actor("amy@x.tw")
    handoffs.accept(session=s, handoff_id=first.id, actor=amy, clock=clock)
    clock.advance(days=3)
    handoffs.recycle(session=s, lead_id=lead.id, reason="no_response", actor=amy, clock=clock)
    s.commit()
    assert first.status == "closed"
    # Scoring again without new touches does not bring it back.
    clock.advance(days=1)
    assert scoring.score_lead(session=s, lead_id=lead.id, clock=clock).handoff is None
    # A new demo request does: re-entry to MQL and a second hand-off.
    world.touch(lead, "form_submit", clock.advance(hours=1), landing_page="/demo")
    again = scoring.score_lead(session=s, lead_id=lead.id, clock=clock).handoff
    s.commit()
    assert again is not None and again.id != first.id
    assert [e[:2] for e in events(s, lead.id)] == [
        ("lead", "mql"),
        ("mql", "sal"),
        ("sal", "recycled"),
        ("recycled", "mql"),
    ]
    assert s.scalars(select(Handoff.id).where(Handoff.lead_id == lead.id)).all() == [first.id, again.id]
    # Manual re-entry is refused for a lead that is not recycled or lost.
    with pytest.raises(InvalidTransition):
        handoffs.reenter(session=s, lead_id=lead.id, actor=amy, clock=clock)


def test_data_quality_gate_holds_then_releases(world):
    s, clock = world.session, world.clock
    lead = world.lead(region="北區", email="not-an-email")
    world.touch(lead, "form_submit", clock(), landing_page="/demo")
    outcome = scoring.score_lead(session=s, lead_id=lead.id, clock=clock)
    s.commit()
    assert outcome.handoff is None
    assert lead.stage == "lead"
    assert outcome.hold.reasons == [{"code": "invalid", "field": "email"}]
    assert [h.lead_id for h in quality.needs_data(s)] == [lead.id]
    twin_a = world.lead(region="北區", phone="+886223456789")
    twin_b = world.lead(region="北區", phone="+886223456789")
    world.touch(twin_b, "form_submit", clock(), landing_page="/demo")
    held = scoring.score_lead(session=s, lead_id=twin_b.id, clock=clock).hold
    assert held.reasons == [{"code": "duplicate", "field": f"lead:{twin_a.id}"}]
    # The data is fixed; the recheck job hands the lead off and releases the hold.
    lead.email = "fixed@example.com"
    clock.advance(hours=2)
    released = handoffs.recheck_holds(session=s, actor=system_actor("worker"), clock=clock)
    s.commit()
    assert released == [lead.id]
    assert lead.stage == "mql"
    hold = s.scalars(select(DataQualityHold).where(DataQualityHold.lead_id == lead.id)).one()
    assert hold.released_at == clock()
    assert [h.lead_id for h in quality.needs_data(s)] == [twin_b.id]


def test_breach_detection_job_with_an_injected_clock(world):
    s, clock = world.session, world.clock
    clock.set(FRIDAY_5PM)
    _, handoff = _mql(world)
    clock.set(datetime(2026, 11, 23, 11, 59, tzinfo=TPE))
    assert handoffs.detect_breaches(s, clock) == []
    clock.set(MONDAY_NOON)
    assert handoffs.detect_breaches(s, clock) == [handoff.id]
    s.commit()
    assert handoff.breached_at == MONDAY_NOON
    assert handoff.sla_met is False
    message = s.scalars(select(OutboxMessage).where(OutboxMessage.topic == "sla.breached")).one()
    assert message.payload["manager_ids"] == [world.users["boss@x.tw"].id]
    assert message.payload["kind"] == "first_response"
    # Running again escalates nothing twice.
    assert handoffs.detect_breaches(s, clock) == []
    # Monday 17:00 the decision deadline (9 business hours) passes too.
    clock.set(datetime(2026, 11, 23, 17, tzinfo=TPE))
    assert handoffs.detect_breaches(s, clock) == [handoff.id]
    kinds = sorted(
        m.payload["kind"]
        for m in s.scalars(select(OutboxMessage).where(OutboxMessage.topic == "sla.breached"))
    )
    assert kinds == ["accept", "first_response"]


def test_back_dated_activity_cannot_pass_the_sla(world):
    s, clock = world.session, world.clock
    clock.set(FRIDAY_5PM)
    lead, handoff = _mql(world)
    # Logged Monday 13:00 (an hour late) but claimed to have happened Friday 17:30.
    clock.set(datetime(2026, 11, 23, 13, tzinfo=TPE))
    log_activity(
        session=s,
        lead_id=lead.id,
        type="call",
        actor=world.actor("amy@x.tw"),
        occurred_at=datetime(2026, 11, 20, 17, 30, tzinfo=TPE),
        clock=clock,
    )
    s.commit()
    assert handoff.first_response_at == clock()
    # Friday 17-18 (1 h) + Monday 09-13 (4 h) = 5 business hours.
    assert handoff.response_business_hours == 5
    assert handoff.sla_met is False
    assert handoff.breached_at == MONDAY_NOON
    # A note is not contact with the lead: it neither answers nor counts as an attempt.
    log_activity(session=s, lead_id=lead.id, type="note", actor=world.actor("amy@x.tw"), clock=clock)
    log_activity(session=s, lead_id=lead.id, type="line_message", actor=world.actor("amy@x.tw"), clock=clock)
    assert attempts(s, handoff) == 2


def test_response_in_time_meets_the_sla(world):
    s, clock = world.session, world.clock
    clock.set(FRIDAY_5PM)
    lead, handoff = _mql(world)
    clock.set(datetime(2026, 11, 23, 10, tzinfo=TPE))
    log_activity(session=s, lead_id=lead.id, type="email", actor=world.actor("ben@x.tw"), clock=clock)
    s.commit()
    assert (handoff.sla_met, handoff.response_business_hours) == (True, 2)
    clock.set(datetime(2026, 11, 24, tzinfo=TPE))
    assert handoffs.detect_breaches(s, clock) == [handoff.id]  # only the decision deadline
    assert handoff.breached_at is None


def test_two_people_answering_the_same_hand_off_give_one_change_and_one_conflict(world, store):
    s, clock = world.session, world.clock
    lead, handoff = _mql(world)
    amy, ben = world.actor("amy@x.tw"), world.actor("ben@x.tw")
    first, second = store.session(), store.session()
    try:
        # Both read the hand-off while it is open (references kept: the identity map is weak).
        seen = [first.get(Handoff, handoff.id), second.get(Handoff, handoff.id)]
        assert [h.status for h in seen] == ["open", "open"]
        handoffs.accept(session=first, handoff_id=handoff.id, actor=amy, clock=clock)
        first.commit()
        with pytest.raises(Conflict):
            handoffs.reject(session=second, handoff_id=handoff.id, reason="no_budget", actor=ben, clock=clock)
        second.rollback()
    finally:
        first.close()
        second.close()
    s.expire_all()
    assert s.get(Handoff, handoff.id).status == "accepted"
    assert [e[1] for e in events(s, lead.id)] == ["mql", "sal"]


def test_rescore_job_lets_engagement_decay(world):
    s, clock = world.session, world.clock
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    lead = world.lead(region="北區")
    for day in range(3):
        world.touch(lead, "webinar", datetime(2026, 3, 1, tzinfo=UTC) - timedelta(days=day))
    assert scoring.rescore(session=s, clock=clock) == 1
    # Three webinars at 8 points, ages 0, 1 and 2 days, half-life 30 days:
    # 8 * (1 + 0.97716 + 0.95484) = 8 * 2.93200 = 23.456 -> 23, so "+24 webinar, -1 decay".
    assert lead.score == 23
    clock.set(datetime(2026, 3, 31, tzinfo=UTC))
    assert scoring.rescore(session=s, clock=clock) == 1
    # 30 days later every factor halves: 23.456 / 2 = 11.728 -> 12, so "+24 webinar, -12 decay".
    latest = scoring.score_history(s, lead.id)[-1]
    assert [(i["points"], i["label"]) for i in latest.explanation] == [(24, "webinar"), (-12, "decay")]
    assert (lead.score, lead.score_band) == (12, "D")
    assert scoring.rescore(session=s, clock=clock) == 0  # nothing changed: no new history row
    assert len(scoring.score_history(s, lead.id)) == 2


def test_rescore_in_committed_batches_keeps_what_finished(world, monkeypatch):
    """The worker's run commits per batch: a failure in batch 3 keeps batches 1 and 2."""
    s, clock = world.session, world.clock
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    leads = [world.lead(region="北區") for _ in range(5)]
    for lead in leads:
        world.touch(lead, "webinar", datetime(2026, 3, 1, tzinfo=UTC))
    s.commit()
    real_score = scoring.rules.score
    calls = []

    def failing_on_the_fifth(policy, facts, touches, now):  # leads are scored in id order
        calls.append(facts)
        if len(calls) == 5:
            raise RuntimeError("the database went away")
        return real_score(policy, facts, touches, now)

    monkeypatch.setattr(scoring.rules, "score", failing_on_the_fifth)
    with pytest.raises(RuntimeError):
        scoring.rescore(session=s, clock=clock, batch_size=2, commit_batches=True)
    s.rollback()
    scored = set(s.scalars(select(LeadScore.lead_id)))
    assert scored == {lead.id for lead in leads[:4]}
    runs = s.scalars(select(AuditLog).where(AuditLog.action == "leads.rescored")).all()
    assert [r.after["changed"] for r in runs] == [2, 2]
    monkeypatch.setattr(scoring.rules, "score", real_score)
    # The next run finishes the job: only the fifth lead changes.
    assert scoring.rescore(session=s, clock=clock, batch_size=2, commit_batches=True) == 1


def test_old_history_is_marked_but_not_escalated(world):
    s, clock = world.session, world.clock
    clock.set(FRIDAY_5PM)
    _, handoff = _mql(world)
    # The worker first runs 30 days later (say, after a history import): mark, do not page anyone.
    clock.set(MONDAY_NOON + timedelta(days=30))
    assert handoffs.detect_breaches(s, clock) == [handoff.id]
    assert (handoff.breached_at, handoff.sla_met) == (MONDAY_NOON, False)
    assert s.scalars(select(OutboxMessage).where(OutboxMessage.topic == "sla.breached")).all() == []
