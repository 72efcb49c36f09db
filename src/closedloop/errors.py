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
