"""DingTalk (釘釘) group robot with the "加簽" signature: timestamp and sign as query parameters."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from urllib.parse import quote_plus

from closedloop.notifications.channels.base import (
    Destination,
    Envelope,
    common_headers,
    json_body,
    require_json_code,
)
from closedloop.notifications.http import HttpResponse, OutboundRequest
from closedloop.notifications.render import Notice


def sign(timestamp_ms: int, secret: str) -> str:
    """URL-encoded base64(HMAC-SHA256(key=secret, msg="timestamp\\nsecret"))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def signed_url(url: str, secret: str | None, now: datetime) -> str:
    """The webhook URL (…/robot/send?access_token=…) with &timestamp=…&sign=… when a secret is set."""
    if not secret:
        return url
    timestamp_ms = int(now.timestamp() * 1000)
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={sign(timestamp_ms, secret)}"


def payload(notice: Notice) -> dict[str, object]:
    """A markdown message: the title shows in the conversation list, the text in the chat."""
    lines = [f"#### {notice.title}", "", notice.body, ""]
    lines += [f"- **{label}**: {value}" for label, value in notice.facts]
    if notice.link:
        lines += ["", f"[{notice.link}]({notice.link})"]
    return {"msgtype": "markdown", "markdown": {"title": notice.title, "text": "\n".join(lines)}}


def build(notice: Notice, destination: Destination, envelope: Envelope, now: datetime) -> OutboundRequest:
    """POST the markdown to the signed URL (DingTalk refuses a timestamp over an hour off)."""
    url = signed_url(str(destination.url), destination.secret, now)
    return OutboundRequest(url, json_body(payload(notice)), common_headers(envelope))


def check(response: HttpResponse) -> None:
    """DingTalk answers 200 with errcode 0 (310000 is a bad signature)."""
    require_json_code(response, "errcode")
