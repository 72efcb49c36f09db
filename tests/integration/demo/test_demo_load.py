"""`closedloop demo` loaded into a real store (SQLite and PostgreSQL): invariants checked with plain SQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

import closedloop.models  # noqa: F401 - every table on the metadata
from closedloop.db import Base
from closedloop.demo.service import load_demo
from closedloop.errors import Conflict
from closedloop.leads.models import Lead
from closedloop.workspace.calendar import add_business_hours, business_hours_between, calendar_for_team

ANCHOR = date(2026, 6, 30)


def scalar(store, sql: str) -> object:
    with store.engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def table_digest(store) -> str:
    """A hash of every table's rows in id order (the audit log and password hashes left out)."""
    h = hashlib.sha256()
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in ("audit_log", "alembic_version"):
                continue
            columns = [c for c in table.c if c.name != "password_hash"]
            order = [c for c in table.primary_key.columns]
            for row in conn.execute(select(*columns).order_by(*order)):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def test_demo_load_keeps_its_promises(store) -> None:
    result = load_demo(engine=store.engine, leads=300, seed=5, anchor=ANCHOR)
    assert scalar(store, "SELECT COUNT(*) FROM leads") == 300
    assert result.counts["touchpoints"] == scalar(store, "SELECT COUNT(*) FROM touchpoints")
    # Every deal belongs to a lead that reached opportunity (a real or implied event at opportunity or later).
    assert scalar(store, "SELECT COUNT(*) FROM deals") > 0
    assert (
        scalar(
            store,
            "SELECT COUNT(*) FROM deals d WHERE d.lead_id IS NULL OR NOT EXISTS (SELECT 1 FROM lifecycle_events e "
            "WHERE e.lead_id = d.lead_id AND e.to_stage IN ('opportunity', 'customer') AND e.occurred_at <= d.created_at)",
        )
        == 0
    )
    # Deal stage events run in time order, each starting where the previous one ended.
    assert (
        scalar(
            store,
            "SELECT COUNT(*) FROM deal_stage_events a JOIN deal_stage_events b ON a.deal_id = b.deal_id AND b.id = "
            "(SELECT MIN(c.id) FROM deal_stage_events c WHERE c.deal_id = a.deal_id AND c.id > a.id) "
            "WHERE b.occurred_at < a.occurred_at OR b.from_stage <> a.to_stage",
        )
        == 0
    )
    assert (
        scalar(
            store,
            "SELECT COUNT(*) FROM deals d WHERE d.stage <> (SELECT e.to_stage FROM deal_stage_events e "
            "WHERE e.deal_id = d.id ORDER BY e.id DESC LIMIT 1)",
        )
        == 0
    )
    # Won deals close the lead as customer at closed_at; lost ones carry a reason.
    assert (
        scalar(
            store,
            "SELECT COUNT(*) FROM deals d WHERE d.status = 'won' AND NOT d.is_expansion AND NOT EXISTS "
            "(SELECT 1 FROM lifecycle_events e WHERE e.lead_id = d.lead_id AND e.to_stage = 'customer' "
            "AND e.occurred_at = d.closed_at)",
        )
        == 0
    )
    assert scalar(store, "SELECT COUNT(*) FROM deals WHERE status = 'lost' AND lost_reason IS NULL") == 0
    # The lead's stage is its last event's.
    assert (
        scalar(
            store,
            "SELECT COUNT(*) FROM leads l WHERE l.stage <> (SELECT e.to_stage FROM lifecycle_events e "
            "WHERE e.lead_id = l.id ORDER BY e.id DESC LIMIT 1)",
        )
        == 0
    )
    # Money is never negative except refunds.
    for table in ("deals", "campaign_spend", "quotas", "cost_entries", "deal_stage_events"):
        assert scalar(store, f"SELECT COUNT(*) FROM {table} WHERE amount_minor < 0") == 0
    assert (
        scalar(store, "SELECT COUNT(*) FROM revenue_events WHERE (amount_minor < 0) <> (kind = 'refund')")
        == 0
    )
    # A customer company's first won deal makes it a customer.
    assert (
        scalar(
            store,
            "SELECT COUNT(*) FROM accounts a WHERE a.became_customer_at IS DISTINCT FROM "
            "(SELECT MIN(d.closed_at) FROM deals d WHERE d.account_id = a.id AND d.status = 'won')"
            if store.kind == "postgres"
            else "SELECT COUNT(*) FROM accounts a WHERE a.became_customer_at IS NOT "
            "(SELECT MIN(d.closed_at) FROM deals d WHERE d.account_id = a.id AND d.status = 'won')",
        )
        == 0
    )
    # Every foreign amount has a rate on or before its date.
    assert (
        scalar(
            store,
            "SELECT COUNT(*) FROM deals d WHERE d.currency <> 'TWD' AND NOT EXISTS (SELECT 1 FROM "
            "exchange_rates r WHERE r.currency = d.currency AND r.rate_date <= "
            + ("CAST(d.created_at AS DATE))" if store.kind == "postgres" else "DATE(d.created_at))"),
        )
        == 0
    )
    # First-touch columns are the earliest touch, anonymous ones included.
    assert (
        scalar(
            store,
            "SELECT COUNT(*) FROM leads l WHERE l.first_touch_at IS NOT NULL AND l.first_touch_at <> "
            "(SELECT MIN(t.occurred_at) FROM touchpoints t WHERE t.lead_id = l.id)",
        )
        == 0
    )
    # One audit entry for the whole job.
    assert scalar(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'demo.loaded' AND via = 'demo'") == 1
    # Ids continue after the explicit ones (PostgreSQL sequences were moved on).
    with store.session_factory.begin() as session:
        lead = Lead(
            email="new.person@example.com", created_at=datetime.now(UTC), recorded_at=datetime.now(UTC)
        )
        session.add(lead)
        session.flush()
        assert lead.id == 301


def test_sla_figures_agree_with_the_calendar_service(store) -> None:
    load_demo(engine=store.engine, leads=300, seed=8, anchor=ANCHOR)
    with store.session_factory() as session:
        rows = session.execute(
            text(
                "SELECT team_id, assigned_at, first_response_at, sla_due_at, response_business_hours, sla_met, "
                "accept_due_at "
                "FROM handoffs WHERE first_response_at IS NOT NULL ORDER BY id LIMIT 40"
            )
        ).all()
        assert rows
        for team_id, assigned, responded, due, hours, met, accept_due in rows:
            assigned, responded, due, accept_due = (as_utc(v) for v in (assigned, responded, due, accept_due))
            calendar, _ = calendar_for_team(session, team_id)
            assert business_hours_between(calendar, assigned, responded) == pytest.approx(hours, abs=0.01)
            assert abs((add_business_hours(calendar, assigned, 4) - due).total_seconds()) <= 1
            assert abs((add_business_hours(calendar, assigned, 24) - accept_due).total_seconds()) <= 1
            assert bool(met) == (hours <= 4)


def as_utc(value: object) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_same_seed_reloads_identically_and_refuses_without_replace(store) -> None:
    load_demo(engine=store.engine, leads=300, seed=5, anchor=ANCHOR)
    first = table_digest(store)
    with pytest.raises(Conflict):
        load_demo(engine=store.engine, leads=300, seed=5, anchor=ANCHOR)
    load_demo(engine=store.engine, leads=300, seed=5, anchor=ANCHOR, replace=True)
    assert table_digest(store) == first
    load_demo(engine=store.engine, leads=300, seed=6, anchor=ANCHOR, replace=True)
    assert table_digest(store) != first
    assert scalar(store, "SELECT COUNT(*) FROM users") == 17
    assert scalar(store, "SELECT COUNT(*) FROM audit_log WHERE action = 'demo.loaded'") == 3


def test_channels_differ_in_quality(sqlite_store) -> None:
    load_demo(engine=sqlite_store.engine, leads=3000, seed=2, anchor=ANCHOR)
    with sqlite_store.engine.connect() as conn:
        rates = dict(
            conn.execute(
                text(
                    "SELECT first_channel, AVG(CASE WHEN EXISTS (SELECT 1 FROM lifecycle_events e WHERE e.lead_id = l.id "
                    "AND e.to_stage = 'customer') THEN 1.0 ELSE 0.0 END) FROM leads l "
                    "WHERE first_channel IS NOT NULL GROUP BY first_channel"
                )
            ).all()
        )
        volumes = dict(
            conn.execute(text("SELECT first_channel, COUNT(*) FROM leads GROUP BY first_channel")).all()
        )
    assert len(rates) >= 8
    assert volumes["Paid Social"] > 2 * volumes["Referral"] - volumes["Referral"]  # many leads...
    assert rates["Referral"] > 4 * rates["Paid Social"]  # ...that rarely close
    assert rates["Events"] > 2 * rates["Display"]


def test_demo_joins_people_who_are_already_there(store) -> None:
    from closedloop.users.models import Team, User

    with store.session_factory.begin() as session:
        team = Team(name="APAC Sales", kind="sales", region="APAC")
        session.add(team)
        session.flush()
        session.add(User(email="owner@example.com", name="Owner", role="admin", team_id=team.id))
        session.add(User(email="sales11@demo.closedloop.example", name="Old", role="viewer"))
    load_demo(engine=store.engine, leads=150, seed=3, anchor=ANCHOR)
    assert (
        scalar(store, "SELECT COUNT(*) FROM users") == 18
    )  # 17 demo people, one of them already there, + owner
    assert scalar(store, "SELECT COUNT(*) FROM teams") == 8
    assert scalar(store, "SELECT role FROM users WHERE email = 'sales11@demo.closedloop.example'") == "sales"
    assert (
        scalar(
            store, "SELECT COUNT(*) FROM users u JOIN teams t ON t.id = u.team_id WHERE t.name = 'APAC Sales'"
        )
        == 3
    )
    assert (
        scalar(
            store,
            "SELECT COUNT(*) FROM leads l LEFT JOIN users u ON u.id = l.owner_id "
            "WHERE l.owner_id IS NOT NULL AND u.role <> 'sales'",
        )
        == 0
    )
