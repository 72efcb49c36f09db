"""Email over SMTP: plain text and HTML alternatives, attachments, STARTTLS or implicit TLS, login."""

from __future__ import annotations

import base64
import html
import mimetypes
import smtplib
import socket
import ssl
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from closedloop.notifications import urlsafety
from closedloop.notifications.channels.base import DeliveryFailed, Destination, Envelope
from closedloop.notifications.render import Notice

# Attachments may be given by path (a report the worker can read) or inline as base64.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


class _PinnedSMTP(smtplib.SMTP):
    """Connects to the checked address while EHLO, STARTTLS and certificates use the host name."""

    def __init__(self, target: urlsafety.Target, timeout: float, local_hostname: str) -> None:
        self._pinned_address = target.address
        # Given the host name, smtplib keeps it for STARTTLS (SNI, certificate check) and connects.
        super().__init__(target.host, target.port, timeout=timeout, local_hostname=local_hostname)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self._pinned_address, port), timeout)


class _PinnedSMTPSSL(smtplib.SMTP_SSL):
    """Implicit TLS (port 465, common with QQ, 163 and Aliyun mail), pinned like `_PinnedSMTP`."""

    def __init__(
        self, target: urlsafety.Target, timeout: float, local_hostname: str, context: ssl.SSLContext
    ) -> None:
        self._pinned_address = target.address
        super().__init__(
            target.host, target.port, local_hostname=local_hostname, timeout=timeout, context=context
        )

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = socket.create_connection((self._pinned_address, port), timeout)
        return self.context.wrap_socket(sock, server_hostname=host)


def _attachments(payload: Mapping[str, Any]) -> list[tuple[str, str, bytes]]:
    found = []
    for item in payload.get("attachments") or []:
        if not isinstance(item, dict):
            continue
        if item.get("path"):
            path = Path(str(item["path"]))
            if path.stat().st_size > MAX_ATTACHMENT_BYTES:
                raise DeliveryFailed(f"attachment {path.name} is larger than {MAX_ATTACHMENT_BYTES} bytes")
            data, name = path.read_bytes(), str(item.get("filename") or path.name)
        elif item.get("content_base64"):
            data, name = (
                base64.b64decode(str(item["content_base64"])),
                str(item.get("filename") or "attachment"),
            )
        else:
            continue
        content_type = str(
            item.get("content_type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        found.append((name, content_type, data))
    return found


def _html(notice: Notice) -> str:
    rows = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in notice.facts
    )
    link = (
        f"<p><a href='{html.escape(notice.link, quote=True)}'>{html.escape(notice.link)}</a></p>"
        if notice.link
        else ""
    )
    return (
        f"<!doctype html><html lang='{notice.language}'><body><h2>{html.escape(notice.title)}</h2>"
        f"<p>{html.escape(notice.body)}</p><table>{rows}</table>{link}</body></html>"
    )


def build_message(notice: Notice, destination: Destination, envelope: Envelope) -> EmailMessage:
    """The MIME message; its Message-ID derives from the delivery key, so receivers can de-duplicate."""
    message = EmailMessage()
    message["Subject"] = notice.title
    message["From"] = str(destination.config["from"])
    message["To"] = destination.recipient
    message["Date"] = format_datetime(envelope.created_at)
    message["Message-ID"] = f"<{envelope.delivery_key}@closedloop>"
    message["X-Closedloop-Delivery"] = envelope.delivery_key
    message.set_content(notice.plain_text())
    message.add_alternative(_html(notice), subtype="html")
    for name, content_type, data in _attachments(envelope.payload):
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=name)
    # Set last: making the message multipart moves every Content-* header into the first part.
    message["Content-Language"] = notice.language
    return message


def send(
    notice: Notice,
    destination: Destination,
    envelope: Envelope,
    *,
    allowed_prefixes: Iterable[str],
    timeout: float,
    resolver: urlsafety.Resolver = urlsafety.system_resolver,
) -> None:
    """Send through the channel's SMTP relay; the relay's address is checked like any URL."""
    config = destination.config
    starttls = bool(config.get("starttls", False))
    implicit_tls = bool(config.get("tls", False))
    port = int(config.get("port") or (465 if implicit_tls else 587 if starttls else 25))
    target = urlsafety.check(
        f"smtp://{config['host']}:{port}", allowed_prefixes=allowed_prefixes, resolver=resolver
    )
    message = build_message(notice, destination, envelope)
    helo = str(config.get("helo") or "closedloop.localdomain")
    context = ssl.create_default_context(
        cafile=str(config["tls_ca_file"]) if config.get("tls_ca_file") else None
    )
    smtp = (
        _PinnedSMTPSSL(target, timeout, helo, context) if implicit_tls else _PinnedSMTP(target, timeout, helo)
    )
    with smtp:
        if starttls and not implicit_tls:
            smtp.starttls(context=context)
        if config.get("username"):
            smtp.login(str(config["username"]), destination.secret or "")
        refused = smtp.send_message(message, to_addrs=[destination.recipient])
    if refused:
        raise DeliveryFailed(f"recipient refused: {sorted(refused)}")
