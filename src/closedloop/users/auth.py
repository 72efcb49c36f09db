"""Proving who is calling: password login with lock-out, browser sessions, API keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.clock import Clock, system_clock
from closedloop.errors import Unauthenticated
from closedloop.i18n import translate
from closedloop.leads.identity import IdentityError, normalise_email
from closedloop.users import totp
from closedloop.users.models import ApiKey, User, UserSession
from closedloop.users.passwords import hash_password, hash_token, tokens_equal, verify_password

SESSION_LIFETIME = timedelta(hours=12)
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# Verified when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = hash_password("closedloop-timing-equaliser")


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The user on success; otherwise None and why (never shown to the caller beyond 'failed')."""

    user: User | None
    reason: str  # ok | bad_credentials | locked | inactive


def check_login(
    *,
    session: Session,
    email: str,
    password: str,
    totp_code: str | None = None,
    secret_key: str | None = None,
    clock: Clock = system_clock,
) -> LoginResult:
    """Verify a password (and the one-time code if the user has one); 5 failures lock it for 15 minutes."""
    now = clock()
    try:
        address = normalise_email(email)
    except IdentityError:
        address = None
    user = session.scalar(select(User).where(User.email == address)) if address else None
    if user is None or user.password_hash is None:
        verify_password(_DUMMY_HASH, password)
        return LoginResult(None, "bad_credentials")
    if user.locked_until is not None and user.locked_until > now:
        verify_password(_DUMMY_HASH, password)
        return LoginResult(None, "locked")
    if not verify_password(user.password_hash, password) or not _second_factor_ok(
        user, totp_code, secret_key, now
    ):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        session.flush()
        return LoginResult(None, "bad_credentials")
    if not user.is_active:
        return LoginResult(None, "inactive")
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return LoginResult(user, "ok")


def _second_factor_ok(user: User, code: str | None, secret_key: str | None, now: datetime) -> bool:
    """True for users without a second factor, or when the code matches their authenticator."""
    if not user.totp_secret:
        return True
    if not code or not secret_key:
        return False
    secret = totp.unseal(user.totp_secret, secret_key=secret_key)
    return secret is not None and totp.verify(secret, code, now)


def start_session(*, session: Session, user: User, clock: Clock = system_clock) -> tuple[UserSession, str]:
    """A new browser session; returns the row and the cookie token (only its hash is stored)."""
    now = clock()
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    return row, token


def resolve_session(*, session: Session, token: str, clock: Clock = system_clock) -> tuple[UserSession, User]:
    """The live session and active user behind a cookie token, or Unauthenticated."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= clock():
        raise Unauthenticated(translate("users.error.unauthenticated"))
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated(translate("users.error.unauthenticated"))
    return row, user


def end_session(*, session: Session, token: str, clock: Clock = system_clock) -> None:
    """Log out: the session stops now."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock()
        session.flush()


def csrf_matches(row: UserSession, presented: str | None) -> bool:
    """True when the presented CSRF token is the session's (compared in constant time)."""
    return bool(presented) and tokens_equal(row.csrf_token, presented or "")


def resolve_api_key(*, session: Session, token: str, clock: Clock = system_clock) -> tuple[ApiKey, User]:
    """The live key and active user behind a bearer token, or Unauthenticated; stamps last use."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "cl" or not parts[1]:
        raise Unauthenticated(translate("users.error.unauthenticated"))
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1][:16]))
    if row is None or not tokens_equal(row.key_hash, hash_token(token)) or row.revoked_at is not None:
        raise Unauthenticated(translate("users.error.unauthenticated"))
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated(translate("users.error.unauthenticated"))
    row.last_used_at = clock()
    session.flush()
    return row, user
