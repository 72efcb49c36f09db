"""Email through real aiosmtpd servers: a report with its PDF attached, and STARTTLS with login."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import random
import ssl
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.integration.notifications.receivers import SmtpSink, free_port

from closedloop.db import unit_of_work
from closedloop.notifications import service
from closedloop.outbox import service as outbox
from closedloop.outbox.models import OutboxMessage
from closedloop.outbox.worker import Worker
from closedloop.users.actor import system_actor
from closedloop.users.models import User

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"
ADMIN = system_actor("cli")
NOW = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
PDF = b"%PDF-1.4\n% closedloop weekly review\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def test_report_ready_email_with_pdf_attachment(store, smtp_sink, tmp_path: Path):
    sink, port = smtp_sink
    report = tmp_path / "weekly-2026-W48.pdf"
    report.write_bytes(PDF)
    with unit_of_work(store.session_factory) as s:
        service.allow_url(session=s, url_prefix=f"smtp://127.0.0.1:{port}", actor=ADMIN)
        mail = service.add_channel(
            session=s,
            name="mail",
            kind="email",
            secret_key=SECRET_KEY,
            actor=ADMIN,
            config={
                "host": "127.0.0.1",
                "port": port,
                "from": "closedloop@example.com",
                "to": "ops@example.com",
            },
        )
        manager = User(email="manager@example.com", name="陳經理", role="manager", language="zh-CN")
        s.add(manager)
        s.flush()
        service.subscribe(session=s, channel_id=mail.id, topic="report_ready", actor=ADMIN)
        service.subscribe(
            session=s, channel_id=mail.id, topic="report_ready", user_id=manager.id, actor=ADMIN
        )
        outbox.enqueue(
            s,
            topic="report.ready",
            idempotency_key="report.ready:weekly:2026-W48",
            clock=lambda: NOW,
            payload={
                "report_kind": "weekly",
                "period": "2026-W48",
                "attachments": [{"path": str(report), "content_type": "application/pdf"}],
            },
        )
    worker = Worker(
        session_factory=store.session_factory, secret_key=SECRET_KEY, clock=lambda: NOW, rng=random.Random(0)
    )
    stats = worker.drain()
    assert (stats.sent, stats.failed) == (2, 0)
    with store.session() as s:
        assert s.query(OutboxMessage).one().status == "delivered"

    by_rcpt = {
        tuple(rcpts): email.message_from_bytes(raw, policy=policy.default) for rcpts, raw in sink.messages
    }
    assert set(by_rcpt) == {("ops@example.com",), ("manager@example.com",)}
    ops, manager_mail = by_rcpt[("ops@example.com",)], by_rcpt[("manager@example.com",)]
    assert ops["Subject"] == "Report ready: weekly review pack"
    assert manager_mail["Subject"] == "报告已生成:每周复盘材料"
    assert manager_mail["To"] == "manager@example.com"
    assert manager_mail["Message-ID"] != ops["Message-ID"]
    for message in (ops, manager_mail):
        assert message["From"] == "closedloop@example.com"
        assert message.is_multipart()
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_filename() == "weekly-2026-W48.pdf"
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content() == PDF
    text = manager_mail.get_body(preferencelist=("plain",)).get_content()
    assert "2026-W48 的每周复盘材料已生成。" in text
    html = manager_mail.get_body(preferencelist=("html",)).get_content()
    assert "<h2>报告已生成:每周复盘材料</h2>" in html


def _tls_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "closedloop test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_path, cert_path, key_path


def test_starttls_and_login(sqlite_store, tmp_path: Path):
    ca_path, cert_path, key_path = _tls_files(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_path, key_path)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"smtp-pass-Q7")

    sink = SmtpSink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    try:
        with unit_of_work(sqlite_store.session_factory) as s:
            service.allow_url(session=s, url_prefix=f"smtp://127.0.0.1:{port}", actor=ADMIN)
            mail = service.add_channel(
                session=s,
                name="relay",
                kind="email",
                secret="smtp-pass-Q7",
                secret_key=SECRET_KEY,
                actor=ADMIN,
                config={
                    "host": "127.0.0.1",
                    "port": port,
                    "from": "bot@example.com",
                    "to": ["a@example.com"],
                    "starttls": True,
                    "username": "bot",
                    "tls_ca_file": str(ca_path),
                },
            )
            service.subscribe(session=s, channel_id=mail.id, topic="*", actor=ADMIN)
            outbox.enqueue(
                s,
                topic="deal.won",
                idempotency_key="deal.won:1",
                clock=lambda: NOW,
                payload={"deal_name": "ACME 年約", "amount_minor": 120000000, "currency": "TWD"},
            )
        worker = Worker(
            session_factory=sqlite_store.session_factory, secret_key=SECRET_KEY, clock=lambda: NOW
        )
        assert worker.drain().sent == 1
    finally:
        controller.stop()
    assert logins == [(b"bot", b"smtp-pass-Q7")]
    ((rcpts, raw),) = sink.messages
    assert rcpts == ["a@example.com"]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Deal won: ACME 年約"
    assert "TWD 1,200,000.00" in message.get_body(preferencelist=("plain",)).get_content()


def test_implicit_tls_port(sqlite_store, tmp_path: Path):
    ca_path, cert_path, key_path = _tls_files(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_path, key_path)
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=server_tls)
    controller.start()
    try:
        with unit_of_work(sqlite_store.session_factory) as s:
            service.allow_url(session=s, url_prefix=f"smtp://127.0.0.1:{port}", actor=ADMIN)
            mail = service.add_channel(
                session=s,
                name="smtps",
                kind="email",
                secret_key=SECRET_KEY,
                actor=ADMIN,
                config={
                    "host": "127.0.0.1",
                    "port": port,
                    "from": "bot@example.com",
                    "to": "b@example.com",
                    "tls": True,
                    "tls_ca_file": str(ca_path),
                },
            )
            service.subscribe(
                session=s, channel_id=mail.id, topic="sla_breached", language="zh-TW", actor=ADMIN
            )
            outbox.enqueue(
                s,
                topic="sla.breached",
                idempotency_key="sla.breached:first_response:3",
                clock=lambda: NOW,
                payload={
                    "lead_name": "王小明",
                    "kind": "first_response",
                    "due_at": "2026-11-30T01:00:00+00:00",
                },
            )
        worker = Worker(
            session_factory=sqlite_store.session_factory, secret_key=SECRET_KEY, clock=lambda: NOW
        )
        assert worker.drain().sent == 1
    finally:
        controller.stop()
    ((rcpts, raw),) = sink.messages
    assert rcpts == ["b@example.com"]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "SLA 已逾時:王小明"
    assert (
        "首次回應期限已於 2026-11-30 09:00 (Asia/Taipei) 逾時" in message.get_body(("plain",)).get_content()
    )
