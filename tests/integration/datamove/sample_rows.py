"""A small store with rows in the tables that matter, written through the ORM (both stores)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from closedloop.accounts.models import Account
from closedloop.db import unit_of_work
from closedloop.deals.models import Deal, DealStageEvent
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import Campaign, CampaignSpend, Touchpoint
from closedloop.revenue.models import RevenueEvent
from closedloop.workspace.models import ExchangeRate

TAIPEI = timezone(timedelta(hours=8))
START = datetime(2026, 1, 30, 18, 0, tzinfo=TAIPEI)


def fill(session_factory, *, leads: int = 6) -> None:
    """Accounts, leads (Chinese names, +08:00 times), events, touches, deals, refunds, rates, spend."""
    with unit_of_work(session_factory) as session:
        account = Account(
            name="台灣精密股份有限公司", normalised_name="台灣精密", tax_id="12345678", custom={"備註": "VIP"}
        )
        campaign = Campaign(name="Spring 春季促銷", normalised_name="spring 春季促銷", channel="Paid Search")
        session.add_all(
            [
                account,
                campaign,
                ExchangeRate(currency="USD", rate_date=date(2026, 1, 1), rate_to_reporting=Decimal("31.25")),
            ]
        )
        session.flush()
        session.add(
            CampaignSpend(
                campaign_id=campaign.id, spend_date=date(2026, 2, 1), amount_minor=1234567, currency="TWD"
            )
        )
        for i in range(leads):
            at = START + timedelta(days=20 * i)
            lead = Lead(
                email=f"lead{i}@example.com",
                name=f"王小明 {i}",
                account_id=account.id,
                tags=["展覽", "webinar"],
                custom={"size": i},
                created_at=at,
                first_channel="Paid Search",
                first_touch_at=at,
            )
            session.add(lead)
            session.flush()
            session.add(LifecycleEvent(lead_id=lead.id, to_stage="lead", occurred_at=at, recorded_at=at))
            session.add(
                Touchpoint(
                    lead_id=lead.id,
                    occurred_at=at - timedelta(hours=1),
                    type="ad_click",
                    utm_source="google",
                    utm_medium="cpc",
                    gclid=f"g{i}",
                    channel="Paid Search",
                    campaign_id=campaign.id,
                )
            )
            deal = Deal(
                lead_id=lead.id,
                account_id=account.id,
                name=f"Deal {i}",
                stage="won",
                status="won",
                amount_minor=100000 * (i + 1),
                currency="USD" if i % 2 else "TWD",
                created_at=at,
                closed_at=at + timedelta(days=9),
            )
            session.add(deal)
            session.flush()
            session.add(DealStageEvent(deal_id=deal.id, to_stage="won", occurred_at=at + timedelta(days=9)))
            session.add(
                RevenueEvent(
                    deal_id=deal.id,
                    account_id=account.id,
                    occurred_at=at + timedelta(days=10),
                    kind="invoice",
                    amount_minor=50000,
                    currency="TWD",
                )
            )
        session.add(
            RevenueEvent(
                account_id=account.id, occurred_at=START, kind="refund", amount_minor=-5000, currency="TWD"
            )
        )
