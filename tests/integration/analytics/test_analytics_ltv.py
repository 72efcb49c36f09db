"""Predictive LTV, LTV:CAC and payback months against values worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from closedloop.analytics import api
from closedloop.predictive.models import AccountChurnScore
from closedloop.revenue.models import RevenueEvent
from closedloop.workspace.models import Product

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-06-30"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def invoice(data, account: int, when: str, amount: float, **cols) -> None:
    currency = cols.pop("currency", "TWD")
    data.session.add(RevenueEvent(account_id=account, occurred_at=at(when), amount_minor=round(amount * 100),
                                  currency=currency, kind=cols.pop("kind", "invoice"), **cols))  # fmt: skip


def get(store, name: str, **kw) -> dict:
    return {
        tuple(r["group"].values()): r for r in api.metrics(store.url, [name], **{**PERIOD, **kw})["results"]
    }


@pytest.fixture
def customers(store, data):
    data.rate("USD", "2026-01-01", "30")
    half = data.product("Half margin")
    data.session.get(Product, half).margin_pct = 0.5
    acc1 = data.account("One", industry="Retail", became_customer_at=at("2026-02-01 00:00"))
    acc2 = data.account("Two", industry="Tech", became_customer_at=at("2026-03-01 00:00"))
    acc3 = data.account("Three", industry="Tech", became_customer_at=at("2025-06-01 00:00"))
    invoice(data, acc1, "2026-02-10 00:00", 1000, product_id=half)  # gross margin 500
    invoice(data, acc1, "2026-03-10 00:00", 1000)  # 1000
    invoice(data, acc2, "2026-03-05 00:00", 100, currency="USD")  # 3000
    invoice(data, acc2, "2026-07-05 00:00", 500)  # after as-of
    invoice(data, acc2, "2026-01-10 00:00", 100)
    invoice(data, acc2, "2026-01-20 00:00", -100, kind="refund")  # January nets to zero: no customer-month
    invoice(data, acc3, "2026-01-15 00:00", 200)  # 200
    # CAC: 900 of spend over three new customers in the period = 300.
    camp = data.campaign("Spring", channel="Email")
    data.spend(camp, "2026-02-01", 900)
    for day in ("2026-02-01", "2026-03-01", "2026-04-01"):
        data.lead(f"{day} 00:00", [("lead", f"{day} 00:00"), ("customer", f"{day} 01:00")])
    data.session.commit()
    return store, data, (acc1, acc2, acc3)


def test_ltv_from_measured_churn(customers) -> None:
    store, _, _ = customers
    # Customer-months: acc3 Jan 200, acc1 Feb 500, acc1 Mar 1000, acc2 Mar 3000: 4700 / 4 = 1175 a month.
    # Churned the next month: acc3 Jan, acc1 Mar, acc2 Mar: 3 of 4 mature months = 0.75.
    ltv = get(store, "ltv_predictive")[()]
    assert ltv["value"] == pytest.approx(1175 / 0.75, abs=0.005)
    assert (ltv["numerator"], ltv["denominator"], ltv["currency"]) == (1175.0, 0.75, "TWD")
    assert ltv["figures"]["churn_source"] == "measured"
    by_industry = get(store, "ltv_predictive", by=["industry"])
    assert by_industry[("Retail",)]["value"] == 1500.0  # 1500 / 2 months, churn 1 of 2
    assert by_industry[("Tech",)]["value"] == 1600.0  # 3200 / 2 months, churn 2 of 2
    ratio = get(store, "ltv_cac")[()]
    assert ratio["value"] == pytest.approx((1175 / 0.75) / 300)
    assert ratio["denominator"] == 300.0
    payback = get(store, "payback_months")[()]
    assert (payback["value"], payback["numerator"], payback["denominator"]) == (
        pytest.approx(300 / 1175),
        300.0,
        1175.0,
    )
    assert payback["unit"] == "months"


def test_ltv_from_the_churn_model(customers) -> None:
    store, data, (acc1, acc2, _) = customers
    data.session.add_all([
        AccountChurnScore(account_id=acc1, scored_at=at("2026-06-01 00:00"), probability=0.1, model_version="v1"),
        AccountChurnScore(account_id=acc1, scored_at=at("2026-07-10 00:00"), probability=0.9, model_version="v2"),
        AccountChurnScore(account_id=acc2, scored_at=at("2026-05-01 00:00"), probability=0.3, model_version="v1"),
    ])  # fmt: skip
    data.session.commit()
    # The July score comes after as-of; the scored customers average (0.1 + 0.3) / 2 = 0.2.
    ltv = get(store, "ltv_predictive")[()]
    assert ltv["value"] == pytest.approx(1175 / 0.2)
    assert ltv["figures"] == {
        "monthly_margin": 1175.0,
        "monthly_churn": pytest.approx(0.2),
        "churn_source": "model",
    }
    by_industry = get(store, "ltv_predictive", by=["industry"])
    assert by_industry[("Retail",)]["value"] == pytest.approx(750 / 0.1)
    assert by_industry[("Tech",)]["value"] == pytest.approx(1600 / 0.3, abs=0.005)
    assert get(store, "ltv_cac")[()]["value"] == pytest.approx(1175 / 0.2 / 300)


def test_no_customers_no_value(store, data) -> None:
    data.session.commit()
    for name in ("ltv_predictive", "ltv_cac", "payback_months"):
        (result,) = api.metrics(store.url, [name], **PERIOD)["results"]
        assert result["value"] is None and result["group"] == {}
