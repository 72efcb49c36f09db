"""Campaigns (matched by id, else by case-insensitive name, created when new) and spend writes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.marketing.models import Campaign, CampaignSpend


def normalise_campaign_name(name: str) -> str:
    """The key campaigns are matched on: trimmed, inner spaces collapsed, case-folded."""
    return " ".join(name.split()).casefold()


def match_or_create_campaign(
    *,
    session: Session,
    name: str | None,
    external_id: str | None = None,
    channel: str | None = None,
    cache: dict[str, Campaign] | None = None,
) -> Campaign | None:
    """The campaign with this external id, else this name (case-insensitive); created when new."""
    external_id = (external_id or "").strip() or None
    name = (name or "").strip() or None
    if external_id is None and name is None:
        return None
    key = f"id:{external_id}" if external_id else f"name:{normalise_campaign_name(name or '')}"
    if cache is not None and key in cache:
        return cache[key]
    campaign = None
    if external_id:
        campaign = session.scalar(select(Campaign).where(Campaign.external_id == external_id))
    if campaign is None and name:
        campaign = session.scalar(
            select(Campaign).where(Campaign.normalised_name == normalise_campaign_name(name))
        )
        if campaign is not None and external_id and campaign.external_id is None:
            campaign.external_id = external_id
    if campaign is None:
        label = name or external_id or ""
        normalised = normalise_campaign_name(label)
        if external_id and name is None:
            normalised = f"id:{external_id}".casefold()
        campaign = Campaign(
            external_id=external_id,
            name=label,
            normalised_name=normalised,
            channel=channel,
            utm_campaign=name,
        )
        session.add(campaign)
        session.flush()
    elif channel and campaign.channel is None:
        campaign.channel = channel
    if cache is not None:
        cache[key] = campaign
    return campaign


def upsert_spend(
    *,
    session: Session,
    campaign: Campaign,
    spend_date: date,
    amount_minor: int,
    currency: str,
    source: str,
    channel: str | None = None,
    impressions: int | None = None,
    clicks: int | None = None,
) -> tuple[CampaignSpend, str]:
    """Write one day's spend of a campaign from one source; returns (row, inserted|updated|unchanged)."""
    row = session.scalar(
        select(CampaignSpend).where(
            CampaignSpend.campaign_id == campaign.id,
            CampaignSpend.spend_date == spend_date,
            CampaignSpend.source == source,
        )
    )
    values = {
        "amount_minor": amount_minor,
        "currency": currency,
        "channel": channel,
        "impressions": impressions,
        "clicks": clicks,
    }
    if row is None:
        row = CampaignSpend(campaign_id=campaign.id, spend_date=spend_date, source=source, **values)
        session.add(row)
        return row, "inserted"
    if all(getattr(row, k) == v for k, v in values.items()):
        return row, "unchanged"
    for k, v in values.items():
        setattr(row, k, v)
    return row, "updated"
