"""Marketing touches: sites, visitors, touchpoints, campaigns, spend, costs, channel rules."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, BigId, JsonDoc, UTCDateTime, utcnow

TOUCH_TYPES = (
    "page_view",
    "ad_click",
    "form_submit",
    "email_send",
    "email_open",
    "email_click",
    "email_unsubscribe",
    "webinar",
    "event",
    "chat",
    "line_message",
    "wechat_message",
    "content_download",
    "offline",
    "other",
)
# JSON where None is SQL NULL (not the JSON text 'null'): most touches carry no properties.
SparseJson = JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
CLICK_ID_FIELDS = ("gclid", "gbraid", "wbraid", "fbclid", "msclkid", "ttclid", "li_fat_id", "line_click_id")


class Site(Base):
    """A website registered for capture, with its public key and allowed origins."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    origins: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Visitor(Base):
    """An anonymous browser (visitor id cookie); linked to a lead when it identifies."""

    __tablename__ = "visitors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visitor_key: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    identified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Campaign(Base):
    """A marketing campaign; touches and spend are tied to it by id or by name."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    normalised_name: Mapped[str] = mapped_column(String(300), unique=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    utm_campaign: Mapped[str | None] = mapped_column(String(255), index=True)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    budget_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Touchpoint(Base):
    """One marketing interaction of a lead or an anonymous visitor (SPEC section 3)."""

    __tablename__ = "touchpoints"
    # Partial indexes: imported touches carry no event id and mostly no visitor or campaign, and
    # capture touches no external id; indexing only the rows that have the value keeps bulk
    # imports and capture from maintaining index entries nobody looks up.
    __table_args__ = (
        Index("ix_touchpoints_lead_occurred", "lead_id", "occurred_at"),
        Index(
            "ix_touchpoints_visitor",
            "visitor_id",
            sqlite_where=text("visitor_id IS NOT NULL"),
            postgresql_where=text("visitor_id IS NOT NULL"),
        ),
        Index(
            "ix_touchpoints_campaign_id",
            "campaign_id",
            sqlite_where=text("campaign_id IS NOT NULL"),
            postgresql_where=text("campaign_id IS NOT NULL"),
        ),
        # An index, not a table constraint, so that a big import into SQLite can drop it and
        # build it once after its rows, its final CREATE UNIQUE the proof (imports/touches.py).
        Index("uq_touchpoints_external_id", "external_id", unique=True),
        # Retries of a capture event count once (ON CONFLICT names this predicate).
        Index(
            "uq_touchpoints_site_id_event_id",
            "site_id",
            "event_id",
            unique=True,
            sqlite_where=text("event_id IS NOT NULL"),
            postgresql_where=text("event_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200))
    # The client's event id, de-duplicated per site so retries count once.
    event_id: Mapped[str | None] = mapped_column(String(64))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("visitors.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(32))
    utm_source: Mapped[str | None] = mapped_column(String(255))
    utm_medium: Mapped[str | None] = mapped_column(String(255))
    utm_campaign: Mapped[str | None] = mapped_column(String(255))
    utm_content: Mapped[str | None] = mapped_column(String(255))
    utm_term: Mapped[str | None] = mapped_column(String(255))
    gclid: Mapped[str | None] = mapped_column(String(255))
    gbraid: Mapped[str | None] = mapped_column(String(255))
    wbraid: Mapped[str | None] = mapped_column(String(255))
    fbclid: Mapped[str | None] = mapped_column(String(255))
    msclkid: Mapped[str | None] = mapped_column(String(255))
    ttclid: Mapped[str | None] = mapped_column(String(255))
    li_fat_id: Mapped[str | None] = mapped_column(String(255))
    line_click_id: Mapped[str | None] = mapped_column(String(255))
    landing_page: Mapped[str | None] = mapped_column(String(2000))
    referrer: Mapped[str | None] = mapped_column(String(2000))
    channel: Mapped[str] = mapped_column(String(64), default="Other")
    # True when the channel came from the imported row, not from the channel rules.
    channel_explicit: Mapped[bool] = mapped_column(default=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    channel_policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
    # A custom event's name (snippet `closedloop.track(name, props)`, an imported `event_name`)
    # and its properties (a flat JSON object; unknown columns of a touchpoint import land here).
    event_name: Mapped[str | None] = mapped_column(String(100))
    properties: Mapped[dict[str, object] | None] = mapped_column(SparseJson)


class CampaignSpend(Base):
    """Spend of one campaign on one day, in integer minor units."""

    __tablename__ = "campaign_spend"
    __table_args__ = (UniqueConstraint("campaign_id", "spend_date", "source"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    spend_date: Mapped[date] = mapped_column(Date, index=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    impressions: Mapped[int | None] = mapped_column(BigInteger)
    clicks: Mapped[int | None] = mapped_column(BigInteger)
    # Where the figure came from (manual, google_ads, meta_ads, import file...).
    source: Mapped[str] = mapped_column(String(64), default="manual")


class CostEntry(Base):
    """Sales and marketing costs other than media spend (salaries, tools, agencies), for CAC."""

    __tablename__ = "cost_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    kind: Mapped[str] = mapped_column(String(16))  # salary | tools | agency | other
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    external_key: Mapped[str | None] = mapped_column(String(200), unique=True)
