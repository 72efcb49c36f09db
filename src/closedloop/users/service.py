"""People and keys: teams, users, leavers, API keys. Services flush; the caller commits."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.deals.models import Deal
from closedloop.errors import Conflict, NotFound, ValidationFailed
from closedloop.handoffs.models import Handoff
from closedloop.i18n import translate
from closedloop.leads.identity import IdentityError, normalise_email
from closedloop.leads.models import Lead
from closedloop.users.actor import Actor
from closedloop.users.models import ROLES, TEAM_KINDS, ApiKey, Team, User, UserSession
from closedloop.users.passwords import MIN_PASSWORD_LENGTH, hash_password, hash_token

API_KEY_SCOPES = ("read", "write", "capture")
DEFAULT_API_KEY_SCOPES = ("read", "write")
# Lead stages after which a lead is no longer "open" work for its owner.
CLOSED_LEAD_STAGES = ("customer", "disqualified")
USER_FIELDS = (
    "id",
    "email",
    "name",
    "role",
    "team_id",
    "is_active",
    "language",
    "time_zone",
    "deactivated_at",
)


def actor_for(user: User, *, via: str, api_key_id: int | None = None) -> Actor:
    """The Actor a user (or one of its keys) acts as."""
    return Actor(user_id=user.id, role=user.role, team_id=user.team_id, api_key_id=api_key_id, via=via)


def clean_email(email: str) -> str:
    """A normalised email, or ValidationFailed."""
    try:
        value = normalise_email(email)
    except IdentityError as exc:
        raise ValidationFailed(translate("users.error.bad_email", reason=str(exc))) from exc
    if value is None:
        raise ValidationFailed(translate("users.error.bad_email", reason="empty"))
    return value


def create_team(
    *,
    session: Session,
    actor: Actor,
    name: str,
    kind: str = "sales",
    region: str | None = None,
    clock: Clock = system_clock,
) -> Team:
    """Create a team; names are unique."""
    name = name.strip()
    if not name:
        raise ValidationFailed(translate("users.error.team_name"))
    if kind not in TEAM_KINDS:
        raise ValidationFailed(translate("users.error.team_kind", kinds=", ".join(TEAM_KINDS)))
    if session.scalar(select(Team.id).where(Team.name == name)) is not None:
        raise Conflict(translate("users.error.team_exists", name=name))
    team = Team(name=name, kind=kind, region=region, created_at=clock())
    session.add(team)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="team.created",
        entity_type="team",
        entity_id=team.id,
        after=audit_service.snapshot(team),
        clock=clock,
    )
    return team


def team_by_name(*, session: Session, name: str) -> Team:
    """The team with this name, or NotFound."""
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise NotFound(translate("users.error.no_team", name=name))
    return team


def user_by_email(*, session: Session, email: str) -> User:
    """The user with this email, or NotFound."""
    user = session.scalar(select(User).where(User.email == clean_email(email)))
    if user is None:
        raise NotFound(translate("users.error.no_user", email=email))
    return user


def check_password(password: str) -> None:
    """Refuse passwords that are too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(translate("users.error.short_password", min=MIN_PASSWORD_LENGTH))


def create_user(
    *,
    session: Session,
    actor: Actor,
    email: str,
    role: str,
    password: str | None,
    team_id: int | None = None,
    name: str | None = None,
    clock: Clock = system_clock,
) -> User:
    """Create a user; the password is stored as an argon2 hash only (None: key-only account)."""
    address = clean_email(email)
    if role not in ROLES:
        raise ValidationFailed(translate("users.error.bad_role", roles=", ".join(ROLES)))
    if password is not None:
        check_password(password)
    if team_id is not None and session.get(Team, team_id) is None:
        raise ValidationFailed(translate("users.error.no_team", name=team_id))
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict(translate("users.error.user_exists", email=address))
    user = User(
        email=address,
        role=role,
        name=name,
        team_id=team_id,
        password_hash=None if password is None else hash_password(password),
        created_at=clock(),
    )
    session.add(user)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        after=audit_service.snapshot(user, USER_FIELDS),
        clock=clock,
    )
    return user


def update_user(
    *, session: Session, actor: Actor, user: User, changes: dict[str, Any], clock: Clock = system_clock
) -> User:
    """Change a user's name, role, team, language or time zone."""
    before = audit_service.snapshot(user, USER_FIELDS)
    if "role" in changes and changes["role"] not in ROLES:
        raise ValidationFailed(translate("users.error.bad_role", roles=", ".join(ROLES)))
    team_id = changes.get("team_id")
    if team_id is not None and session.get(Team, team_id) is None:
        raise ValidationFailed(translate("users.error.no_team", name=team_id))
    for field in ("name", "role", "team_id", "language", "time_zone"):
        if field in changes:
            setattr(user, field, changes[field])
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="user.updated",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=audit_service.snapshot(user, USER_FIELDS),
        clock=clock,
    )
    return user


def set_password(
    *, session: Session, actor: Actor, user: User, password: str, clock: Clock = system_clock
) -> None:
    """Replace a user's password; its open sessions end."""
    check_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    _end_sessions(session, user.id, clock())
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="user.password_changed",
        entity_type="user",
        entity_id=user.id,
        clock=clock,
    )


def deactivate_user(
    *, session: Session, actor: Actor, user: User, successor: User, clock: Clock = system_clock
) -> dict[str, int]:
    """A leaver: hand open leads, hand-offs and deals to `successor`; sessions and keys stop now."""
    if successor.id == user.id:
        raise ValidationFailed(translate("users.error.successor_self"))
    if not successor.is_active:
        raise ValidationFailed(translate("users.error.successor_inactive", email=successor.email))
    if not user.is_active:
        raise Conflict(translate("users.error.already_inactive", email=user.email))
    now = clock()
    moved = {
        "leads": session.execute(
            update(Lead)
            .where(Lead.owner_id == user.id, Lead.stage.not_in(CLOSED_LEAD_STAGES))
            .values(owner_id=successor.id)
        ).rowcount,
        "handoffs": session.execute(
            update(Handoff)
            .where(Handoff.owner_id == user.id, Handoff.status == "open")
            .values(owner_id=successor.id)
        ).rowcount,
        "deals": session.execute(
            update(Deal)
            .where(Deal.owner_id == user.id, Deal.status == "open")
            .values(owner_id=successor.id, version=Deal.version + 1)
        ).rowcount,
    }
    moved["sessions"] = _end_sessions(session, user.id, now)
    moved["api_keys"] = session.execute(
        update(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None)).values(revoked_at=now)
    ).rowcount
    before = audit_service.snapshot(user, USER_FIELDS)
    user.is_active = False
    user.deactivated_at = now
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="user.deactivated",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after={**audit_service.snapshot(user, USER_FIELDS), "successor_id": successor.id, "moved": moved},
        clock=clock,
    )
    return moved


def _end_sessions(session: Session, user_id: int, now: Any) -> int:
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)


def create_api_key(
    *,
    session: Session,
    actor: Actor,
    user: User,
    scopes: tuple[str, ...] | list[str] = DEFAULT_API_KEY_SCOPES,
    name: str | None = None,
    clock: Clock = system_clock,
) -> tuple[ApiKey, str]:
    """A new key for `user`; returns the row and the key, which is shown once and never stored."""
    wanted = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in wanted if s not in API_KEY_SCOPES]
    if unknown or not wanted:
        raise ValidationFailed(translate("users.error.bad_scopes", scopes=", ".join(API_KEY_SCOPES)))
    if not user.is_active:
        raise ValidationFailed(translate("users.error.successor_inactive", email=user.email))
    prefix = secrets.token_hex(6)
    key = f"cl_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        user_id=user.id, name=name, prefix=prefix, key_hash=hash_token(key), scopes=wanted, created_at=clock()
    )
    session.add(row)
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="api_key.created",
        entity_type="api_key",
        entity_id=row.id,
        after=audit_service.snapshot(row),
        clock=clock,
    )
    return row, key


def api_key_by_ref(*, session: Session, ref: str) -> ApiKey:
    """An API key by id or prefix, or NotFound."""
    stmt = (
        select(ApiKey).where(ApiKey.id == int(ref))
        if ref.isdigit()
        else select(ApiKey).where(ApiKey.prefix == ref)
    )
    row = session.scalar(stmt)
    if row is None:
        raise NotFound(translate("users.error.no_key", ref=ref))
    return row


def revoke_api_key(*, session: Session, actor: Actor, key: ApiKey, clock: Clock = system_clock) -> ApiKey:
    """Revoke a key; it fails from the next request on."""
    if key.revoked_at is not None:
        return key
    before = audit_service.snapshot(key)
    key.revoked_at = clock()
    session.flush()
    audit_service.record(
        session,
        actor=actor,
        action="api_key.revoked",
        entity_type="api_key",
        entity_id=key.id,
        before=before,
        after=audit_service.snapshot(key),
        clock=clock,
    )
    return key


def list_api_keys(*, session: Session, user_id: int | None = None) -> list[ApiKey]:
    """Keys (never their secrets), newest first."""
    stmt = select(ApiKey).order_by(ApiKey.id.desc())
    if user_id is not None:
        stmt = stmt.where(ApiKey.user_id == user_id)
    return list(session.scalars(stmt))


def enable_totp(
    *, session: Session, actor: Actor, user: User, secret_key: str, clock: Clock = system_clock
) -> str:
    """Give the user a second factor; returns the otpauth URI to show once (the secret is stored sealed)."""
    from closedloop.users import totp

    secret = totp.new_secret()
    user.totp_secret = totp.seal(secret, secret_key=secret_key)
    session.flush()
    audit_service.record(
        session, actor=actor, action="user.totp_enabled", entity_type="user", entity_id=user.id, clock=clock
    )
    return totp.provisioning_uri(secret, user.email)


def disable_totp(*, session: Session, actor: Actor, user: User, clock: Clock = system_clock) -> None:
    """Remove the user's second factor."""
    user.totp_secret = None
    session.flush()
    audit_service.record(
        session, actor=actor, action="user.totp_disabled", entity_type="user", entity_id=user.id, clock=clock
    )
