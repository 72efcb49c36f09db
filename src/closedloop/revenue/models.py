"""Revenue documents (invoices, orders, subscriptions, refunds) and customer feedback."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, BigId, UTCDateTime, utcnow

REVENUE_KINDS = ("invoice", "order", "subscription", "refund", "void")


class RevenueEvent(Base):
    """One revenue document, net of tax. Refunds and voids are negative or reversals, never deletions."""

    __tablename__ = "revenue_events"
    __table_args__ = (Index("ix_revenue_events_account_occurred", "account_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("revenue_events.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerFeedback(Base):
    """A satisfaction score from imported feedback, normalised to 0..1 beside the raw score."""

    __tablename__ = "customer_feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    scale_max: Mapped[int] = mapped_column(default=5)
    comment: Mapped[str | None] = mapped_column(Text)
