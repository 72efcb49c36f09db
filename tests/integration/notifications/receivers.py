"""Real local receivers for notification tests: an HTTP server in a thread and an SMTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    """One request as the receiver saw it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[Received], tuple[int, bytes]]


def default_responder(request: Received) -> tuple[int, bytes]:
    """What each real service answers on success."""
    if request.path.startswith(("/dingtalk", "/wecom")):
        return 200, b'{"errcode":0,"errmsg":"ok"}'
    if request.path.startswith("/feishu"):
        return 200, b'{"code":0,"msg":"success","data":{}}'
    if request.path.startswith("/teams"):
        return 202, b""
    if request.path.startswith("/works"):
        return 201, b""
    if request.path.startswith("/slack"):
        return 200, b"ok"
    return 200, b"{}"


@dataclass
class HttpReceiver:
    """Records every request; counts each idempotency key once (an idempotent receiver)."""

    responder: Responder = default_responder
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    unique: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Received(
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                )
                with receiver.lock:
                    receiver.requests.append(request)
                    receiver.in_flight += 1
                try:
                    if receiver.delay:
                        time.sleep(receiver.delay)
                    status, body = receiver.responder(request)
                    key = request.headers.get("idempotency-key")
                    if 200 <= status < 300 and key:
                        with receiver.lock:
                            # De-duplication: a key already seen is acknowledged, not counted again.
                            receiver.unique[key] = 1
                    self.send_response(status)
                    for name, value in receiver.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with receiver.lock:
                        receiver.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted for delivery"
