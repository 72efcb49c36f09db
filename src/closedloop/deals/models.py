"""Deals, their pipeline stages, append-only stage events and quotas."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, BigId, JsonDoc, UTCDateTime, utcnow


class PipelineStage(Base):
    """A configurable deal stage with its win probability and forecast category."""

    __tablename__ = "pipeline_stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int]
    probability: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    forecast_category: Mapped[str] = mapped_column(String(16))  # pipeline|best_case|commit|closed|omitted
    outcome: Mapped[str] = mapped_column(String(8), default="open")  # open | won | lost
    names: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)


class Deal(Base):
    """An opportunity: amount in minor units with its currency, optimistic-lock `version`."""

    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_status_closed", "status", "closed_at"),
        Index("ix_deals_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    stage: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | won | lost
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # New business (the account's first won deal) or expansion (upsell, renewal).
    is_expansion: Mapped[bool] = mapped_column(default=False)
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lost_reason: Mapped[str | None] = mapped_column(String(64))
    lost_reason_text: Mapped[str | None] = mapped_column(Text)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    custom: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook


class DealStageEvent(Base):
    """An immutable deal stage change; history imported from other CRMs lands here too."""

    __tablename__ = "deal_stage_events"
    __table_args__ = (Index("ix_deal_stage_events_deal_occurred", "deal_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"))
    from_stage: Mapped[str | None] = mapped_column(String(64))
    to_stage: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="person")


class Quota(Base):
    """A sales quota for a rep or a team over a period."""

    __tablename__ = "quotas"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
