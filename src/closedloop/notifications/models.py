"""Notification channels, who subscribes to which topic, the outbound allow-list and deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, BigId, JsonDoc, UTCDateTime, utcnow

CHANNEL_KINDS = ("slack", "teams", "line", "line_works", "wecom", "dingtalk", "feishu", "email", "webhook")
DELIVERY_STATUSES = ("pending", "delivered", "dead")


class NotificationChannel(Base):
    """A destination (a Slack or Teams webhook, a robot, an SMTP relay...) and its secrets, encrypted."""

    __tablename__ = "notification_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Webhook URLs carry credentials (Slack's path, WeCom's key, DingTalk's token): encrypted too.
    url_encrypted: Mapped[str | None] = mapped_column(Text)
    # scheme://host[:port] only, for listings and error messages.
    url_hint: Mapped[str | None] = mapped_column(String(300))
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # Non-secret settings: SMTP host/port/starttls/username/from, a LINE `to`, an email `to` list.
    config: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    language: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationSubscription(Base):
    """A user, a team or the whole workspace (neither set) following a topic on a channel."""

    __tablename__ = "notification_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[str] = mapped_column(String(64))  # a topic name, or "*" for every topic
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AllowedOutboundUrl(Base):
    """A URL prefix an admin allows even though it resolves to a private or loopback address."""

    __tablename__ = "notification_allowed_urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    url_prefix: Mapped[str] = mapped_column(String(2000), unique=True)
    note: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationDelivery(Base):
    """One outbox message to one destination; tracked so a retry skips destinations already done."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (UniqueConstraint("message_id", "channel_id", "recipient"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("notification_channels.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(320), default="")
    language: Mapped[str] = mapped_column(String(8))
    # Stable across retries: sent as Idempotency-Key / X-Closedloop-Delivery.
    delivery_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryAttempt(Base):
    """The log of every send: when, by which worker, and what came back."""

    __tablename__ = "notification_delivery_attempts"
    __table_args__ = (Index("ix_notification_delivery_attempts_delivery", "delivery_id", "attempt"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("notification_deliveries.id", ondelete="CASCADE"))
    attempt: Mapped[int]
    worker: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)


REPORT_KINDS = ("weekly", "monthly")
REPORT_SCHEDULES = ("weekly", "monthly")


class ReportSubscription(Base):
    """A user or a team receiving a report pack by email as PDF, in one language, every week or month."""

    __tablename__ = "report_subscriptions"
    __table_args__ = (UniqueConstraint("report", "schedule", "language", "user_id", "team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report: Mapped[str] = mapped_column(String(16))  # weekly review pack | monthly closed-loop report
    schedule: Mapped[str] = mapped_column(
        String(16)
    )  # weekly (after each ISO week) | monthly (after each month)
    language: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    # The SMTP relay (an email channel) that sends it.
    channel_id: Mapped[int] = mapped_column(ForeignKey("notification_channels.id", ondelete="CASCADE"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
