"""Report packs by email: the worker's scheduled job renders each due pack as PDF and a real aiosmtpd
relay (STARTTLS) receives it, in each recipient's language, once per period however often the job runs.

The clock is Monday 2026-03-16 12:00 in Taipei, so the weekly pack covers week 11 (2026-03-09..15) of
the hand-built history in conftest.py: pipeline created 4,000 TWD, win rate 100.0% (50.0% the week before).
"""

from __future__ import annotations

import email
import random
import shutil
import ssl
import subprocess
from datetime import UTC, datetime, timedelta
from email import policy as email_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from tests.integration.notifications.receivers import SmtpSink, free_port
from tests.integration.notifications.test_notify_email import _tls_files

from closedloop.notifications import service as notify
from closedloop.outbox.models import OutboxMessage
from closedloop.outbox.worker import Worker, default_jobs
from closedloop.reports import subscriptions
from closedloop.users.actor import system_actor
from closedloop.users.models import Team, User

SECRET_KEY = "k7Qp2vX9mZr4Lb8NwT3yHd6JfC1sGa5E"
ADMIN = system_actor("cli")
NOW = datetime(2026, 3, 16, 4, 0, tzinfo=UTC)


def _pdf_text(data: bytes, tmp_path: Path, name: str) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / name
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip


def _jobs() -> list:
    return default_jobs(breaches_every=timedelta(days=1), rescore_every=timedelta(days=1),
                        predictive_every=timedelta(days=1), reports_every=timedelta(0))  # fmt: skip


def test_weekly_pack_arrives_as_pdf_in_each_recipients_language_once(history, tmp_path) -> None:
    store, session = history["store"], history["session"]
    ca_path, cert_path, key_path = _tls_files(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_path, key_path)
    sink, port = SmtpSink(), free_port()
    controller = Controller(
        sink, hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True
    )
    controller.start()
    try:
        notify.allow_url(session=session, url_prefix=f"smtp://127.0.0.1:{port}", actor=ADMIN)
        relay = notify.add_channel(session=session, name="relay", kind="email", secret_key=SECRET_KEY, actor=ADMIN,
                                   config={"host": "127.0.0.1", "port": port, "from": "reports@corp.example",
                                           "starttls": True, "tls_ca_file": str(ca_path)})  # fmt: skip
        north = Team(name="North")
        session.add(north)
        session.flush()
        session.add_all([
            User(email="lin@corp.example", role="sales", team_id=north.id, language="en"),
            User(email="gone@corp.example", role="sales", team_id=north.id, is_active=False),
        ])  # fmt: skip
        manager = session.get(User, history["manager"])
        mine = subscriptions.subscribe(session=session, actor=ADMIN, report="weekly", language="zh-TW",
                                       user_id=manager.id)  # fmt: skip
        team = subscriptions.subscribe(session=session, actor=ADMIN, report="weekly", language="zh-CN",
                                       team_id=north.id, channel_id=relay.id)  # fmt: skip
        again = subscriptions.subscribe(session=session, actor=ADMIN, report="weekly", language="zh-TW",
                                        user_id=manager.id)  # fmt: skip
        assert again.id == mine.id
        session.commit()

        worker = Worker(session_factory=store.session_factory, secret_key=SECRET_KEY, clock=lambda: NOW,
                        rng=random.Random(0))  # fmt: skip
        stats = worker.run(once=True, jobs=_jobs())
        assert (stats.messages, stats.sent, stats.failed) == (2, 2, 0)
        # The job runs again (another worker, a restart): the period is written once, nothing new is sent.
        assert worker.run(once=True, jobs=_jobs()).messages == 0
    finally:
        controller.stop()

    with store.session() as s:
        keys = sorted(s.scalars(select(OutboxMessage.idempotency_key)))
        assert keys == [f"report:{mine.id}:2026-03-15", f"report:{team.id}:2026-03-15"]
    mails = {
        tuple(rcpts): email.message_from_bytes(raw, policy=email_policy.default)
        for rcpts, raw in sink.messages
    }
    assert set(mails) == {("manager@example.com",), ("lin@corp.example",)}  # not the inactive member
    expected = {
        ("manager@example.com",): ("zh-TW", "報告已完成:每週檢討簡報", "每週行銷業務檢討資料", "資料截至"),
        ("lin@corp.example",): ("zh-CN", "报告已生成:每周复盘材料", "每周市场销售复盘资料", "数据截至"),
    }
    for rcpt, (lang, subject, heading, as_of_label) in expected.items():
        message = mails[rcpt]
        assert message["Subject"] == subject and message["From"] == "reports@corp.example"
        assert message["Content-Language"] == lang
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == f"closedloop-weekly-2026-03-15-{lang}.pdf"
        text = _pdf_text(attachment.get_content(), tmp_path, f"{lang}.pdf")
        assert heading in text and as_of_label in text
        for figure in ("4,000 TWD", "100.0%", "50.0%", "2026-03-09", "2026-03-15"):
            assert figure in text, (lang, figure)
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "2026-03-09 – 2026-03-15" in body


def test_who_may_subscribe_whom(history) -> None:
    from closedloop.errors import Forbidden, ValidationFailed
    from closedloop.users.service import actor_for

    session = history["session"]
    with pytest.raises(ValidationFailed):  # no email channel yet
        subscriptions.subscribe(session=session, actor=ADMIN, report="weekly", language="en",
                                user_id=history["ae"])  # fmt: skip
    notify.add_channel(session=session, name="relay", kind="email", secret_key=SECRET_KEY, actor=ADMIN,
                       config={"host": "mail.corp.example", "from": "reports@corp.example"})  # fmt: skip
    team = Team(name="South")
    session.add(team)
    session.flush()
    ae = actor_for(session.get(User, history["ae"]), via="api")
    own = subscriptions.subscribe(
        session=session, actor=ae, report="monthly", language="en", user_id=history["ae"]
    )
    assert own.schedule == "monthly"
    with pytest.raises(Forbidden):  # someone else
        subscriptions.subscribe(
            session=session, actor=ae, report="weekly", language="en", user_id=history["manager"]
        )
    with pytest.raises(Forbidden):  # a team is a leader's call
        subscriptions.subscribe(session=session, actor=ae, report="weekly", language="en", team_id=team.id)
    with pytest.raises(ValidationFailed):
        subscriptions.subscribe(
            session=session, actor=ae, report="daily", language="en", user_id=history["ae"]
        )
    boss = actor_for(session.get(User, history["manager"]), via="api")
    subscriptions.subscribe(session=session, actor=boss, report="weekly", language="zh-TW", team_id=team.id)
    assert [s.id for s in subscriptions.visible(session, ae)] == [own.id]
    assert len(subscriptions.visible(session, boss)) == 2
