"""Versioned shared definitions with two-party approval (SPEC section 4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, JsonDoc, UTCDateTime, utcnow

POLICY_KINDS = ("scoring", "quality_gate", "routing", "sla", "channel_rules", "stage_probabilities", "goals")


class PolicyVersion(Base):
    """One version of a policy. It takes effect at `effective_from` once approved; never retroactively."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int]
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed|approved|rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PolicyApproval(Base):
    """An approval of a policy version by one side (marketing, sales, or a manager for both)."""

    __tablename__ = "policy_approvals"
    __table_args__ = (UniqueConstraint("policy_version_id", "side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    side: Mapped[str] = mapped_column(String(16))  # marketing | sales
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
