"""The funnel on hand-built data: waterfall convention, maturity, period mode, ordering."""

from __future__ import annotations

import pytest

from closedloop.analytics import api
from closedloop.analytics.stats import wilson
from closedloop.errors import ValidationFailed

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-06-30"}
STAGES = ["lead", "mql", "sal", "sql", "opportunity", "customer"]


def test_cohort_funnel_by_channel(store, scenario) -> None:
    result = api.funnel(store.url, by=["channel"], **PERIOD)
    assert result["mode"] == "cohort" and result["stages"] == STAGES
    assert result["as_of"] == "2026-06-30T23:59:59.999999+08:00"
    rows = {r["group"]["channel"]: r for r in result["rows"]}
    assert [r["group"]["channel"] for r in result["rows"]] == ["Email", "Ads", "Events"]
    # Email: A (full line), B (skips mql, sal: implied), F (its mql voided).
    assert list(rows["Email"]["counts"].values()) == [3, 2, 2, 2, 1, 1]
    assert rows["Email"]["immature"] == 0
    # Ads: C and D mature (C's sql is 128 days after its lead: outside the window), E immature.
    assert list(rows["Ads"]["counts"].values()) == [2, 1, 0, 0, 0, 0]
    assert rows["Ads"]["immature"] == 1
    assert list(rows["Events"]["counts"].values()) == [1, 1, 1, 1, 0, 0]
    r = rows["Email"]["rates"]
    assert set(r) == {"lead->mql", "mql->sal", "sal->sql", "sql->opportunity", "opportunity->customer",
                      "lead->customer"}  # fmt: skip
    low, high = wilson(2, 3)
    assert r["lead->mql"] == {"value": 2 / 3, "low": low, "high": high, "numerator": 2, "denominator": 3}
    assert r["sql->opportunity"]["value"] == 0.5 and r["lead->customer"]["value"] == pytest.approx(1 / 3)
    assert rows["Ads"]["rates"]["sal->sql"]["value"] is None


def test_funnel_without_by_and_custom_stages(store, scenario) -> None:
    result = api.funnel(store.url, stages="mql,sql", **PERIOD)
    assert len(result["rows"]) == 1 and result["rows"][0]["group"] == {}
    # Cohort: leads reaching mql in the period (A, B implied, C, G), mature; sql within 90 days: A, B, G.
    assert result["rows"][0]["counts"] == {"mql": 4, "sql": 3}
    assert set(result["rows"][0]["rates"]) == {"mql->sql"}


def test_period_funnel(store, scenario) -> None:
    result = api.funnel(store.url, by=["channel"], mode="period", **PERIOD)
    rows = {r["group"]["channel"]: r for r in result["rows"]}
    assert list(rows["Email"]["counts"].values()) == [3, 2, 2, 2, 1, 1]
    # Ads: C, D, E created; C reaches mql, sal (implied) and sql in the period.
    assert list(rows["Ads"]["counts"].values()) == [3, 1, 1, 1, 0, 0]
    assert rows["Ads"]["immature"] == 0
    rate = rows["Ads"]["rates"]["lead->mql"]
    assert rate == {"value": 1 / 3, "low": None, "high": None, "numerator": 1, "denominator": 3}


def test_funnel_where_and_as_of(store, scenario) -> None:
    result = api.funnel(store.url, where=["channel=Email"], **{**PERIOD, "as_of": "2026-01-31"})
    # As of January 31 (cutoff for maturity: early November 2025) nothing is mature yet.
    assert result["rows"][0]["counts"]["lead"] == 0 and result["rows"][0]["immature"] == 3
    result = api.funnel(store.url, where=["channel=Email"], window=10, **{**PERIOD, "as_of": "2026-01-31"})
    # Window 10: leads before Jan 21 are mature. A: mql Jan 10 is within 10 days of Jan 5, its sal/sql
    # (Jan 20) are not; B: sql on Jan 8 (mql, sal implied) is; F: its mql is voided.
    assert list(result["rows"][0]["counts"].values()) == [3, 2, 1, 1, 0, 0]


def test_funnel_drill_through(store, scenario) -> None:
    ids = api.drill(store.url, stage="mql", group={"channel": "Email"}, **PERIOD)
    assert ids["ids"] == sorted([scenario["A"], scenario["B"]]) and ids["total"] == 2
    immature = api.drill(store.url, stage=None, group={"channel": "Ads"}, **PERIOD)
    assert immature["ids"] == [scenario["E"]]
    paged = api.drill(store.url, stage="lead", page=2, page_size=2, **PERIOD)
    assert len(paged["ids"]) == 2 and paged["total"] == 6


def test_funnel_refuses_bad_stages(store, scenario) -> None:
    with pytest.raises(ValidationFailed):
        api.funnel(store.url, stages="sql,mql", **PERIOD)
    with pytest.raises(ValidationFailed):
        api.funnel(store.url, by=["colour"], **PERIOD)
