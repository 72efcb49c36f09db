"""Per-request metrics and the structured request log, as the outermost ASGI middleware.

It sees every answer, including the capture fast path's, and adds an `X-Request-ID` header (the
caller's own when it is a short token, else a new one). Routes are labelled by their template
(`/api/v1/leads/{lead_id}`), so neither metrics nor logs carry ids, emails or query strings.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from closedloop.observability import metrics

log = logging.getLogger("closedloop.request")
CAPTURE_PATH = "/t/events"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class Observe:
    def __init__(self, app: ASGIApp, *, log_requests: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        is_capture = scope["path"] == CAPTURE_PATH and scope["method"] == "POST"
        state: dict[str, Any] = {"status": 500, "body": b""}

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())],
                }
            elif is_capture and message["type"] == "http.response.body" and len(state["body"]) < 4096:
                state["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            duration = time.perf_counter() - started
            status = int(state["status"])
            route = _route(scope)
            metrics.REQUESTS.labels(scope["method"], route, str(status)).inc()
            metrics.LATENCY.labels(scope["method"], route).observe(duration)
            if is_capture:
                _count_capture(status, state["body"])
            if self.log_requests:
                log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                    },
                )


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return str(path)
    if scope["path"] == CAPTURE_PATH:  # answered by the capture fast path, before routing
        return CAPTURE_PATH
    if scope["path"].startswith("/static/"):
        return "/static"
    return "unmatched"


def _count_capture(status: int, body: bytes) -> None:
    if status >= 400:
        metrics.CAPTURE_REQUESTS_REJECTED.labels(str(status)).inc()
        return
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return
    if not isinstance(answer, dict):
        return
    for key, outcome in (
        ("accepted", "accepted"),
        ("duplicates", "duplicate"),
        ("quarantined", "quarantined"),
    ):
        value = answer.get(key)
        if isinstance(value, int) and value > 0:
            metrics.CAPTURE_EVENTS.labels(outcome).inc(value)


def install(app: Any) -> None:
    """Wrap the whole app (call after every other middleware, so this one is outermost)."""
    settings = app.state.settings
    app.add_middleware(Observe, log_requests=settings.log_requests)
