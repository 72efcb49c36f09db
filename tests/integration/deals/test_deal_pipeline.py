"""The deal pipeline: open from an SQL, immutable stage events, won/lost, optimistic locking."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from closedloop.accounts.models import Account
from closedloop.db import unit_of_work
from closedloop.deals import service as deals
from closedloop.deals.models import Deal, DealStageEvent
from closedloop.errors import Conflict, InvalidTransition, ValidationFailed
from closedloop.leads import service as lead_service
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.outbox.models import OutboxMessage
from closedloop.users.actor import Actor
from closedloop.users.models import User

T0 = datetime(2026, 5, 4, 2, tzinfo=UTC)


def clock_at(moment: datetime):
    return lambda: moment


@pytest.fixture
def setup(store):
    with unit_of_work(store.session_factory) as s:
        rep = User(email="rep@x.tw", role="sales")
        account = Account(name="Acme 股份有限公司", normalised_name="acme")
        s.add_all([rep, account])
        s.flush()
        leads = []
        for i in range(2):
            lead = Lead(
                email=f"buyer{i}@acme.tw",
                account_id=account.id,
                created_at=T0,
                stage="lead",
                source_type="outbound",
            )
            s.add(lead)
            s.flush()
            leads.append(lead.id)
        ids = {"rep": rep.id, "account": account.id, "leads": leads}
    actor = Actor(user_id=ids["rep"], role="sales")
    with unit_of_work(store.session_factory) as s:
        for lead_id in ids["leads"]:
            lead = s.get(Lead, lead_id)
            lead_service.change_stage(session=s, lead=lead, to_stage="sql", actor=actor, clock=clock_at(T0))
    return store, actor, ids


def lead_events(s, lead_id):
    rows = s.scalars(
        select(LifecycleEvent).where(LifecycleEvent.lead_id == lead_id).order_by(LifecycleEvent.id)
    )
    return [(e.to_stage, e.implied) for e in rows]


def test_open_move_win_makes_a_customer_and_new_business_then_expansion(setup):
    store, actor, ids = setup
    lead_id = ids["leads"][0]
    with unit_of_work(store.session_factory) as s:
        deal = deals.open_deal(
            session=s,
            lead_id=lead_id,
            name="ERP rollout",
            amount_minor=120_000_00,
            expected_close_date=date(2026, 6, 30),
            actor=actor,
            clock=clock_at(T0),
        )
        deal_id = deal.id
        assert (deal.stage, deal.status, deal.currency, deal.version) == ("initial_contact", "open", "TWD", 1)
    with unit_of_work(store.session_factory) as s:
        deal = deals.move_stage(
            session=s,
            deal_id=deal_id,
            to_stage="proposal",
            expected_version=1,
            actor=actor,
            clock=clock_at(T0 + timedelta(days=3)),
        )
        assert deal.version == 2
        with pytest.raises(InvalidTransition):
            deals.move_stage(session=s, deal_id=deal_id, to_stage="won", expected_version=2, actor=actor)
    closed = T0 + timedelta(days=20)
    with unit_of_work(store.session_factory) as s:
        deal = deals.win(
            session=s,
            deal_id=deal_id,
            expected_version=2,
            amount_minor=110_000_00,
            actor=actor,
            closed_at=closed,
            clock=clock_at(closed + timedelta(hours=1)),
        )
        assert deal.is_expansion is False
    with store.session() as s:
        deal = s.get(Deal, deal_id)
        assert (deal.status, deal.stage, deal.amount_minor, deal.closed_at) == (
            "won",
            "won",
            110_000_00,
            closed,
        )
        history = s.scalars(
            select(DealStageEvent).where(DealStageEvent.deal_id == deal_id).order_by(DealStageEvent.id)
        ).all()
        assert [(e.from_stage, e.to_stage) for e in history] == [
            (None, "initial_contact"),
            ("initial_contact", "proposal"),
            ("proposal", "won"),
        ]
        assert history[-1].occurred_at == closed
        lead = s.get(Lead, lead_id)
        assert lead.stage == "customer"
        assert lead_events(s, lead_id)[-2:] == [("opportunity", False), ("customer", False)]
        assert s.get(Account, ids["account"]).became_customer_at == closed
        assert s.scalars(select(OutboxMessage.topic)).all() == ["deal.won"]
    # A later deal with the customer: expansion, and the lead does not move.
    with unit_of_work(store.session_factory) as s:
        upsell = deals.open_deal(
            session=s,
            lead_id=lead_id,
            name="More seats",
            amount_minor=5_000_00,
            actor=actor,
            clock=clock_at(closed + timedelta(days=30)),
        )
        won = deals.win(
            session=s,
            deal_id=upsell.id,
            expected_version=1,
            actor=actor,
            clock=clock_at(closed + timedelta(days=40)),
        )
        assert won.is_expansion is True
        assert s.get(Lead, lead_id).stage == "customer"


def test_lead_is_lost_only_when_every_open_deal_is_lost(setup):
    store, actor, ids = setup
    lead_id = ids["leads"][1]
    with unit_of_work(store.session_factory) as s:
        a = deals.open_deal(
            session=s, lead_id=lead_id, name="A", amount_minor=100, actor=actor, clock=clock_at(T0)
        )
        b = deals.open_deal(
            session=s, lead_id=lead_id, name="B", amount_minor=200, actor=actor, clock=clock_at(T0)
        )
        a_id, b_id = a.id, b.id
    with unit_of_work(store.session_factory) as s:
        with pytest.raises(ValidationFailed):
            deals.lose(session=s, deal_id=a_id, expected_version=1, reason=" ", actor=actor)
        deals.lose(
            session=s, deal_id=a_id, expected_version=1, reason="price", actor=actor, clock=clock_at(T0)
        )
        assert s.get(Lead, lead_id).stage == "opportunity"
        deals.lose(
            session=s,
            deal_id=b_id,
            expected_version=1,
            reason="competitor",
            actor=actor,
            clock=clock_at(T0 + timedelta(days=1)),
        )
    with store.session() as s:
        assert s.get(Lead, lead_id).stage == "lost"
        last = s.scalars(
            select(LifecycleEvent).where(LifecycleEvent.lead_id == lead_id).order_by(LifecycleEvent.id.desc())
        ).first()
        assert (last.to_stage, last.reason) == ("lost", "competitor")
        with pytest.raises(InvalidTransition):
            deals.move_stage(session=s, deal_id=a_id, to_stage="proposal", expected_version=2, actor=actor)


def test_concurrent_edits_from_two_sessions_give_one_conflict_and_no_lost_update(setup):
    store, actor, ids = setup
    with unit_of_work(store.session_factory) as s:
        deal_id = deals.open_deal(
            session=s, lead_id=ids["leads"][0], name="D", amount_minor=1000, actor=actor, clock=clock_at(T0)
        ).id
    alice, bob = store.session(), store.session()
    try:
        # Both open the deal at version 1.
        # References kept: the identity map is weak, and Bob must still hold version 1 when he saves.
        seen = [alice.get(Deal, deal_id), bob.get(Deal, deal_id)]
        assert [d.version for d in seen] == [1, 1]
        deals.update_deal(
            session=alice,
            deal_id=deal_id,
            expected_version=1,
            amount_minor=2000,
            actor=actor,
            clock=clock_at(T0),
        )
        alice.commit()
        with pytest.raises(Conflict) as caught:
            deals.update_deal(
                session=bob,
                deal_id=deal_id,
                expected_version=1,
                amount_minor=3000,
                actor=actor,
                clock=clock_at(T0),
            )
        assert "reload" in str(caught.value)
        bob.rollback()
    finally:
        alice.close()
        bob.close()
    with store.session() as s:
        deal = s.get(Deal, deal_id)
        assert (deal.amount_minor, deal.version) == (2000, 2)
        # A caller holding a stale version is refused before any write.
        with pytest.raises(Conflict):
            deals.update_deal(session=s, deal_id=deal_id, expected_version=1, amount_minor=4000, actor=actor)


def test_racing_threads_one_wins_one_conflicts(setup):
    store, actor, ids = setup
    with unit_of_work(store.session_factory) as s:
        deal_id = deals.open_deal(
            session=s, lead_id=ids["leads"][0], name="D", amount_minor=1000, actor=actor, clock=clock_at(T0)
        ).id
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def edit(amount: int) -> None:
        try:
            with unit_of_work(store.session_factory) as s:
                held = s.get(Deal, deal_id)  # both read version 1 before either writes
                assert held.version == 1
                barrier.wait(timeout=10)
                deals.update_deal(
                    session=s,
                    deal_id=deal_id,
                    expected_version=1,
                    amount_minor=amount,
                    actor=actor,
                    clock=clock_at(T0),
                )
            outcomes[amount] = "saved"
        except Conflict:
            outcomes[amount] = "conflict"

    threads = [threading.Thread(target=edit, args=(amount,)) for amount in (2000, 3000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "saved"]
    winner = next(amount for amount, outcome in outcomes.items() if outcome == "saved")
    with store.session() as s:
        deal = s.get(Deal, deal_id)
        assert (deal.amount_minor, deal.version) == (winner, 2)


def test_quotas_and_deal_activities(setup):
    from closedloop.deals.quotas import quotas_overlapping, set_quota
    from closedloop.handoffs.activities import log_activity

    store, actor, ids = setup
    with unit_of_work(store.session_factory) as s:
        set_quota(
            session=s,
            user_id=ids["rep"],
            period_start=date(2026, 4, 1),
            period_end=date(2026, 6, 30),
            amount_minor=3_000_000_00,
            currency="twd",
            actor=actor,
            clock=clock_at(T0),
        )
        set_quota(
            session=s,
            user_id=ids["rep"],
            period_start=date(2026, 4, 1),
            period_end=date(2026, 6, 30),
            amount_minor=3_500_000_00,
            currency="TWD",
            actor=actor,
            clock=clock_at(T0),
        )
        with pytest.raises(ValidationFailed):
            set_quota(
                session=s,
                period_start=date(2026, 4, 1),
                period_end=date(2026, 6, 30),
                amount_minor=1,
                currency="TWD",
                actor=actor,
            )
        deal_id = deals.open_deal(
            session=s, lead_id=ids["leads"][0], name="D", amount_minor=1, actor=actor, clock=clock_at(T0)
        ).id
    with unit_of_work(store.session_factory) as s:
        quotas = quotas_overlapping(s, start=date(2026, 5, 1), end=date(2026, 5, 31))
        assert [(q.amount_minor, q.currency) for q in quotas] == [(3_500_000_00, "TWD")]
        later = T0 + timedelta(days=2)
        log_activity(session=s, deal_id=deal_id, type="meeting", actor=actor, clock=clock_at(later))
    with store.session() as s:
        deal = s.get(Deal, deal_id)
        # The activity lands on the deal's lead too, and does not bump the deal's lock version.
        assert (deal.last_activity_at, deal.version) == (later, 1)


def test_a_new_amount_or_close_date_is_dated_by_a_same_stage_event(setup):
    """pipeline_as_of reads amounts and close dates from the events: an edit must leave one."""
    store, actor, ids = setup
    with unit_of_work(store.session_factory) as s:
        deal_id = deals.open_deal(
            session=s, lead_id=ids["leads"][0], name="D", amount_minor=1000,
            expected_close_date=date(2026, 6, 30), actor=actor, clock=clock_at(T0),
        ).id  # fmt: skip
    edits = [
        ({"name": "Renamed"}, 1),  # neither amount nor close date: no event
        ({"amount_minor": 1000}, 1),  # the same amount: no event
        ({"expected_close_date": date(2026, 7, 31)}, 2),
        ({"amount_minor": 2500}, 3),
    ]
    for version, (change, events) in enumerate(edits, start=1):
        with unit_of_work(store.session_factory) as s:
            deals.update_deal(session=s, deal_id=deal_id, expected_version=version, actor=actor,
                              clock=clock_at(T0 + timedelta(days=version)), **change)  # fmt: skip
        with store.session() as s:
            rows = s.scalars(select(DealStageEvent).where(DealStageEvent.deal_id == deal_id)).all()
            assert len(rows) == events, change
    with store.session() as s:
        rows = s.scalars(
            select(DealStageEvent)
            .where(DealStageEvent.deal_id == deal_id)
            .order_by(DealStageEvent.occurred_at)
        ).all()
        assert [(e.from_stage, e.to_stage, e.amount_minor, e.expected_close_date) for e in rows] == [
            (None, "initial_contact", 1000, date(2026, 6, 30)),
            ("initial_contact", "initial_contact", 1000, date(2026, 7, 31)),
            ("initial_contact", "initial_contact", 2500, date(2026, 7, 31)),
        ]
        assert rows[1].occurred_at == T0 + timedelta(days=3)
