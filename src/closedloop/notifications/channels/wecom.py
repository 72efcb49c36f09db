"""WeCom (企業微信) group robot: msgtype markdown to the webhook URL with its key."""

from __future__ import annotations

from datetime import datetime

from closedloop.notifications.channels.base import (
    Destination,
    Envelope,
    common_headers,
    json_body,
    require_json_code,
)
from closedloop.notifications.http import HttpResponse, OutboundRequest
from closedloop.notifications.render import Notice

MAX_BYTES = 4096  # WeCom's markdown content limit, in UTF-8 bytes


def markdown(notice: Notice) -> str:
    """WeCom markdown: a bold title, the body, quoted fields and a link."""
    lines = [f"**{notice.title}**", notice.body]
    lines += [f'> {label}: <font color="comment">{value}</font>' for label, value in notice.facts]
    if notice.link:
        lines.append(f"[{notice.link}]({notice.link})")
    text = "\n".join(lines).encode("utf-8")[:MAX_BYTES]
    return text.decode("utf-8", errors="ignore")


def payload(notice: Notice) -> dict[str, object]:
    """The robot body."""
    return {"msgtype": "markdown", "markdown": {"content": markdown(notice)}}


def build(notice: Notice, destination: Destination, envelope: Envelope, now: datetime) -> OutboundRequest:
    """POST to https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"""
    return OutboundRequest(str(destination.url), json_body(payload(notice)), common_headers(envelope))


def check(response: HttpResponse) -> None:
    """WeCom answers 200 with errcode 0, or an errcode saying what was wrong."""
    require_json_code(response, "errcode")
