"""Domain errors: user errors with a clear message, mapped to HTTP and CLI codes in one place."""

from __future__ import annotations

from typing import Any


class ClosedloopError(Exception):
    """Base of every error closedloop raises on purpose."""


class ConfigurationError(ClosedloopError):
    """The process is misconfigured (environment, settings)."""


class UserError(ClosedloopError):
    """Something the caller can fix: bad input, not allowed, conflict. CLI exit 1."""

    http_status = 400
    title = "Bad request"

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


class ValidationFailed(UserError):
    """Input failed validation; `detail` names the row and field at fault."""

    http_status = 422
    title = "Validation failed"


class InvalidTransition(UserError):
    """A lifecycle or pipeline change the rules do not allow."""

    http_status = 409
    title = "Transition not allowed"


class NotFound(UserError):
    """The record does not exist, or the caller may not see it (no existence leak)."""

    http_status = 404
    title = "Not found"


class Forbidden(UserError):
    """The caller may see the record but may not do this."""

    http_status = 403
    title = "Forbidden"


class Unauthenticated(UserError):
    """No valid credentials."""

    http_status = 401
    title = "Unauthenticated"


class Conflict(UserError):
    """Someone else changed the record first (optimistic lock), or a duplicate."""

    http_status = 409
    title = "Conflict"


# Seconds a client is asked to wait (Retry-After) while the database is unavailable.
STORE_RETRY_AFTER = 5


class StoreUnavailable(ClosedloopError):
    """The database cannot be reached right now (down, restarting, out of connections): retry later.

    Answered as 503 with `Retry-After`; nothing about the request is known to be saved, so the
    client sends it again (capture event ids and Idempotency-Key make a resend count once).
    """

    retry_after = STORE_RETRY_AFTER


def store_unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database is unreachable or its connection was lost, not a bug.

    PostgreSQL: any DBAPI OperationalError or InterfaceError (refused or dropped connection,
    "the database system is shutting down / starting up", an administrator's termination), a
    connection SQLAlchemy invalidated, and a pool that had no connection to give in time.
    SQLite: only a locked or unopenable file ("no such table" stays a 500: it is a bug).
    """
    from sqlalchemy import exc as sa

    if isinstance(exc, StoreUnavailable | sa.TimeoutError):
        return True
    if not isinstance(exc, sa.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, sa.OperationalError | sa.InterfaceError):
        return False
    if type(exc.orig).__module__.startswith("sqlite3"):
        text = str(exc.orig).lower()
        return "locked" in text or "unable to open" in text or "disk i/o" in text
    return True


def store_unavailable_problem(lang: str) -> dict[str, Any]:
    """The problem+json body of a 503 while the database is unavailable, in `lang`."""
    from closedloop.i18n import translate

    return {
        "type": "about:blank",
        "title": translate("error.store_unavailable.title", lang),
        "status": 503,
        "detail": translate("error.store_unavailable", lang),
    }
