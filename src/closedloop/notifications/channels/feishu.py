"""Feishu / Lark (飛書) custom bot with signature verification: timestamp and sign in the body."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from closedloop.i18n import translate
from closedloop.notifications.channels.base import (
    Destination,
    Envelope,
    common_headers,
    json_body,
    require_json_code,
)
from closedloop.notifications.http import HttpResponse, OutboundRequest
from closedloop.notifications.render import Notice


def sign(timestamp_s: int, secret: str) -> str:
    """base64(HMAC-SHA256(key="timestamp\\nsecret", msg="")): Feishu's scheme keys the HMAC, not the message."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def card(notice: Notice) -> dict[str, object]:
    """An interactive card: a header, the body and fields as lark_md, and a button to the link."""
    lines = [notice.body, ""] + [f"**{label}**: {value}" for label, value in notice.facts]
    elements: list[dict[str, object]] = [
        {"tag": "div", "text": {"tag": "lark_md", "content": "\n".join(lines)}}
    ]
    if notice.link:
        button = {
            "tag": "button",
            "text": {"tag": "plain_text", "content": translate("notifications.open", notice.language)},
            "url": notice.link,
            "type": "primary",
        }
        elements.append({"tag": "action", "actions": [button]})
    return {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": notice.title}, "template": "blue"},
        "elements": elements,
    }


def payload(notice: Notice, secret: str | None, now: datetime) -> dict[str, object]:
    """The bot body, with timestamp (seconds, as a string) and sign when a secret is set."""
    document: dict[str, object] = {"msg_type": "interactive", "card": card(notice)}
    if secret:
        timestamp_s = int(now.timestamp())
        document = {"timestamp": str(timestamp_s), "sign": sign(timestamp_s, secret), **document}
    return document


def build(notice: Notice, destination: Destination, envelope: Envelope, now: datetime) -> OutboundRequest:
    """POST to https://open.feishu.cn/open-apis/bot/v2/hook/…"""
    body = json_body(payload(notice, destination.secret, now))
    return OutboundRequest(str(destination.url), body, common_headers(envelope))


def check(response: HttpResponse) -> None:
    """Feishu answers 200 with code 0 (older bots: StatusCode 0); 19021 is a bad signature."""
    require_json_code(response, "code", "StatusCode")
