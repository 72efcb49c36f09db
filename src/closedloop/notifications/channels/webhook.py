"""Generic outbound webhooks: JSON signed with HMAC-SHA256 over "timestamp.body".

A receiver checks a delivery like this (and de-duplicates on Idempotency-Key, the same on
every retry of one delivery):

    ts = request.headers["X-Closedloop-Timestamp"]
    expected = "v1=" + hmac.new(secret, ts.encode() + b"." + raw_body, sha256).hexdigest()
    ok = hmac.compare_digest(expected, request.headers["X-Closedloop-Signature"])
    fresh = abs(time.time() - int(ts)) <= 300
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from closedloop.notifications.channels.base import (
    Destination,
    Envelope,
    common_headers,
    json_body,
    require_2xx,
)
from closedloop.notifications.http import HttpResponse, OutboundRequest
from closedloop.notifications.render import Notice

TIMESTAMP_HEADER = "X-Closedloop-Timestamp"
SIGNATURE_HEADER = "X-Closedloop-Signature"
TOPIC_HEADER = "X-Closedloop-Topic"


def signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """`v1=` + hex HMAC-SHA256(key=secret, msg=f"{timestamp}." + body); receivers check the age too."""
    mac = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def payload(notice: Notice, envelope: Envelope) -> dict[str, object]:
    """The event with its delivery id, raw payload and the rendered text."""
    return {
        "id": envelope.delivery_key,
        "event_key": envelope.event_key,
        "topic": notice.topic,
        "event_topic": envelope.topic,
        "created_at": envelope.created_at.isoformat(),
        "language": notice.language,
        "payload": dict(envelope.payload),
        "text": {"title": notice.title, "body": notice.body, "fields": [list(f) for f in notice.facts]},
    }


def build(notice: Notice, destination: Destination, envelope: Envelope, now: datetime) -> OutboundRequest:
    """POST the event with the timestamp and signature headers (unsigned when no secret is set)."""
    body = json_body(payload(notice, envelope))
    timestamp_s = int(now.timestamp())
    headers = {**common_headers(envelope), TIMESTAMP_HEADER: str(timestamp_s), TOPIC_HEADER: notice.topic}
    if destination.secret:
        headers[SIGNATURE_HEADER] = signature(destination.secret, timestamp_s, body)
    return OutboundRequest(str(destination.url), body, headers)


def check(response: HttpResponse) -> None:
    """Any 2xx is delivered."""
    require_2xx(response)
