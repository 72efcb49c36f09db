"""LTV, retention/churn, ROAS/ROI, quota attainment, the open pipeline and data quality, by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from closedloop.analytics import api
from closedloop.deals.models import DealStageEvent, Quota
from closedloop.handoffs.models import Activity
from closedloop.revenue.models import RevenueEvent

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-06-30"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def one(store, name: str, **kw) -> dict:
    results = api.metrics(store.url, [name], **{**PERIOD, **kw})["results"]
    assert len(results) == 1, results
    return results[0]


def by(store, name: str, dim: str, **kw) -> dict:
    return {
        r["group"][dim]: r for r in api.metrics(store.url, [name], by=[dim], **{**PERIOD, **kw})["results"]
    }


def invoice(data, account: int, when: str, amount: float, **cols) -> None:
    currency = cols.pop("currency", "TWD")
    data.session.add(RevenueEvent(account_id=account, occurred_at=at(when), amount_minor=round(amount * 100),
                                  currency=currency, kind=cols.pop("kind", "invoice"), **cols))  # fmt: skip


def test_ltv_retention_and_churn(store, data) -> None:
    data.rate("USD", "2026-01-01", "30")
    half = data.product("Half margin")
    from closedloop.workspace.models import Product

    data.session.get(Product, half).margin_pct = 0.5
    acc1 = data.account("One", industry="Retail", became_customer_at=at("2026-02-01 00:00"))
    acc2 = data.account("Two", industry="Tech", became_customer_at=at("2026-03-01 00:00"))
    acc3 = data.account("Three", industry="Tech", became_customer_at=at("2025-06-01 00:00"))
    invoice(data, acc1, "2026-02-10 00:00", 1000, product_id=half)  # gross margin 500
    invoice(data, acc1, "2026-03-10 00:00", 1000)  # workspace default margin 100%: 1000
    invoice(data, acc2, "2026-03-05 00:00", 100, currency="USD")  # 3000
    invoice(data, acc2, "2026-07-05 00:00", 500)  # after as-of
    invoice(data, acc2, "2026-01-10 00:00", 100)
    invoice(data, acc2, "2026-01-20 00:00", -100, kind="refund")  # January nets to zero
    invoice(data, acc3, "2026-01-15 00:00", 200)
    data.session.commit()
    # LTV: customers since Feb/Mar (acc1: 1500, acc2: 3000); acc3 became one before the period.
    ltv = one(store, "ltv_historical")
    assert (ltv["value"], ltv["numerator"], ltv["denominator"]) == (2250.0, 4500.0, 2)
    assert {k: v["value"] for k, v in by(store, "ltv_historical", "industry").items()} == {"Retail": 1500.0,
                                                                                          "Tech": 3000.0}  # fmt: skip
    # Customer-months with revenue: acc3 Jan (no Feb), acc1 Feb (Mar: kept), acc1 Mar (no Apr), acc2 Mar (no Apr).
    kept = one(store, "retention")
    assert (kept["numerator"], kept["denominator"], kept["immature"]) == (1, 4, 0)
    churn = one(store, "churn_rate")
    assert (churn["value"], churn["numerator"]) == (0.75, 3)
    # As of April 15 only January and February are complete with their next month.
    early = one(store, "retention", as_of="2026-04-15")
    assert (early["numerator"], early["denominator"], early["immature"]) == (1, 2, 2)


def test_roas_roi_and_quota(store, data) -> None:
    north = data.team("North")
    u1 = data.user("ae1@example.com", north)
    half = data.product("Half margin")
    from closedloop.workspace.models import Product

    data.session.get(Product, half).margin_pct = 0.5
    lead = data.lead("2026-01-05 00:00", [("lead", "2026-01-05 00:00")], first_channel="Email")
    spring, search = data.campaign("Spring", channel="Email"), data.campaign("Search", channel="Paid Search")
    data.spend(spring, "2026-01-10", 300)
    data.spend(search, "2026-02-01", 1000)
    data.deal("2026-01-10 00:00", 1000, status="won", closed="2026-02-15 00:00", lead_id=lead, owner_id=u1,
              team_id=north, product_id=half)  # fmt: skip
    data.deal("2026-01-20 00:00", 3000, status="won", closed="2026-03-10 00:00", team_id=north)
    data.session.add(Quota(user_id=u1, period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
                           amount_minor=365_000, currency="TWD"))  # fmt: skip
    data.session.add(Quota(team_id=north, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30),
                           amount_minor=1_000_000, currency="TWD"))  # fmt: skip
    data.session.commit()
    roas = by(store, "roas", "channel")
    assert roas["Email"]["value"] == pytest.approx(1000 / 300)
    assert roas["Paid Search"]["value"] == 0.0 and roas["(none)"]["value"] is None
    assert one(store, "roas")["value"] == pytest.approx(4000 / 1300)
    # ROI: gross margin 500 (half margin) + 3000 (default 100%) against 1300 of spend.
    assert one(store, "roi")["value"] == pytest.approx((3500 - 1300) / 1300)
    # Quota: the rep's yearly 3650 prorated to 181 of 365 days = 1810; won 1000.
    rep = by(store, "quota_attainment", "owner")["ae1@example.com"]
    assert (rep["numerator"], rep["denominator"]) == (1000.0, 1810.0)
    assert one(store, "quota_attainment")["value"] == pytest.approx(4000 / 10000)


def test_pipeline_as_of_and_data_quality(store, data) -> None:
    u1 = data.user("ae1@example.com")
    slipping = data.deal("2026-03-01 00:00", 2000, stage="proposal", owner_id=u1,
                         expected_close_date=date(2026, 7, 1))  # fmt: skip
    quiet = data.deal("2026-01-01 00:00", 500, owner_id=u1)  # initial_contact, no activity: stale
    data.deal(
        "2026-02-01 00:00", 800, status="lost", closed="2026-03-01 00:00"
    )  # closed, no owner, no reason
    for when, close in (("2026-03-01 00:00", date(2026, 5, 1)), ("2026-04-01 00:00", date(2026, 7, 1))):
        data.session.add(DealStageEvent(deal_id=slipping, to_stage="proposal", occurred_at=at(when),
                                        expected_close_date=close))  # fmt: skip
    data.session.add(Activity(deal_id=slipping, type="call", occurred_at=at("2026-06-25 00:00")))
    data.session.add(Activity(deal_id=quiet, type="call", occurred_at=at("2026-07-02 00:00")))  # after as-of
    data.lead("2026-02-01 00:00", owner_id=u1, country="TW", region="北區", industry="Retail")
    data.lead("2026-02-02 00:00", owner_id=u1)  # no country, region, industry
    data.session.commit()
    pipe = by(store, "pipeline_as_of", "forecast_category")
    assert pipe["best_case"]["value"] == 2000.0
    assert pipe["best_case"]["figures"] == {"deals": 1, "slipped": 1, "stale": 0}
    assert pipe["pipeline"]["figures"] == {"deals": 1, "slipped": 0, "stale": 1}
    assert set(by(store, "pipeline_as_of", "deal_stage")) == {"proposal", "initial_contact"}
    # Valid: the full lead, both open deals (owner, amount, close date? the quiet one has none: invalid).
    quality = by(store, "data_quality", "owner")
    assert (quality["ae1@example.com"]["numerator"], quality["ae1@example.com"]["denominator"]) == (2, 4)
    assert (quality["(none)"]["numerator"], quality["(none)"]["denominator"]) == (0, 1)
