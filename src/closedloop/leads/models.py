"""Leads (people), their append-only lifecycle events and their score history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, BigId, JsonDoc, UTCDateTime, utcnow


class Lead(Base):
    """A person known by at least one identity (SPEC section 2).

    `stage` is the current lifecycle stage, kept in step with the lifecycle events by the
    lifecycle service. The `first_*` columns are the lead's first touch (anonymous touches
    included), maintained when touches are attached, so reports need not rescan touchpoints.
    """

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_owner_stage", "owner_id", "stage"),
        Index("ix_leads_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    line_user_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    wechat_unionid: Mapped[str | None] = mapped_column(String(100), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    company_size: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    lead_type: Mapped[str] = mapped_column(String(32), default="new_customer")
    source_type: Mapped[str] = mapped_column(String(32), default="inbound")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16), default="lead", index=True)
    score: Mapped[int | None]
    score_band: Mapped[str | None] = mapped_column(String(2))
    predicted_probability: Mapped[float | None]
    is_spam: Mapped[bool] = mapped_column(default=False)
    tags: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    custom: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    # First touch (SPEC section 5: a lead's channel, utm values, campaign and landing page).
    first_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_channel: Mapped[str | None] = mapped_column(String(64))
    first_utm_source: Mapped[str | None] = mapped_column(String(255))
    first_utm_medium: Mapped[str | None] = mapped_column(String(255))
    first_utm_campaign: Mapped[str | None] = mapped_column(String(255))
    first_utm_content: Mapped[str | None] = mapped_column(String(255))
    first_campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    first_landing_page: Mapped[str | None] = mapped_column(String(2000))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LifecycleEvent(Base):
    """An immutable stage change (SPEC section 2). Corrections void earlier events; none is edited."""

    __tablename__ = "lifecycle_events"
    __table_args__ = (Index("ix_lifecycle_events_lead_occurred", "lead_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who or what made it: person, rule, import, deal, demo, capture.
    source: Mapped[str] = mapped_column(String(16), default="person")
    reason: Mapped[str | None] = mapped_column(String(64))
    reason_text: Mapped[str | None] = mapped_column(Text)
    implied: Mapped[bool] = mapped_column(default=False)
    voids_id: Mapped[int | None] = mapped_column(ForeignKey("lifecycle_events.id"), unique=True)
    policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))


class LeadScore(Base):
    """Score history: every score change with its explanation ("+15 demo request, -5 decay")."""

    __tablename__ = "lead_scores"
    __table_args__ = (Index("ix_lead_scores_lead_scored", "lead_id", "scored_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16), default="rules")  # rules | predictive
    score: Mapped[float]
    band: Mapped[str | None] = mapped_column(String(2))
    explanation: Mapped[list[dict[str, object]]] = mapped_column(JsonDoc, default=list)
    policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
    model_version: Mapped[str | None] = mapped_column(String(64))


class ErasedIdentity(Base):
    """A salted hash of an erased person's identity, so a later import cannot bring them back."""

    __tablename__ = "erased_identities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    identity_hash: Mapped[str] = mapped_column(String(128), unique=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
