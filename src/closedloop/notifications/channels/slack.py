"""Slack incoming webhooks: Block Kit blocks with a plain-text fallback."""

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

MAX_FIELDS = 10  # Block Kit's limit per section


def escape(text: str) -> str:
    """Slack's mrkdwn escaping, so a lead named `<!channel>` cannot ping everyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(notice: Notice) -> dict[str, object]:
    """The webhook body: header, text, fields, an optional button and a context line."""
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notice.title[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(notice.body)}},
    ]
    if notice.facts:
        fields = [
            {"type": "mrkdwn", "text": f"*{escape(label)}*\n{escape(value)}"}
            for label, value in notice.facts[:MAX_FIELDS]
        ]
        blocks.append({"type": "section", "fields": fields})
    if notice.link:
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": translate("notifications.open", notice.language)},
            "url": notice.link,
        }
        blocks.append({"type": "actions", "elements": [button]})
    footer = translate("notifications.footer", notice.language, topic=notice.topic)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(footer)}]})
    return {"text": escape(f"{notice.title}: {notice.body}"), "blocks": blocks}


def build(notice: Notice, destination: Destination, envelope: Envelope, now: datetime) -> OutboundRequest:
    """POST the blocks to the webhook URL."""
    return OutboundRequest(str(destination.url), json_body(payload(notice)), common_headers(envelope))


def check(response: HttpResponse) -> None:
    """Slack answers 200 `ok`, or 4xx with a reason such as `invalid_payload`."""
    require_2xx(response)
