"""LINE Messaging API push (Bearer channel token) and LINE WORKS bot messages."""

from __future__ import annotations

import uuid
from datetime import datetime

from closedloop.notifications.channels.base import (
    DeliveryFailed,
    Destination,
    Envelope,
    common_headers,
    json_body,
    require_2xx,
)
from closedloop.notifications.http import HttpResponse, OutboundRequest
from closedloop.notifications.render import Notice

PUSH_URL = "https://api.line.me/v2/bot/message/push"
MAX_TEXT = 5000  # LINE's limit for one text message
_RETRY_NAMESPACE = uuid.UUID("5b0f3c6e-8a51-4d0b-9a33-6f1f0c7e2d10")


def retry_key(delivery_key: str) -> str:
    """LINE's X-Line-Retry-Key must be a UUID: one derived from the delivery key, stable across retries."""
    return str(uuid.uuid5(_RETRY_NAMESPACE, delivery_key))


def push_payload(notice: Notice, to: str) -> dict[str, object]:
    """The push body: `to` (user, group or room id) and one text message."""
    return {"to": to, "messages": [{"type": "text", "text": notice.plain_text()[:MAX_TEXT]}]}


def build(notice: Notice, destination: Destination, envelope: Envelope, now: datetime) -> OutboundRequest:
    """POST a push message with the channel access token."""
    to = destination.recipient or str(destination.config.get("to") or "")
    headers = {
        **common_headers(envelope),
        "Authorization": f"Bearer {destination.secret}",
        "X-Line-Retry-Key": retry_key(envelope.delivery_key),
    }
    return OutboundRequest(destination.url or PUSH_URL, json_body(push_payload(notice, to)), headers)


def check(response: HttpResponse) -> None:
    """200 is sent; 409 with x-line-accepted-request-id means an earlier try with this retry key was."""
    if response.status == 409 and "x-line-accepted-request-id" in response.headers:
        return
    require_2xx(response)


def works_payload(notice: Notice) -> dict[str, object]:
    """LINE WORKS bot message body: one text content."""
    return {"content": {"type": "text", "text": notice.plain_text()[:MAX_TEXT]}}


def build_works(
    notice: Notice, destination: Destination, envelope: Envelope, now: datetime
) -> OutboundRequest:
    """POST to the bot's channel or user message URL (…/bots/{botId}/channels/{channelId}/messages)."""
    if not destination.url:
        raise DeliveryFailed("the LINE WORKS channel has no message URL")
    headers = {**common_headers(envelope), "Authorization": f"Bearer {destination.secret}"}
    return OutboundRequest(destination.url, json_body(works_payload(notice)), headers)


def check_works(response: HttpResponse) -> None:
    """LINE WORKS answers 201 Created."""
    require_2xx(response)
