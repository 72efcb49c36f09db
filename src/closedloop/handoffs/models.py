"""Hand-offs from marketing to sales under an SLA, and the sales activities that answer them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, BigId, JsonDoc, UTCDateTime, utcnow

REJECTION_REASONS = (
    "wrong_fit",
    "no_budget",
    "no_authority",
    "bad_contact_data",
    "duplicate",
    "student_or_job_seeker",
    "competitor",
    "spam",
    "no_response",
    "other",
)
ACTIVITY_TYPES = ("call", "email", "meeting", "line_message", "wechat_message", "note")
# Activities that count as a sales response (a note is not contact with the lead).
RESPONSE_ACTIVITY_TYPES = ("call", "email", "meeting", "line_message", "wechat_message")
AWAITING_RESPONSE = "first_response_at IS NULL AND breached_at IS NULL"


class Handoff(Base):
    """The moment an MQL is routed to a sales owner, with its SLA clock (SPEC section 2)."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_owner_status", "owner_id", "status"),
        Index("ix_handoffs_assigned_at", "assigned_at"),
        # The worker's SLA jobs (breaches, warnings) look each minute for hand-offs still waiting for a
        # first response; the partial index holds only those, not the whole history (revision 0002).
        Index(
            "ix_handoffs_awaiting_response",
            "sla_due_at",
            sqlite_where=text(AWAITING_RESPONSE),
            postgresql_where=text(AWAITING_RESPONSE),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(32))
    rejection_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | accepted | rejected | closed
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Further sales commitments of the SLA policy: decide (accept/reject) by, make N attempts by.
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts_required: Mapped[int | None]
    # Business hours from assignment to first response, under the team's calendar.
    response_business_hours: Mapped[float | None]
    sla_met: Mapped[bool | None]
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
    routing_policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))


class Activity(Base):
    """A call, email, meeting, message or note by a user on a lead or a deal."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_lead_occurred", "lead_id", "occurred_at"),
        Index("ix_activities_deal", "deal_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    type: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Server time: SLA clocks use it, so back-dating cannot pass an SLA.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notes: Mapped[str | None] = mapped_column(Text)


class DataQualityHold(Base):
    """A lead waiting at the data-quality gate (the "needs data" list), with the reasons."""

    __tablename__ = "data_quality_holds"
    __table_args__ = (Index("ix_data_quality_holds_open", "released_at", "held_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    # [{"code": "missing" | "invalid" | "duplicate", "field": "email|phone" or "lead:12"}]
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JsonDoc, default=list)
    trigger: Mapped[str] = mapped_column(String(32))  # what would have made it an MQL: score | high intent
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
