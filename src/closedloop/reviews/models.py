"""Review meetings and their action items (issue 9 item 2)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, JsonDoc, UTCDateTime, utcnow

REVIEW_STATUSES = ("planned", "held", "closed")
ACTION_STATUSES = ("open", "in_progress", "done", "dropped")


class Review(Base):
    """One marketing-sales review meeting over a period, its numbers frozen at `data_as_of`."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive local date
    data_as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    attendees: Mapped[list[int]] = mapped_column(JsonDoc, default=list)  # user ids
    minutes: Mapped[str | None] = mapped_column(Text)
    agenda: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)  # frozen at generation
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActionItem(Base):
    """A commitment made in a review: who moves which metric in which segment, by when; before and after."""

    __tablename__ = "review_action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    metric: Mapped[str] = mapped_column(String(64))
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str | None] = mapped_column(String(16))
    segment: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)  # dimension -> value
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    current_value: Mapped[float | None] = mapped_column(Float)
    current_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
