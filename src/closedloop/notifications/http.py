"""HTTP POST to a checked address: the Host and TLS name stay the URL's, redirects are not followed."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from closedloop.notifications import urlsafety

MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class OutboundRequest:
    """A request a channel builds: pure data, so payloads and signatures are testable offline."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpResponse:
    """What came back (headers lower-cased, body capped)."""

    status: int
    headers: dict[str, str]
    body: bytes

    def text(self, limit: int = 300) -> str:
        return self.body[:limit].decode("utf-8", errors="replace")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: urlsafety.Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: urlsafety.Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(
    request: OutboundRequest,
    *,
    allowed_prefixes: Iterable[str],
    timeout: float = 10.0,
    resolver: urlsafety.Resolver = urlsafety.system_resolver,
    tls_context: ssl.SSLContext | None = None,
) -> HttpResponse:
    """POST `request` after the URL check; raises UnsafeDestination or OSError."""
    target = urlsafety.check(request.url, allowed_prefixes=allowed_prefixes, resolver=resolver)
    parts = urlsplit(request.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if target.scheme == "https":
        context = tls_context or ssl.create_default_context()
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(target, timeout, context)
    elif target.scheme == "http":
        connection = _PinnedHTTPConnection(target, timeout)
    else:
        raise urlsafety.UnsafeDestination(f"scheme {target.scheme!r} is not HTTP")
    headers = {"User-Agent": "closedloop-notifier/1", **request.headers}
    try:
        connection.request("POST", path, body=request.body, headers=headers)
        response = connection.getresponse()
        body = response.read(MAX_RESPONSE_BYTES)
        return HttpResponse(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=body,
        )
    finally:
        connection.close()
