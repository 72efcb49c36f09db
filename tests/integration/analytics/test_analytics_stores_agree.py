"""The same data in a SQLite store and in a PostgreSQL store gives identical answers to every
question the analytics layer answers: each declared metric (alone, by one and by two
dimensions), the funnel in both modes, cohorts, root cause (with a planted pair of dimensions),
mix versus rate, drill-through, fiscal periods and as-of moments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from tests.conftest import Store, _reset_postgres
from tests.integration.analytics.conftest import Data

from closedloop.analytics import api, engine, insights
from closedloop.analytics.declarations import METRICS
from closedloop.db import make_engine, make_session_factory
from closedloop.marketing.models import CostEntry
from closedloop.revenue.models import RevenueEvent
from closedloop.workspace.models import WorkspaceSettings

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-06-30"}
REGIONS, INDUSTRIES = ("North", "Central", "South"), ("Retail", "Tech", "Health")
PER_CELL = 40


@pytest.fixture
def stores(sqlite_store: Store, pg_database: str) -> Iterator[list[Store]]:
    pg_engine = make_engine(pg_database, pool_size=2, max_overflow=2)
    _reset_postgres(pg_engine)
    both = [sqlite_store, Store("postgres", pg_database, pg_engine, make_session_factory(pg_engine))]
    try:
        yield both
    finally:
        for store in both:
            engine.close(store.url)
        pg_engine.dispose()


def populate(session: Any, *, planted: bool) -> dict[str, int]:
    """Leads over a 3x3 grid of region x industry (lead->mql 50% everywhere, 5% in North x Retail
    when `planted`), deals in two currencies, spend, costs, hand-offs, feedback and revenue."""
    data = Data(session)
    north = data.team("North")
    u1, u2 = data.user("ae1@example.com", north), data.user("ae2@example.com")
    shoes = data.product("Shoes")
    spring, search = data.campaign("Spring", channel="Email"), data.campaign("Search", channel="Paid Search")
    data.rate("USD", "2026-01-01", "30")
    data.rate("USD", "2026-03-01", "32")
    start = datetime(2026, 1, 1, 1, 0)
    ids: list[int] = []
    n = 0
    for region in REGIONS:
        for industry in INDUSTRIES:
            converting = 2 if planted and (region, industry) == ("North", "Retail") else PER_CELL // 2
            for k in range(PER_CELL):
                created = start + timedelta(hours=4 * n)  # 360 leads over January and February
                n += 1
                stamp = created.strftime("%Y-%m-%d %H:%M")
                events: list[Any] = [("lead", stamp)]
                if k < converting:
                    events.append(("mql", (created + timedelta(days=3)).strftime("%Y-%m-%d %H:%M")))
                    if k % 2 == 0:  # half the MQLs become SQLs, every eighth implied through sal
                        events.append(
                            ("sql", (created + timedelta(days=9)).strftime("%Y-%m-%d %H:%M"), k % 8 == 0)
                        )
                    if k % 4 == 0:
                        events.append(("customer", (created + timedelta(days=40)).strftime("%Y-%m-%d %H:%M")))
                ids.append(data.lead(stamp, events, region=region, industry=industry,
                                     first_channel=("Email", "Paid Search", None)[k % 3],
                                     owner_id=(u1, u2, None)[k % 3], team_id=north if k % 3 == 0 else None))  # fmt: skip
    data.lead("2026-06-20 00:00", [("lead", "2026-06-20 00:00")], region="North")  # immature
    account = data.account("Acme", region="North", became_customer_at=datetime(2026, 2, 1, tzinfo=UTC))
    data.deal("2026-01-10 00:00", 1000, status="won", closed="2026-02-15 00:00", lead_id=ids[0], owner_id=u1,
              product_id=shoes, account_id=account)  # fmt: skip
    data.deal("2026-01-20 00:00", 100, status="won", closed="2026-03-10 00:00", currency="USD", owner_id=u2)
    data.deal("2026-02-01 00:00", 500, status="lost", closed="2026-04-01 00:00", lead_id=ids[3])
    data.deal("2026-03-01 00:00", 2000, stage="proposal", lead_id=ids[6])
    data.deal("2026-05-01 00:00", 10, status="won", closed="2026-08-01 00:00", currency="USD")
    data.spend(spring, "2026-01-10", 300, channel="Email")
    data.spend(search, "2026-02-01", 100, channel="Paid Search", currency="USD")
    session.add(CostEntry(period_start=date(2026, 1, 1), period_end=date(2026, 12, 31), kind="salary",
                          amount_minor=3_650_000, currency="TWD"))  # fmt: skip
    for month in (2, 3, 4, 5):
        session.add(RevenueEvent(account_id=account, occurred_at=datetime(2026, month, 5, tzinfo=UTC),
                                 kind="invoice", amount_minor=50_000, currency="TWD"))  # fmt: skip
    data.handoff(ids[0], "2026-01-04 01:00", first_response_at="2026-01-04 03:00", sla_met=True,
                 response_business_hours=2.0, status="accepted")  # fmt: skip
    data.handoff(ids[2], "2026-01-08 00:00", first_response_at="2026-01-09 00:00", sla_met=False,
                 response_business_hours=9.0, rejected_at="2026-01-09 00:00", rejection_reason="no_budget")  # fmt: skip
    data.feedback("2026-02-01 00:00", 4, account_id=account)
    data.feedback("2026-02-02 00:00", 8, scale_max=10)
    session.commit()
    return {"u1": u1}


def answers(url: str) -> dict[str, Any]:
    """Everything worth comparing, as plain JSON-ready values."""
    out: dict[str, Any] = {}
    stages = {"from_stage": "mql", "to_stage": "sql"}
    for name, m in METRICS.items():
        out[name] = api.metrics(url, [name], **stages, **PERIOD)["results"]
        for by in [m.dimensions[:1], m.dimensions[:2], ("region", "industry")]:
            if by and set(by) <= set(m.dimensions):
                out[f"{name} by {by}"] = api.metrics(url, [name], by=list(by), **stages, **PERIOD)["results"]
    for mode in ("cohort", "period"):
        out[f"funnel {mode}"] = api.funnel(url, by=["channel", "region"], mode=mode, **PERIOD)
    out["funnel fiscal"] = api.funnel(url, date_from="FY2025-Q4", as_of="2026-06-30")
    out["funnel as-of"] = api.funnel(url, by=["industry"], **{**PERIOD, "as_of": "2026-02-10T12:00"})
    out["cohorts"] = insights.cohorts(url, months=4, **PERIOD)
    out["cohorts week"] = insights.cohorts(url, grain="week", months=2, **PERIOD)
    out["mix young"] = insights.mix_vs_rate(url, dimension="industry", before=("2026-01-01", "2026-01-31"), after=(
        "2026-02-01", "2026-06-30"), from_stage="lead", to_stage="mql", as_of="2026-06-30")  # fmt: skip
    out["root cause"] = insights.root_cause(url, from_stage="lead", to_stage="mql", dimensions=("region", "industry"),
                                            **PERIOD)  # fmt: skip
    out["mix"] = insights.mix_vs_rate(url, dimension="region", before=("2026-01-01", "2026-01-31"), after=(
        "2026-02-01", "2026-03-31"), from_stage="lead", to_stage="mql", as_of="2026-06-30")  # fmt: skip
    out["drill"] = api.drill(url, metric="conversion", part="numerator", group={"region": "South"}, page_size=7,
                             page=2, **stages, **PERIOD)  # fmt: skip
    out["drill funnel"] = api.drill(url, stage="mql", group={"channel": "Email"}, **PERIOD)
    return out


def test_sqlite_and_postgresql_answer_identically(stores: list[Store]) -> None:
    found = []
    for store in stores:
        with store.session() as session:
            populate(session, planted=True)
            # a fiscal year starting in April: FY2025 is April 2025 .. March 2026
            session.execute(update(WorkspaceSettings).values(fiscal_year_start_month=4))
            session.commit()
        found.append(answers(store.url))
    sqlite, postgres = found
    assert sqlite.keys() == postgres.keys()
    for key in sqlite:
        assert sqlite[key] == postgres[key], key
    # The answers are not empty: the comparison compared something.
    assert sqlite["funnel cohort"]["rows"] and sqlite["root cause"]["findings"]
    assert sum(1 for k, v in sqlite.items() if k in METRICS and v and v[0]["value"] not in (None, 0)) >= 20
    # FY2025 starts April 2025, so its Q4 is January..March 2026: all 360 grid leads, none of June's.
    fiscal = sqlite["funnel fiscal"]["rows"][0]
    assert fiscal["counts"]["lead"] == len(REGIONS) * len(INDUSTRIES) * PER_CELL
    # ISO week 2026-W01 ends Sunday Jan 4 (Taipei): leads at 09:00 Jan 1 and every 4 hours to 21:00 Jan 4.
    assert (sqlite["cohorts week"]["rows"][0]["cohort"], sqlite["cohorts week"]["rows"][0]["leads"]) == (
        "2026-W01",
        22,
    )
    # Mix versus rate books nothing on the June lead (too young to have converted): it is left out, counted.
    young = sqlite["mix young"]
    assert young["immature"] == {"before": 0, "after": 1}
    # Lead k is created at 09:00 Jan 1 Taipei + 4k hours: January (744 local hours) holds k = 0..183.
    january = sum(1 for k in range(360) if 9 + 4 * k < 31 * 24)
    assert young["leads"]["before"] + young["leads"]["after"] == 360 and young["leads"]["before"] == january
    assert young["mix"] + young["rate"] == pytest.approx(young["change"], abs=1e-12)


def test_root_cause_finds_a_planted_pair_of_dimensions_on_both_stores(stores: list[Store]) -> None:
    for store in stores:
        with store.session() as session:
            populate(session, planted=True)
        result = insights.root_cause(store.url, from_stage="lead", to_stage="mql",
                                     dimensions=("region", "industry"), **PERIOD)  # fmt: skip
        # 8 cells at 20/40 and North x Retail at 2/40: 162 of 360.
        assert result["cohort"] == {"n": 360, "x": 162}
        pair = next(f for f in result["findings"] if f["group"] == {"region": "North", "industry": "Retail"})
        assert (pair["n"], pair["rate"], pair["rest_rate"]) == (40, 0.05, 0.5)
        assert pair["impact"] == pytest.approx(2 - 40 * 0.5)
        assert pair["sentences"] == {
            "en": "Leads from region North in industry Retail converted Lead→MQL at 5.0% (n=40) against 50.0% elsewhere",
            "zh-TW": "區域 North、產業 Retail的名單 潛在客戶→MQL 轉換率為 5.0%（n=40），其他名單為 50.0%",
            "zh-CN": "区域 North、行业 Retail的线索 潜在客户→MQL 转化率为 5.0%（n=40），其他线索为 50.0%",
        }
        # Every finding involves North or Retail; no clean cell is flagged.
        assert all(f["group"].get("region") == "North" or f["group"].get("industry") == "Retail"
                   for f in result["findings"])  # fmt: skip


def test_root_cause_finds_nothing_without_a_planted_segment(stores: list[Store]) -> None:
    for store in stores:
        with store.session() as session:
            populate(session, planted=False)
        result = insights.root_cause(store.url, from_stage="lead", to_stage="mql",
                                     dimensions=("region", "industry"), **PERIOD)  # fmt: skip
        assert result["cohort"] == {"n": 360, "x": 180} and result["findings"] == []
        assert (
            result["tested"] == 3 + 3 + 9
        )  # each region, each industry, each pair (the June lead is immature)


def test_dated_rates_convert_each_amount_at_its_own_date(stores: list[Store]) -> None:
    for store in stores:
        with store.session() as session:
            populate(session, planted=False)
        # Won in the period: 1000 TWD (Feb 15) and 100 USD on Mar 10 at the rate dated Mar 1 (32).
        size = api.metrics(store.url, ["avg_deal_size"], **PERIOD)["results"][0]
        assert (size["numerator"], size["denominator"], size["value"]) == (4200.0, 2, 2100.0)
        # Spend: 300 TWD + 100 USD on Feb 1 at the rate dated Jan 1 (30).
        assert api.metrics(store.url, ["spend"], **PERIOD)["results"][0]["value"] == 3300.0
        # The open USD deal (won only in August) is valued at the as-of date's rate.
        pipeline = api.metrics(store.url, ["pipeline_as_of"], **PERIOD)["results"][0]
        assert pipeline["value"] == 2000.0 + 10 * 32.0
