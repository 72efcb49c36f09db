"""The Maven CRM sample pipeline loaded straight into `deals`: win rate, deal size and sales cycle
by agent, product and sector, against pandas on the CSV."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import insert

from closedloop.accounts.models import Account
from closedloop.analytics import api, engine
from closedloop.deals.models import Deal
from closedloop.users.models import User
from closedloop.workspace.models import Product

MAVEN = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "maven_crm_sales_opportunities"
TAIPEI = ZoneInfo("Asia/Taipei")
SLICE = {"date_from": "2016-01-01", "date_to": "2017-12-31", "as_of": "2018-01-01"}


def _email(agent: str) -> str:
    return agent.lower().replace(" ", ".") + "@maven.example"


def _midnight(day: str) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(), TAIPEI)


def load(session) -> pd.DataFrame:
    """Deals of the Maven pipeline with a date (Prospecting rows have none), as closedloop deals."""
    pipeline = pd.read_csv(MAVEN / "sales_pipeline.csv").dropna(subset=["engage_date"])
    accounts = pd.read_csv(MAVEN / "accounts.csv")
    ids: dict[str, dict[str, int]] = {"user": {}, "product": {}, "account": {}}
    for agent in sorted(pipeline["sales_agent"].unique()):
        user = User(email=_email(agent), role="sales")
        session.add(user)
        session.flush()
        ids["user"][agent] = user.id
    for name in sorted(pipeline["product"].unique()):
        product = Product(name=name)
        session.add(product)
        session.flush()
        ids["product"][name] = product.id
    for row in accounts.itertuples():
        account = Account(name=row.account, normalised_name=row.account.lower(), industry=row.sector)
        session.add(account)
        session.flush()
        ids["account"][row.account] = account.id
    status = {"Won": "won", "Lost": "lost", "Engaging": "open"}
    rows = [
        {
            "external_id": r.opportunity_id,
            "name": r.opportunity_id,
            "stage": {"won": "won", "lost": "lost"}.get(status[r.deal_stage], "needs_analysis"),
            "status": status[r.deal_stage],
            "amount_minor": round((0 if pd.isna(r.close_value) else r.close_value) * 100),
            "currency": "TWD",
            "owner_id": ids["user"][r.sales_agent],
            "product_id": ids["product"][r.product],
            "account_id": None if pd.isna(r.account) else ids["account"][r.account],
            "created_at": _midnight(r.engage_date),
            "closed_at": None if pd.isna(r.close_date) else _midnight(r.close_date),
        }
        for r in pipeline.itertuples()
    ]
    session.execute(insert(Deal), rows)
    session.commit()
    return pipeline.merge(accounts[["account", "sector"]], on="account", how="left").fillna(
        {"sector": "(none)"}
    )


@pytest.fixture
def maven(store):
    session = store.session()
    try:
        yield load(session)
    finally:
        session.close()
        engine.close(store.url)


def test_maven_by_agent_product_and_sector(store, maven: pd.DataFrame) -> None:
    for dim, column in (("owner", "sales_agent"), ("product", "product"), ("industry", "sector")):
        check_dimension(store, maven, dim, column)
    closed = maven[maven["deal_stage"].isin(["Won", "Lost"])]
    result = {
        r["metric"]: r for r in api.metrics(store.url, ["win_rate", "avg_deal_size"], **SLICE)["results"]
    }
    assert result["win_rate"]["value"] == pytest.approx((closed["deal_stage"] == "Won").mean())
    won = closed[closed["deal_stage"] == "Won"]
    assert result["avg_deal_size"]["numerator"] == pytest.approx(won["close_value"].sum(), abs=0.01)


def check_dimension(store, maven: pd.DataFrame, dim: str, column: str) -> None:
    """Win rate, average deal size and sales cycle per value of one dimension, against pandas."""
    frame = maven.assign(key=maven[column].map(_email) if dim == "owner" else maven[column])
    closed = frame[frame["deal_stage"].isin(["Won", "Lost"])]
    won = closed[closed["deal_stage"] == "Won"].assign(
        days=lambda f: (pd.to_datetime(f["close_date"]) - pd.to_datetime(f["engage_date"])).dt.days
    )
    result = api.metrics(store.url, ["win_rate", "avg_deal_size", "sales_cycle"], by=[dim], **SLICE)[
        "results"
    ]
    got = {(r["metric"], r["group"][dim]): r for r in result}
    for key, group in closed.groupby("key"):
        rate = got[("win_rate", key)]
        assert (rate["numerator"], rate["denominator"]) == ((group["deal_stage"] == "Won").sum(), len(group))
    for key, group in won.groupby("key"):
        size = got[("avg_deal_size", key)]
        assert size["value"] == pytest.approx(round(group["close_value"].mean(), 2), abs=0.006)
        assert size["denominator"] == len(group)
        cycle = got[("sales_cycle", key)]
        assert cycle["value"] == pytest.approx(group["days"].median())
        assert cycle["figures"]["p90"] == pytest.approx(group["days"].quantile(0.9))
    assert {k for m, k in got if m == "win_rate"} == set(closed["key"])
