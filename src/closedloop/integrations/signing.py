"""Inbound signature check: HMAC-SHA256 over "timestamp.body", five minutes of clock skew at most.

The same scheme closedloop signs its own outbound webhooks with, so one verifier serves both.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

from closedloop.errors import Unauthenticated
from closedloop.i18n import translate
from closedloop.notifications.channels.webhook import signature

TOLERANCE = timedelta(minutes=5)


def verify(
    *,
    secret: str,
    timestamp: str | None,
    signatures: str | None,
    body: bytes,
    now: datetime,
    tolerance: timedelta = TOLERANCE,
) -> datetime:
    """The signing time if a `v1=` signature matches and the timestamp is within `tolerance` of now.

    The signature header may list several (`v1=…,v1=…`) while a secret is being rotated.
    """
    if not timestamp or not timestamp.strip().isdigit():
        raise Unauthenticated(translate("integrations.error.bad_timestamp"))
    seconds = int(timestamp.strip())
    signed_at = datetime.fromtimestamp(seconds, UTC)
    if abs(now - signed_at) > tolerance:
        raise Unauthenticated(translate("integrations.error.stale"))
    expected = signature(secret, seconds, body)
    offered = [part.strip() for part in (signatures or "").split(",") if part.strip()]
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise Unauthenticated(translate("integrations.error.bad_signature"))
    return signed_at
