"""People and integrations that act in closedloop: users, teams, API keys, sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, BigId, JsonDoc, UTCDateTime, utcnow

ROLES = ("admin", "manager", "marketing", "sales", "viewer")
TEAM_KINDS = ("marketing", "sales", "management", "operations")


class Team(Base):
    """A team (marketing, a regional sales team, management), with its business calendar.

    Its managers are its users with the manager role.
    """

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="sales")
    region: Mapped[str | None] = mapped_column(String(64))
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("business_calendars.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    """A person who logs in. Passwords are argon2 hashes; never stored or logged in clear."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="zh-TW")
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Taipei")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Sales capacity for routing caps: open hand-offs at once (null: no cap).
    capacity: Mapped[int | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """A key for scripts and integrations; only its hash is kept. Acts with its user's role."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSession(Base):
    """A browser login; the cookie carries only a random id (hashed here)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyKey(Base):
    """The outcome of a state-changing API call sent with an `Idempotency-Key`, replayed on retries.

    `principal_hash` is a SHA-256 of the caller's credential, so keys of different callers never
    collide and no credential is stored. A row without `status_code` is a call still in progress.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal_hash", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    principal_hash: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(2000))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(200))
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
