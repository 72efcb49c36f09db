"""Deals, deal stages, revenue, costs, rates, activities and feedback: values and bad rows named."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from closedloop.accounts.models import Account
from closedloop.deals.models import Deal, DealStageEvent
from closedloop.handoffs.models import Activity
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import CostEntry
from closedloop.revenue.models import CustomerFeedback, RevenueEvent
from closedloop.workspace.models import ExchangeRate

LEADS = [["external_id", "email", "company", "company_tax_id", "created_at"],
         ["P1", "amy@acme.tw", "Acme", "12345678", "2025-01-02"],
         ["P2", "ben@acme.tw", "Acme", "", "2025-01-03"]]  # fmt: skip


def _errors(report) -> list[tuple[int, str | None]]:
    return sorted((e.row, e.column) for e in report.errors)


def test_deals_move_leads_and_split_new_from_expansion(store, run_file, csv_file) -> None:
    run_file("leads", csv_file("leads.csv", LEADS))
    rows = [
        ["external_id", "lead_email", "company_tax_id", "name", "stage", "amount", "currency", "tax_included",
         "tax_rate", "created_at", "closed_at", "lost_reason"],
        ["D2", "ben@acme.tw", "12345678", "Upsell", "won", "21,000", "", "yes", "", "2025-03-01", "2025-04-01", ""],
        ["D1", "amy@acme.tw", "12345678", "First", "Closed Won", "105000", "TWD", "", "", "2025-02-01", "2025-03-05", ""],
        ["D3", "", "12345678", "Lost one", "lost", "1000", "USD", "true", "10%", "2025-02-01", "2025-02-20", "no budget"],
        ["D4", "", "", "", "won", "-5", "XX", "maybe", "", "2025-02-01", "", ""],
    ]  # fmt: skip
    report = run_file("deals", csv_file("deals.csv", rows), skip_invalid=True)
    assert report.inserted == 3
    assert _errors(report) == [(5, "amount"), (5, "closed_at"), (5, "currency"), (5, "tax_included")]
    with store.session() as session:
        deals = {d.external_id: d for d in session.scalars(select(Deal)).all()}
        # 21,000 including the workspace's default 5% tax: 20,000 net.
        assert deals["D2"].amount_minor == 2_000_000 and deals["D1"].amount_minor == 10_500_000
        # USD 1,000 including 10%: 909.09 net.
        assert (deals["D3"].amount_minor, deals["D3"].currency) == (90_909, "USD")
        assert (deals["D3"].lost_reason, deals["D3"].lost_reason_text) == ("no_budget", "no budget")
        # D1 closed first (5 March): new business; D2 (1 April) is expansion, whatever the file order.
        assert (deals["D1"].is_expansion, deals["D2"].is_expansion) == (False, True)
        account = session.scalars(select(Account)).one()
        assert account.became_customer_at == datetime(2025, 3, 4, 16, 0, tzinfo=UTC)
        amy = session.scalars(select(Lead).where(Lead.email == "amy@acme.tw")).one()
        assert amy.stage == "customer"
        stages = session.execute(select(LifecycleEvent.to_stage, LifecycleEvent.implied, LifecycleEvent.occurred_at)
                                 .where(LifecycleEvent.lead_id == amy.id).order_by(LifecycleEvent.id)).all()  # fmt: skip
        assert [(s, i) for s, i, _ in stages] == [("lead", False), ("mql", True), ("sal", True), ("sql", True),
                                                  ("opportunity", False), ("customer", False)]  # fmt: skip
        assert stages[-1][2] == datetime(2025, 3, 4, 16, 0, tzinfo=UTC)


def test_deal_stage_history(store, run_file, csv_file) -> None:
    deals = [["external_id", "name", "stage", "created_at"], ["D9", "Big", "negotiation", "2025-01-01"]]
    run_file("deals", csv_file("deals.csv", deals))
    history = [["deal_external_id", "stage", "occurred_at"],
               ["D9", "Prospecting", "2025-01-01"], ["D9", "Value Proposition", "2025-01-15"],
               ["D9", "Negotiation/Review", "2025-02-01"], ["NOPE", "won", "2025-02-01"], ["D9", "won", ""]]  # fmt: skip
    report = run_file("deal_stages", csv_file("stages.csv", history), skip_invalid=True)
    assert report.inserted == 3 and _errors(report) == [(5, "deal_external_id"), (6, "occurred_at")]
    assert (
        run_file("deal_stages", csv_file("stages.csv", history), skip_invalid=True, force=True).inserted == 0
    )
    with store.session() as session:
        events = session.execute(select(DealStageEvent.from_stage, DealStageEvent.to_stage)
                                 .where(DealStageEvent.source == "import").order_by(DealStageEvent.occurred_at,
                                                                                    DealStageEvent.id)).all()  # fmt: skip
        assert [tuple(e) for e in events][-3:] == [
            (None, "initial_contact"), ("initial_contact", "proposal"), ("proposal", "negotiation")]  # fmt: skip


def test_revenue_refunds_and_reversals(store, run_file, csv_file) -> None:
    run_file("leads", csv_file("leads.csv", LEADS))
    rows = [["external_id", "company_tax_id", "occurred_at", "amount", "tax_included", "kind", "reverses"],
            ["INV1", "12345678", "2025-03-01", "10,500", "yes", "invoice", ""],
            ["CN1", "12345678", "2025-03-05", "1,050", "yes", "refund", "INV1"],
            ["V1", "12345678", "2025-03-06", "-10500", "yes", "void", "INV1"],
            ["BAD", "1234", "2025-03-06", "x", "", "gift", "NOPE"]]  # fmt: skip
    report = run_file("revenue", csv_file("revenue.csv", rows), skip_invalid=True)
    assert report.inserted == 3
    assert _errors(report) == [(5, "amount"), (5, "company_tax_id"), (5, "kind")]
    with store.session() as session:
        docs = {d.external_id: d for d in session.scalars(select(RevenueEvent)).all()}
        assert (docs["INV1"].amount_minor, docs["INV1"].tax_minor) == (1_000_000, 50_000)
        assert (docs["CN1"].amount_minor, docs["CN1"].reverses_id) == (-100_000, docs["INV1"].id)
        assert docs["V1"].amount_minor == -1_000_000
        assert docs["INV1"].account_id == session.scalars(select(Account.id)).one()


def test_costs_rates_activities_feedback(store, run_file, csv_file) -> None:
    run_file("leads", csv_file("leads.csv", LEADS))
    costs = [["period_start", "period_end", "team", "kind", "amount", "currency"],
             ["2025-03-01", "2025-03-31", "", "tools", "3,000", ""], ["2025-03-01", "2025-03-31", "", "tools", "500", ""],
             ["2025-03-31", "2025-03-01", "Ghosts", "bribes", "", ""]]  # fmt: skip
    report = run_file("costs", csv_file("costs.csv", costs), skip_invalid=True)
    assert _errors(report) == [(4, "amount"), (4, "kind"), (4, "period_end"), (4, "team")]
    rates = [
        ["date", "currency", "rate_to_reporting"],
        ["2025-03-01", "usd", "32.5"],
        ["2025-03-01", "JPY", "0"],
    ]
    report = run_file("rates", csv_file("rates.csv", rates), skip_invalid=True)
    assert report.inserted == 1 and _errors(report) == [(3, "rate_to_reporting")]
    activities = [["external_id", "lead_email", "user_email", "type", "occurred_at", "notes"],
                  ["A1", "amy@acme.tw", "rep@example.com", "call", "114/03/02 下午 04:00", "intro"],
                  ["A2", "zed@acme.tw", "", "fax", "", ""]]  # fmt: skip
    report = run_file("activities", csv_file("act.csv", activities), skip_invalid=True)
    assert report.inserted == 1 and _errors(report) == [(3, "occurred_at"), (3, "type")]
    assert report.unknown_owners == {"rep@example.com"}
    feedback = [["company", "lead_email", "occurred_at", "score", "scale", "comment"],
                ["Acme", "", "2025-04-01", "9", "10", "great"], ["", "amy@acme.tw", "2025-04-02", "4", "", "ok"],
                ["Nobody Inc", "", "2025-04-02", "6", "5", ""]]  # fmt: skip
    report = run_file("feedback", csv_file("fb.csv", feedback), skip_invalid=True)
    assert report.inserted == 2 and _errors(report) == [(4, "score")]
    with store.session() as session:
        cost = session.scalars(select(CostEntry)).one()
        assert (cost.amount_minor, cost.currency, cost.kind) == (350_000, "TWD", "tools")
        rate = session.scalars(select(ExchangeRate)).one()
        assert (rate.currency, rate.rate_date, rate.rate_to_reporting) == (
            "USD",
            date(2025, 3, 1),
            Decimal("32.5"),
        )
        activity = session.scalars(select(Activity)).one()
        assert activity.occurred_at == datetime(2025, 3, 2, 8, 0, tzinfo=UTC) and activity.user_id is None
        scores = sorted((f.score, f.scale_max) for f in session.scalars(select(CustomerFeedback)).all())
        assert scores == [(Decimal("4"), 5), (Decimal("9"), 10)]
