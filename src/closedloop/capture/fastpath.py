"""A lighter path for the common capture request: a valid batch from an allowed origin.

`POST /t/events` is by far the busiest request. This ASGI middleware sits outside the app's
other middleware and answers the common case itself: read the body (within the size limit),
parse it, check the site, origin and rate limits, hand the events to the group writer and
answer once they are committed, exactly as the route does. Anything else (a rejected event,
a bad key or origin, malformed or oversized input, an Idempotency-Key header) is passed to the
full route with the body replayed, so the route stays the one place for error answers and
quarantine. Requests the fast path lets through are never charged to the rate limits twice.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from closedloop.capture import service as capture_service
from closedloop.capture.events import VISITOR_ID, BatchError, parse_batch
from closedloop.capture.writer import Job
from closedloop.clock import system_clock
from closedloop.errors import (
    STORE_RETRY_AFTER,
    StoreUnavailable,
    store_unavailable,
    store_unavailable_problem,
)
from closedloop.i18n import normalise_language

PATH = "/t/events"
COOKIE = b"cl_vid"
COOKIE_MAX_AGE = 400 * 24 * 3600
_BASE_HEADERS = (
    (b"content-type", b"application/json"),
    (b"vary", b"Origin"),
    (b"access-control-allow-credentials", b"true"),
    (b"x-content-type-options", b"nosniff"),
)


class CaptureFastPath:
    """ASGI middleware answering valid `/t/events` batches without the framework's full stack."""

    def __init__(self, app: ASGIApp, *, owner: Any) -> None:
        self.app = app
        self.owner = owner  # the FastAPI app, whose state holds the capture state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        await self._events(scope, receive, send)

    async def _events(self, scope: Scope, receive: Receive, send: Send) -> None:
        from closedloop.capture.router import state_for

        state = state_for(self.owner)
        settings = state.settings
        headers = dict(scope["headers"])
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its events
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            more = message.get("more_body", False)
            if size > settings.max_body_bytes:
                await self._full(scope, chunks, more, receive, send)
                return
        raw = b"".join(chunks)
        answer = self._try(scope, headers, raw, state)
        if answer is None:
            await self._full(scope, chunks, False, receive, send)
            return
        await answer(send)

    def _try(
        self, scope: Scope, headers: dict[bytes, bytes], raw: bytes, state: Any
    ) -> Callable[[Send], Awaitable[None]] | None:
        """The answer of a common request, or None to let the full route handle it."""
        if b"idempotency-key" in headers:
            return None
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(body, dict):
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        key = dict(parse_qsl(query)).get("k") if query else None
        key = key or body.get("k")
        if not isinstance(key, str) or not key:
            return None
        try:
            site = state.site(key)
        except Exception as exc:
            if store_unavailable(exc):
                return None  # the route looks again and answers 503 (the app's handler)
            raise
        origin_bytes = headers.get(b"origin")
        origin = origin_bytes.decode("latin-1") if origin_bytes else None
        if site is None or not capture_service.origin_allowed(site.origins, origin):
            return None
        received_at = system_clock()
        try:
            parsed = parse_batch(body, now=received_at, max_events=state.settings.max_batch)
        except BatchError:
            return None
        if parsed.rejected:
            return None
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        if state.limiter.check(key=key, ip=ip, cost=max(1, len(parsed.events))):
            return None  # the route answers 429 (it checks again: a refused request spent nothing)
        vid = body.get("vid")
        cookie = _cookie(headers, vid if isinstance(vid, str) else None, state.settings, scope)
        job = Job(site.id, parsed.events, (), received_at)
        assert origin is not None

        async def answer(send: Send) -> None:
            try:
                flags = await state.writer.write(job)
            except StoreUnavailable:
                await _unavailable(send, origin, headers)
                return
            accepted = sum(flags)
            payload = json.dumps(
                {"accepted": accepted, "duplicates": len(flags) - accepted, "quarantined": 0},
                separators=(",", ":"),
            ).encode()
            out = [
                *_BASE_HEADERS,
                (b"content-length", str(len(payload)).encode()),
                (b"access-control-allow-origin", origin.encode("latin-1")),
            ]
            if cookie is not None:
                out.append((b"set-cookie", cookie))
            await send({"type": "http.response.start", "status": 200, "headers": out})
            await send({"type": "http.response.body", "body": payload})

        return answer

    async def _full(
        self, scope: Scope, chunks: list[bytes], more: bool, receive: Receive, send: Send
    ) -> None:
        """Run the full app with the body read so far replayed before the rest of the stream."""
        pending = [b"".join(chunks)]

        async def replay() -> Message:
            if pending:
                return {"type": "http.request", "body": pending.pop(), "more_body": more}
            if more:
                return await receive()
            return {"type": "http.request", "body": b"", "more_body": False}

        await self.app(scope, replay, send)


async def _unavailable(send: Send, origin: str, headers: dict[bytes, bytes]) -> None:
    """503 problem+json with Retry-After: the database is down; the snippet sends the batch again."""
    lang = normalise_language(headers.get(b"accept-language", b"").decode("latin-1").split(",")[0])
    payload = json.dumps(store_unavailable_problem(lang), ensure_ascii=False).encode()
    out = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(payload)).encode()),
        (b"retry-after", str(STORE_RETRY_AFTER).encode()),
        (b"cache-control", b"no-store"),
        (b"vary", b"Origin"),
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": out})
    await send({"type": "http.response.body", "body": payload})


def _cookie(headers: dict[bytes, bytes], vid: str | None, settings: Any, scope: Scope) -> bytes | None:
    """The first-party visitor cookie to set, unless the browser already sent this one."""
    if not vid or not settings.set_cookie or not VISITOR_ID.match(vid):
        return None
    sent = headers.get(b"cookie", b"")
    wanted = COOKIE + b"=" + vid.encode()
    if sent and any(part.strip() == wanted for part in sent.split(b";")):
        return None
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    return f"cl_vid={vid}; Max-Age={COOKIE_MAX_AGE}; Path=/; SameSite=Lax{secure}".encode("latin-1")


def install(app: Any) -> None:
    """Put the fast path outside every other middleware of `app` (call it last)."""
    app.add_middleware(CaptureFastPath, owner=app)
