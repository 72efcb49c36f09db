"""`Idempotency-Key` on state-changing API calls (SPEC section 7): a retry replays the first answer.

The first call with a key claims it (a row without a status), runs, and stores its answer when
it succeeded (2xx); a failed call releases the key so it can be retried. The answer is stored
before it is sent, so a retry arriving the moment the first answer lands replays it. The same key
with a different request answers 422; while the first call still runs, a retry answers 409. A
claim whose call never settled (the store went away mid-call) is abandoned after CLAIM_LEASE and
the same request may claim it again. Keys are per caller (a hash of its credential) and live 24 hours.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from closedloop.api.deps import SAFE_METHODS, SESSION_COOKIE
from closedloop.clock import system_clock
from closedloop.i18n import translate
from closedloop.users.models import IdempotencyKey

log = logging.getLogger(__name__)

HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 200
LIFETIME = timedelta(hours=24)
# Longer than any API call runs (a 1M-row import upload takes well under a minute).
CLAIM_LEASE = timedelta(minutes=10)
API_PREFIX = "/api/v1/"


def _problem(status: int, title: str, detail: str) -> tuple[int, bytes]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return status, json.dumps(body, ensure_ascii=False).encode()


def _credential(headers: dict[bytes, bytes]) -> bytes | None:
    if b"authorization" in headers:
        return headers[b"authorization"]
    for part in headers.get(b"cookie", b"").split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == SESSION_COOKIE.encode() and value:
            return value
    return None


def claim(
    factory: sessionmaker[Session],
    *,
    principal: str,
    key: str,
    method: str,
    path: str,
    request_hash: str,
    now: datetime,
) -> tuple[Any, ...]:
    """Claim `key` for this request: ("new", id), ("replay", status, type, body), ("mismatch",) or ("busy",)."""
    with factory() as session:
        where = (IdempotencyKey.principal_hash == principal, IdempotencyKey.key == key)
        row = session.scalar(select(IdempotencyKey).where(*where))
        if row is None:
            row = IdempotencyKey(
                principal_hash=principal,
                key=key,
                method=method,
                path=path,
                request_hash=request_hash,
                created_at=now,
            )
            session.add(row)
            try:
                session.commit()
                return ("new", row.id)
            except IntegrityError:  # a concurrent retry claimed it first
                session.rollback()
                row = session.scalar(select(IdempotencyKey).where(*where))
                if row is None:
                    return ("busy",)
        if row.created_at < now - LIFETIME:
            row.method, row.path, row.request_hash, row.created_at = method, path, request_hash, now
            row.status_code = row.content_type = row.response_body = None
            session.commit()
            return ("new", row.id)
        if row.request_hash != request_hash:
            return ("mismatch",)
        if row.status_code is None:
            if row.created_at >= now - CLAIM_LEASE:
                return ("busy",)
            row.created_at = now  # abandoned: the call never settled; this retry runs it
            session.commit()
            return ("new", row.id)
        return ("replay", row.status_code, row.content_type, row.response_body)


def settle(
    factory: sessionmaker[Session], row_id: int, status: int, content_type: str | None, body: bytes
) -> None:
    """Store a successful answer, or release the key after a failure so the call can be retried."""
    with factory() as session:
        text = None
        if 200 <= status < 300:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        if text is None:
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))
        else:
            row = session.get(IdempotencyKey, row_id)
            if row is not None:
                row.status_code, row.content_type, row.response_body = status, content_type, text
        session.commit()


class IdempotencyMiddleware:
    """ASGI middleware applying `Idempotency-Key` to POST, PUT, PATCH and DELETE under /api/v1/."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not scope["path"].startswith(API_PREFIX)
            or HEADER not in headers
            or _credential(headers) is None
        ):
            await self.app(scope, receive, send)
            return
        key = headers[HEADER].decode("latin-1").strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            await _send(send, *_problem(422, "Validation failed", translate("api.error.idempotency_key")))
            return
        body = await _read_body(receive)
        digest = hashlib.sha256()
        for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body):
            digest.update(hashlib.sha256(part).digest())
        factory = scope["app"].state.session_factory
        outcome = await run_in_threadpool(
            claim,
            factory,
            principal=hashlib.sha256(_credential(headers) or b"").hexdigest(),
            key=key,
            method=scope["method"],
            path=scope["path"],
            request_hash=digest.hexdigest(),
            now=system_clock(),
        )
        if outcome[0] == "mismatch":
            await _send(send, *_problem(422, "Validation failed", translate("api.error.idempotency_reused")))
            return
        if outcome[0] == "busy":
            await _send(send, *_problem(409, "Conflict", translate("api.error.idempotency_busy")))
            return
        if outcome[0] == "replay":
            _, status, content_type, text = outcome
            await _send(send, status, (text or "").encode(), content_type, replayed=True)
            return
        await self._run(scope, body, send, factory, outcome[1])

    async def _run(self, scope: Scope, body: bytes, send: Send, factory: Any, row_id: int) -> None:
        sent = False

        async def replay_body() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, content_type, chunks = 500, None, []
        held: list[Message] = []  # the answer, sent once it is stored

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = dict(message.get("headers", [])).get(b"content-type", b"").decode() or None
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            held.append(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            try:
                await run_in_threadpool(settle, factory, row_id, status, content_type, b"".join(chunks))
            except Exception:  # the store went away: the claim is abandoned after CLAIM_LEASE
                log.warning("idempotency key %s not settled", row_id, exc_info=True)
        for message in held:
            await send(message)


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _send(
    send: Send, status: int, body: bytes, content_type: str | None = None, replayed: bool = False
) -> None:
    headers = [
        (b"content-type", (content_type or "application/problem+json").encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install(app: Any) -> None:
    """Add the middleware to a Starlette/FastAPI app."""
    app.add_middleware(IdempotencyMiddleware)
