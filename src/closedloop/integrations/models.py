"""Inbound webhook sources (with their signing secret, encrypted) and the deliveries they sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, BigId, JsonDoc, UTCDateTime, utcnow

# An inbound source feeds one import kind: ERP invoices and orders -> revenue, email marketing
# events -> touchpoints, ad platforms -> spend, satisfaction surveys -> feedback.
INBOUND_KINDS = ("revenue", "touchpoints", "spend", "feedback")


class InboundSource(Base):
    """A system allowed to post signed events (an ERP, an email tool, an ad platform)."""

    __tablename__ = "inbound_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundDelivery(Base):
    """A verified delivery; its id may not come again (replays are refused)."""

    __tablename__ = "inbound_deliveries"
    __table_args__ = (UniqueConstraint("source_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("inbound_sources.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(128))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body_sha256: Mapped[str] = mapped_column(String(64))
    events: Mapped[int] = mapped_column(default=0)
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id"))
    outcome: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
