"""Shared goals: targets both teams commit to, per period."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, JsonDoc, UTCDateTime, utcnow


class Goal(Base):
    """A target for a metric over a period, owned by marketing, sales or both."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(16), default="joint")  # marketing | sales | joint
    target: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    unit: Mapped[str] = mapped_column(String(16), default="count")
    currency: Mapped[str | None] = mapped_column(String(3))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filters: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)
    policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
