"""Each metric against numbers worked out by hand on the scenario of conftest.py."""

from __future__ import annotations

import pytest

from closedloop.analytics import api
from closedloop.analytics.stats import wilson
from closedloop.errors import ValidationFailed

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-06-30"}


def one(store, name: str, **kw) -> dict:
    results = api.metrics(store.url, [name], **{**PERIOD, **kw})["results"]
    assert len(results) == 1, results
    return results[0]


def by(store, name: str, dim: str, **kw) -> dict:
    results = api.metrics(store.url, [name], by=[dim], **{**PERIOD, **kw})["results"]
    return {r["group"][dim]: r for r in results}


def test_lead_metrics(store, scenario) -> None:
    # mql in the period: A (Jan 10), B (implied, Jan 8), C (Feb 2), G (Mar 2); all mature.
    # sql within 90 days: A, B, G (C's sql is 128 days later).
    conv = one(store, "conversion", from_stage="mql", to_stage="sql")
    low, high = wilson(3, 4)
    assert (conv["value"], conv["numerator"], conv["denominator"], conv["immature"]) == (0.75, 3, 4, 0)
    assert (conv["low"], conv["high"], conv["unit"]) == (low, high, "ratio")
    # A 200-day window: nothing that reached mql in the period is mature by June 30.
    late = one(store, "conversion", from_stage="mql", to_stage="sql", window=200)
    assert (late["value"], late["denominator"], late["immature"]) == (None, 0, 4)
    # Velocity skips B (implied mql): A 10 days, C 128 days, G 3.5 days.
    vel = one(store, "velocity", from_stage="mql", to_stage="sql")
    assert vel["figures"] == pytest.approx({"median": 10.0, "mean": 141.5 / 3, "p90": 10 + 0.8 * 118})
    assert vel["value"] == vel["figures"]["median"] and vel["denominator"] == 3
    assert vel["numerator"] == pytest.approx(141.5) and vel["unit"] == "days"
    # Lead to customer: mature leads A, B, C, D, F, G; only A became a customer; E is immature.
    ltc = one(store, "lead_to_customer_rate")
    assert (ltc["numerator"], ltc["denominator"], ltc["immature"]) == (1, 6, 1)
    # Stage count (period mode): mql reached by A, B, C, G (F's mql voided).
    assert one(store, "stage_count", from_stage="mql")["value"] == 4
    counts = by(store, "stage_count", "channel")
    assert {k: v["value"] for k, v in counts.items()} == {"Email": 3, "Ads": 3, "Events": 1}
    owners = by(store, "stage_count", "owner")
    assert {k: v["value"] for k, v in owners.items()} == {"ae1@example.com": 1, "(none)": 6}


def test_local_dates_on_both_stores(store, data) -> None:
    # 00:30 on Jan 1 in Taipei is Dec 31 in UTC; 07:00 on Jul 1 in Taipei is Jun 30 in UTC.
    inside = data.lead("2026-01-01T00:30:00+08:00", [("lead", "2026-01-01T00:30:00+08:00")])
    data.lead("2026-07-01T07:00:00+08:00", [("lead", "2026-07-01T07:00:00+08:00")])
    data.lead("2025-12-31T23:59:00+08:00", [("lead", "2025-12-31T23:59:00+08:00")])
    data.session.commit()
    result = by(store, "stage_count", "cohort_month", as_of="2026-12-31")
    assert {k: v["value"] for k, v in result.items()} == {"2026-01": 1}
    weeks = by(store, "stage_count", "cohort_week", as_of="2026-12-31")
    assert list(weeks) == ["2026-W01"]
    assert api.drill(store.url, metric="stage_count", **{**PERIOD, "as_of": "2026-12-31"})["ids"] == [inside]


def deals(data, ids) -> None:
    data.rate("USD", "2026-01-01", "30")
    data.rate("USD", "2026-03-01", "32")
    data.deal(
        "2026-01-10 00:00",
        1000,
        status="won",
        closed="2026-02-15 00:00",
        lead_id=ids["A"],
        owner_id=ids["u1"],
    )
    data.deal("2026-01-20 00:00", 100, status="won", closed="2026-03-10 00:00", currency="USD")  # 3200 TWD
    data.deal("2026-02-01 00:00", 500, status="lost", closed="2026-04-01 00:00", lead_id=ids["C"])
    data.deal("2026-03-01 00:00", 2000, stage="proposal", lead_id=ids["G"])  # open, 50%
    # Won after the as-of moment: open then, converted at the as-of date's rate (32).
    data.deal("2026-05-01 00:00", 10, status="won", closed="2026-08-01 00:00", currency="USD")
    data.deal("2025-12-01 00:00", 300, status="won", closed="2026-01-05 00:00", lead_id=ids["B"])
    data.session.commit()


def test_deal_metrics(store, data, scenario) -> None:
    deals(data, scenario)
    win = one(store, "win_rate")
    assert (win["value"], win["numerator"], win["denominator"]) == (0.75, 3, 4)
    size = one(store, "avg_deal_size")
    assert (size["value"], size["numerator"], size["denominator"], size["currency"]) == (
        1500.0,
        4500.0,
        3,
        "TWD",
    )
    sizes = by(store, "avg_deal_size", "channel")
    assert {k: v["value"] for k, v in sizes.items()} == {"Email": 650.0, "(none)": 3200.0}
    # won_amount (the demo's revenue goal): the same three won deals, summed
    assert one(store, "won_amount")["value"] == 4500.0
    assert {k: v["value"] for k, v in by(store, "won_amount", "channel").items()} == {
        "Email": 1300.0,
        "(none)": 3200.0,
    }
    cycle = one(store, "sales_cycle")
    assert cycle["figures"] == pytest.approx({"median": 36.0, "mean": 40.0, "p90": 46.4})
    assert one(store, "pipeline_created")["value"] == 7020.0
    assert one(store, "weighted_pipeline")["value"] == 5200.0
    owners = by(store, "win_rate", "owner")
    assert owners["ae1@example.com"]["numerator"] == 1 and owners["(none)"]["denominator"] == 3
    drilled = api.drill(store.url, metric="win_rate", part="numerator", **PERIOD)
    assert drilled["subject"] == "deal" and drilled["total"] == 3


def test_missing_rate_is_an_error(store, data, scenario) -> None:
    data.deal("2026-02-01 00:00", 50, status="won", closed="2026-02-03 00:00", currency="EUR")
    data.session.commit()
    with pytest.raises(ValidationFailed) as caught:
        one(store, "avg_deal_size")
    assert "EUR" in str(caught.value) and "2026-02-03" in str(caught.value)
    assert one(store, "win_rate")["denominator"] == 1  # counts need no rate


def test_spend_and_costs(store, data, scenario) -> None:
    from datetime import date

    from closedloop.marketing.models import CostEntry

    data.rate("USD", "2026-01-01", "30")
    spring = data.campaign("Spring", channel="Email")
    search = data.campaign("Search", channel="Paid Search")
    data.spend(spring, "2026-01-10", 300)
    data.spend(spring, "2026-07-01", 999)  # outside the period
    data.spend(search, "2026-02-01", 100, currency="USD")  # 3000 TWD
    data.session.add(CostEntry(period_start=date(2026, 1, 1), period_end=date(2026, 12, 31), kind="salary",
                               amount_minor=3_650_000, currency="TWD"))  # fmt: skip
    data.session.commit()
    assert one(store, "spend")["value"] == 3300.0
    assert {k: v["value"] for k, v in by(store, "spend", "channel").items()} == {
        "Email": 300.0,
        "Paid Search": 3000.0,
    }
    cpl = by(store, "cpl", "channel")
    assert (cpl["Email"]["value"], cpl["Email"]["numerator"], cpl["Email"]["denominator"]) == (
        100.0,
        300.0,
        3,
    )
    assert cpl["Paid Search"]["value"] is None and cpl["Paid Search"]["denominator"] == 0
    assert cpl["Ads"]["value"] == 0.0 and cpl["Ads"]["denominator"] == 3
    # CAC: spend 3300 + salary 36500 x 181/365 days = 18100, over one new customer (A, March 1).
    cac = one(store, "cac")
    assert (cac["value"], cac["numerator"], cac["denominator"]) == (21400.0, 21400.0, 1)
    mql = by(store, "cost_per_mql", "channel")
    assert mql["Email"]["value"] == 150.0  # A and B (implied)


def test_handoff_and_feedback_metrics(store, data, scenario) -> None:
    data.handoff(scenario["A"], "2026-01-10 01:00", first_response_at="2026-01-10 03:00", sla_met=True,
                 response_business_hours=2.0, accepted_at="2026-01-10 03:00", status="accepted")  # fmt: skip
    data.handoff(scenario["B"], "2026-01-08 00:00", first_response_at="2026-01-09 00:00", sla_met=False,
                 response_business_hours=9.0, rejected_at="2026-01-09 00:00", rejection_reason="no_budget")  # fmt: skip
    data.handoff(scenario["C"], "2026-02-02 00:00", breached_at="2026-02-03 00:00", rejected_at="2026-02-05 00:00",
                 rejection_reason="wrong_fit")  # fmt: skip
    data.handoff(scenario["D"], "2026-03-01 00:00")
    data.feedback("2026-02-01 00:00", 4)
    data.feedback("2026-02-02 00:00", 8, scale_max=10)
    data.feedback("2026-02-03 00:00", 3)
    data.session.commit()
    sla = one(store, "sla_compliance")
    assert (sla["numerator"], sla["denominator"]) == (1, 3)
    rt = one(store, "response_time")
    assert rt["figures"] == pytest.approx({"median": 5.5, "mean": 5.5, "p90": 8.3}) and rt["unit"] == "hours"
    rej = one(store, "rejection_rate")
    assert (rej["value"], rej["reasons"]) == (0.5, {"no_budget": 1, "wrong_fit": 1})
    assert one(store, "csat")["value"] == pytest.approx(11 / 3)


def test_unknown_metric_and_dimension(store, scenario) -> None:
    with pytest.raises(ValidationFailed):
        one(store, "happiness")
    with pytest.raises(ValidationFailed):
        by(store, "spend", "region")
    with pytest.raises(ValidationFailed):
        one(store, "conversion", from_stage="sql", to_stage="mql")


def test_goal_attainment_counts_real_mqls_with_run_rate(store, data, scenario) -> None:
    from datetime import date
    from decimal import Decimal

    from closedloop.goals.models import Goal

    data.session.add(Goal(name="MQL volume", metric="stage_count", target=Decimal(4), period_start=date(2026, 1, 1),
                          period_end=date(2026, 12, 31), filters={"stage": "mql", "source_type": "inbound"}))  # fmt: skip
    data.session.commit()
    goal = one(store, "goal_attainment")
    # Real MQL events of inbound leads: A, C, G (B's mql is implied, F's voided); 181 of 365 days gone.
    assert (goal["group"], goal["numerator"], goal["denominator"], goal["value"]) == (
        {"goal": "MQL volume"},
        3,
        4.0,
        0.75,
    )
    assert goal["figures"]["forecast"] == pytest.approx(3 * 365 / 181)


def test_won_amount_goal_computes(store, data, scenario) -> None:
    """The demo's revenue goal names `won_amount`: attainment is the won amount over the target."""
    from datetime import date
    from decimal import Decimal

    from closedloop.goals.models import Goal

    deals(data, scenario)
    data.session.add(Goal(name="Won revenue", metric="won_amount", target=Decimal(9000), period_start=date(2026, 1, 1),
                          period_end=date(2026, 6, 30), filters={}))  # fmt: skip
    data.session.commit()
    goal = one(store, "goal_attainment")
    assert (goal["numerator"], goal["denominator"], goal["value"]) == (4500.0, 9000.0, 0.5)
    assert goal["figures"]["metric"] == "won_amount" and goal["currency"] == "TWD"
