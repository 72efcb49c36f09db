"""One module per channel; `deliver` sends one notice to one destination."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from closedloop.notifications import http, urlsafety
from closedloop.notifications.channels import dingtalk, email, feishu, line, slack, teams, webhook, wecom
from closedloop.notifications.channels.base import DeliveryFailed, Destination, Envelope
from closedloop.notifications.render import Notice

Build = Callable[[Notice, Destination, Envelope, datetime], http.OutboundRequest]
Check = Callable[[http.HttpResponse], None]

HTTP_CHANNELS: dict[str, tuple[Build, Check]] = {
    "slack": (slack.build, slack.check),
    "teams": (teams.build, teams.check),
    "line": (line.build, line.check),
    "line_works": (line.build_works, line.check_works),
    "wecom": (wecom.build, wecom.check),
    "dingtalk": (dingtalk.build, dingtalk.check),
    "feishu": (feishu.build, feishu.check),
    "webhook": (webhook.build, webhook.check),
}
# What a channel of each kind must be given: "url", "secret" or a config key.
REQUIRED: dict[str, tuple[str, ...]] = {
    "slack": ("url",),
    "teams": ("url",),
    "line": ("secret",),
    "line_works": ("url", "secret"),
    "wecom": ("url",),
    "dingtalk": ("url",),
    "feishu": ("url",),
    "webhook": ("url",),
    "email": ("host", "from"),
}

__all__ = ["REQUIRED", "DeliveryFailed", "Destination", "Envelope", "deliver"]


def deliver(
    notice: Notice,
    destination: Destination,
    envelope: Envelope,
    *,
    now: datetime,
    allowed_prefixes: Iterable[str],
    timeout: float = 10.0,
    resolver: urlsafety.Resolver = urlsafety.system_resolver,
) -> int | None:
    """Send; returns the HTTP status (None for email) or raises on any failure."""
    prefixes = list(allowed_prefixes)
    if destination.kind == "email":
        email.send(
            notice, destination, envelope, allowed_prefixes=prefixes, timeout=timeout, resolver=resolver
        )
        return None
    build, check = HTTP_CHANNELS[destination.kind]
    request = build(notice, destination, envelope, now)
    response = http.post(request, allowed_prefixes=prefixes, timeout=timeout, resolver=resolver)
    check(response)
    return response.status
