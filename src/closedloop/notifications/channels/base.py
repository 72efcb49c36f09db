"""What every channel receives and returns: pure data, so payloads and signatures test offline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from closedloop.notifications.http import HttpResponse


class DeliveryFailed(Exception):
    """The receiver refused or failed the delivery; the message never contains secrets."""

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        # Seconds the receiver asked us to wait (Retry-After on 429 and 503).
        self.retry_after = retry_after


@dataclass(frozen=True)
class Destination:
    """A decrypted channel and one recipient on it."""

    kind: str
    url: str | None
    secret: str | None
    config: Mapping[str, Any] = field(default_factory=dict)
    recipient: str = ""


@dataclass(frozen=True)
class Envelope:
    """The delivery's identity: its stable key, the event's key, topic and payload."""

    delivery_key: str
    event_key: str
    topic: str
    payload: Mapping[str, Any]
    created_at: datetime


def json_body(document: object) -> bytes:
    """Compact UTF-8 JSON (Chinese text stays readable on the wire)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def common_headers(envelope: Envelope) -> dict[str, str]:
    """JSON content type and the idempotency headers every HTTP delivery carries."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": envelope.delivery_key,
        "X-Closedloop-Delivery": envelope.delivery_key,
    }


def require_2xx(response: HttpResponse) -> None:
    """Fail on anything but a 2xx status."""
    if not 200 <= response.status < 300:
        wait = response.headers.get("retry-after", "").strip()
        raise DeliveryFailed(
            f"HTTP {response.status}: {response.text(200)}",
            status_code=response.status,
            retry_after=float(wait) if response.status in (429, 503) and wait.isdigit() else None,
        )


def require_json_code(response: HttpResponse, *keys: str) -> None:
    """Robots answer 200 with an error code in the body: fail unless the first key present is 0."""
    require_2xx(response)
    try:
        document = json.loads(response.body or b"{}")
    except ValueError as exc:
        raise DeliveryFailed(f"HTTP {response.status}: not JSON: {response.text(200)}") from exc
    for key in keys:
        if isinstance(document, dict) and key in document:
            if document[key] in (0, "0"):
                return
            raise DeliveryFailed(f"{key} {document[key]}: {str(document)[:200]}", status_code=response.status)
    raise DeliveryFailed(f"HTTP {response.status}: no {'/'.join(keys)} in {response.text(200)}")
