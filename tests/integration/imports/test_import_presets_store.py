"""Every preset on files written the way each system exports them."""

from __future__ import annotations

import codecs
from datetime import date

import pytest
from sqlalchemy import func, select

from closedloop.deals.models import Deal
from closedloop.errors import ValidationFailed
from closedloop.leads.models import Lead
from closedloop.marketing.models import Campaign, CampaignSpend


def test_hubspot_contacts_and_deals(store, run_file, csv_file) -> None:
    contacts = [
        ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name", "Lifecycle Stage",
         "Create Date", "Original Source", "Became a Marketing Qualified Lead Date", "Contact owner", "Favourite"],
        ["101", "Mei", "Lin", "mei@acme.tw", "02 2345 6789", "Acme", "Marketing Qualified Lead", "2025-02-01 09:00",
         "Paid Social", "2025-02-03 10:00", "rep@example.com", "tea"],
        ["102", "Jun", "Wu", "jun@beta.tw", "", "Beta", "Customer", "2025-01-10 09:00", "Organic Search", "", "", ""],
    ]  # fmt: skip
    report = run_file("leads", csv_file("hubspot-contacts.csv", contacts, encoding="utf-8-sig"))
    assert (report.preset, report.inserted) == ("hubspot", 2)
    assert report.unknown_columns == ["Favourite"]
    deals = [
        ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Create Date", "Associated Contact",
         "Associated Company", "Deal owner"],
        ["9001", "Acme renewal", "Contract Sent", "120,000", "", "2025-02-10", "Mei Lin (mei@acme.tw)", "Acme", ""],
        ["9002", "Beta order", "Closed Won", "50000", "2025-03-01 15:00", "2025-01-20", "jun@beta.tw", "Beta", ""],
    ]  # fmt: skip
    report = run_file("deals", csv_file("hubspot-deals.csv", deals))
    assert report.preset == "hubspot"
    assert report.stage_mapping == {"Contract Sent": "negotiation", "Closed Won": "won"}
    with store.session() as session:
        mei = session.scalars(select(Lead).where(Lead.external_id == "101")).one()
        assert (mei.stage, mei.first_channel, mei.phone) == ("opportunity", "Paid Social", "+886223456789")
        jun = session.scalars(select(Lead).where(Lead.external_id == "102")).one()
        assert jun.stage == "customer"
        won = session.scalars(select(Deal).where(Deal.external_id == "9002")).one()
        assert (won.status, won.amount_minor, won.currency, won.lead_id) == ("won", 5_000_000, "TWD", jun.id)


def test_salesforce_report_with_title_and_footer(store, run_file, csv_file) -> None:
    rows = [
        ["Opportunity ID", "Opportunity Name", "Account Name", "Stage", "Amount", "Amount Currency", "Close Date",
         "Created Date", "Opportunity Owner"],
        ["006A", "Gamma pilot", "Gamma Ltd", "Proposal/Price Quote", "USD 12,500.00", "USD", "", "3/1/2025", ""],
        ["006B", "Delta deal", "Delta", "Closed Lost", "8000", "USD", "3/20/2025", "2/2/2025", ""],
        ["Grand Totals (2 records)", "", "", "", "20,500.00", "", "", "", ""],
        ["Confidential Information - Do Not Distribute", "", "", "", "", "", "", "", ""],
    ]  # fmt: skip
    path = csv_file("sf.csv", rows, titles=['"Opportunities by Stage"', '"As of 3/31/2025"', ""])
    report = run_file("deals", path)
    assert (report.preset, report.inserted, report.skipped_total_rows) == ("salesforce", 2, 2)
    assert report.stage_mapping == {"Proposal/Price Quote": "proposal", "Closed Lost": "lost"}
    with store.session() as session:
        pilot = session.scalars(select(Deal).where(Deal.external_id == "006A")).one()
        assert (pilot.amount_minor, pilot.currency, pilot.status) == (1_250_000, "USD", "open")


def test_odoo_crm_export(store, run_file, csv_file) -> None:
    rows = [
        ["ID", "Opportunity", "Customer", "Email", "Salesperson", "Stage", "Expected Revenue", "Created on",
         "Expected Closing", "Tags"],
        ["__export__.crm_lead_7", "Office chairs", "Epsilon 有限公司", "ops@epsilon.tw", "Mitchell Admin", "Proposition",
         "1.234,50", "114/02/01 下午 03:00:00", "2025-04-30", "furniture;b2b"],
    ]  # fmt: skip
    report = run_file("deals", csv_file("odoo.csv", rows))
    assert report.preset == "odoo"
    # The contact must exist for Email to link it: here it does not, so the row is refused and named.
    assert [(e.row, e.column) for e in report.errors] == [(2, "Email")]
    run_file(
        "leads", csv_file("odoo-leads.csv", [["email", "name"], ["ops@epsilon.tw", "Ops"]]), preset="generic"
    )
    report = run_file("deals", csv_file("odoo.csv", rows))
    assert report.inserted == 1 and report.stage_mapping == {"Proposition": "proposal"}
    with store.session() as session:
        deal = session.scalars(select(Deal)).one()
        assert (deal.amount_minor, deal.expected_close_date, deal.stage) == (
            123450,
            date(2025, 4, 30),
            "proposal",
        )
        assert deal.custom == {"tags": ["furniture", "b2b"]}


def _google_ads_rows() -> list[list[str]]:
    return [
        ["Campaign status", "Campaign", "Campaign type", "Impr.", "Clicks", "Currency code", "Cost"],
        ["Enabled", "Brand TW", "Search", "10,000", "300", "TWD", "3,100.00"],
        ["Enabled", "Remarketing", "Display", "50,000", "31", "TWD", "1,000.01"],
        ["Total: Account", "", "", "60,000", "331", "TWD", "4,100.01"],
        ["Total: Search", "", "", "10,000", "300", "TWD", "3,100.00"],
    ]


def test_google_ads_utf16_report_spreads_the_stated_period(store, run_file, tmp_path) -> None:
    titles = "Campaign report\r\nMarch 1, 2025 - March 31, 2025\r\n"
    body = "\r\n".join("\t".join(r) for r in _google_ads_rows()) + "\r\n"
    path = tmp_path / "google.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + (titles + body).encode("utf-16-le"))
    report = run_file("spend", path)
    assert (report.preset, report.encoding, report.period) == (
        "google_ads",
        "utf-16",
        ("2025-03-01", "2025-03-31"),
    )
    assert report.skipped_total_rows == 2 and report.inserted == 62  # 2 campaigns x 31 days
    with store.session() as session:
        by_campaign = dict(session.execute(
            select(Campaign.name, func.sum(CampaignSpend.amount_minor)).join(Campaign).group_by(Campaign.name)
        ).all())  # fmt: skip
        assert by_campaign == {"Brand TW": 310_000, "Remarketing": 100_001}
        days = session.scalars(select(CampaignSpend.amount_minor).join(Campaign)
                               .where(Campaign.name == "Remarketing").order_by(CampaignSpend.spend_date)).all()  # fmt: skip
        # 100,001 over 31 days: 3225 each (99,975) and the 26 leftover units on the first 26 days.
        assert days[:26] == [3226] * 26 and days[26:] == [3225] * 5
        channels = set(session.scalars(select(CampaignSpend.channel)).all())
        assert channels == {"Paid Search", "Display"}


def test_all_time_report_is_refused_without_a_period(store, run_file, csv_file) -> None:
    path = csv_file("alltime.csv", _google_ads_rows(), titles=["Campaign report", "All time"])
    with pytest.raises(ValidationFailed, match="period"):
        run_file("spend", path)
    report = run_file("spend", path, period_start=date(2025, 1, 1), period_end=date(2025, 1, 10))
    assert report.inserted == 20 and report.period == ("2025-01-01", "2025-01-10")


def test_meta_ads_currency_in_the_header(store, run_file, csv_file) -> None:
    rows = [
        ["Reporting starts", "Reporting ends", "Campaign name", "Amount spent (TWD)", "Impressions", "Link clicks"],
        ["2025-03-01", "2025-03-02", "春季活動", "1,000", "2,001", "7"],
        ["2025-03-03", "2025-03-03", "春季活動", "50.5", "100", ""],
    ]  # fmt: skip
    report = run_file("spend", csv_file("meta.csv", rows, encoding="utf-8-sig"))
    assert report.preset == "meta_ads" and report.inserted == 3
    with store.session() as session:
        spend = session.execute(select(CampaignSpend.spend_date, CampaignSpend.amount_minor, CampaignSpend.currency,
                                       CampaignSpend.impressions, CampaignSpend.clicks, CampaignSpend.channel)
                                .order_by(CampaignSpend.spend_date)).all()  # fmt: skip
        assert [tuple(s) for s in spend] == [
            (date(2025, 3, 1), 50_000, "TWD", 1001, 4, "Paid Social"),
            (date(2025, 3, 2), 50_000, "TWD", 1000, 3, "Paid Social"),
            (date(2025, 3, 3), 5_050, "TWD", 100, None, "Paid Social"),
        ]
