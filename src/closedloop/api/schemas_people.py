"""Request and response shapes for users, teams, API keys, sessions, audit and personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from closedloop.api.types import Email, Id, In, Name200, Out, Password, Str64, Str200

Role = Literal["admin", "manager", "marketing", "sales", "viewer"]
TeamKind = Literal["marketing", "sales", "management", "operations"]
Scope = Literal["read", "write", "capture"]
Language = Literal["en", "zh-TW", "zh-CN"]


class TeamIn(In):
    name: Name200
    kind: TeamKind = "sales"
    region: Str64 | None = None


class TeamOut(Out):
    id: int
    name: str
    kind: str
    region: str | None
    created_at: datetime


class UserIn(In):
    email: Email
    role: Role
    password: Password | None = None
    team_id: Id | None = None
    name: Str200 | None = None


class UserPatch(In):
    name: Str200 | None = None
    role: Role | None = None
    team_id: Id | None = None
    language: Language | None = None
    time_zone: Str64 | None = None


class DeactivateIn(In):
    successor_id: Id


class UserOut(Out):
    id: int
    email: str
    name: str | None
    role: str
    team_id: int | None
    language: str
    time_zone: str
    is_active: bool
    created_at: datetime
    deactivated_at: datetime | None


class DeactivatedOut(Out):
    user: UserOut
    moved: dict[str, int]


class ApiKeyIn(In):
    user_id: Id
    scopes: list[Scope] = Field(default_factory=lambda: ["read", "write"], min_length=1, max_length=3)
    name: Str200 | None = None


class ApiKeyOut(Out):
    id: int
    user_id: int
    name: str | None
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself: shown this once, never stored.")


class SessionOut(Out):
    user: UserOut
    csrf_token: str | None = Field(description="Send it as X-CSRF-Token on state-changing browser requests.")
    via: str


class AuditOut(Out):
    id: int
    occurred_at: datetime
    actor_user_id: int | None
    actor_api_key_id: int | None
    via: str
    action: str
    entity_type: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class PersonIn(In):
    email: Email


class ErasedOut(Out):
    leads: int
    identities: int
    audit_entries: int
