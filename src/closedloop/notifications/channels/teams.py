"""Microsoft Teams through a Workflows webhook URL: an Adaptive Card in a message attachment."""

from __future__ import annotations

from datetime import datetime

from closedloop.i18n import translate
from closedloop.notifications.channels.base import (
    Destination,
    Envelope,
    common_headers,
    json_body,
    require_2xx,
)
from closedloop.notifications.http import HttpResponse, OutboundRequest
from closedloop.notifications.render import Notice

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


def card(notice: Notice) -> dict[str, object]:
    """The Adaptive Card (schema 1.4, the version Teams renders)."""
    body: list[dict[str, object]] = [
        {"type": "TextBlock", "text": notice.title, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": notice.body, "wrap": True},
    ]
    if notice.facts:
        body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in notice.facts]})
    document: dict[str, object] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "lang": notice.language,
        "body": body,
    }
    if notice.link:
        open_label = translate("notifications.open", notice.language)
        document["actions"] = [{"type": "Action.OpenUrl", "title": open_label, "url": notice.link}]
    return document


def payload(notice: Notice) -> dict[str, object]:
    """The message envelope the Workflows "post to a channel when a webhook request is received" reads."""
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card(notice)}],
    }


def build(notice: Notice, destination: Destination, envelope: Envelope, now: datetime) -> OutboundRequest:
    """POST the card to the Workflows URL."""
    return OutboundRequest(str(destination.url), json_body(payload(notice)), common_headers(envelope))


def check(response: HttpResponse) -> None:
    """Workflows answers 202 Accepted (200 on older connectors)."""
    require_2xx(response)
