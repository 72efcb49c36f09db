"""Two server processes and the worker on PostgreSQL: shared sessions and metrics, and crashes.

`closedloop serve --workers 2` runs as users run it. A browser-style sign-in made on one process
holds on the other; `/metrics` adds up both processes' counters. Then one server process and the
worker are killed (SIGKILL) in the middle of a load: every capture event the server acknowledged
is stored exactly once (clients resend what was not acknowledged, with the same event ids), and
every notification reaches the receiver under its idempotency key, each message delivered once
by the outbox (a redelivery after the crash repeats the same key and body).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from sqlalchemy import func, select
from tests.e2e.conftest import start_server, stop_server

from closedloop.capture import service as capture_service
from closedloop.db import unit_of_work
from closedloop.marketing.models import Touchpoint
from closedloop.outbox.models import OutboxMessage
from closedloop.users import service as users
from closedloop.users.actor import system_actor

ORIGIN = "https://www.multi.example.com"
PASSWORD = "multi-process-" + secrets.token_urlsafe(12)
SCRAPE = "scrape-" + secrets.token_urlsafe(32)
pytestmark = pytest.mark.parametrize("store", ["postgres"], indirect=True)


def children(pid: int) -> list[int]:
    """The uvicorn supervisor's worker processes (not multiprocessing's helpers)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"resource_tracker" not in cmdline:
            found.append(int(child))
    return found


@pytest.fixture
def served(store, tmp_path):
    with unit_of_work(store.session_factory) as session:
        users.create_user(
            session=session,
            actor=system_actor(),
            email="multi@example.com",
            role="manager",
            password=PASSWORD,
        )
        site = capture_service.create_site(session=session, name="Multi", origins=[ORIGIN]).public_key
    env = dict(os.environ)
    env.update(
        CLOSEDLOOP_DATABASE_URL=store.url,
        CLOSEDLOOP_SECRET_KEY=secrets.token_urlsafe(48),
        CLOSEDLOOP_METRICS_TOKEN=SCRAPE,
        CLOSEDLOOP_TEST_DIR=str(tmp_path),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        CLOSEDLOOP_CAPTURE_IP_RATE="1000000",
        CLOSEDLOOP_CAPTURE_IP_BURST="1000000",
        CLOSEDLOOP_CAPTURE_KEY_RATE="1000000",
        CLOSEDLOOP_CAPTURE_KEY_BURST="1000000",
        CLOSEDLOOP_CAPTURE_LIMITS_DIR=str(tmp_path / "limits"),
    )
    (tmp_path / "metrics").mkdir()
    server = start_server(env, "serve", "--workers", "2")
    yield server, site, env
    stop_server(server)


def fresh_get(url: str, cookies: dict[str, str] | None = None, **kwargs) -> httpx.Response:
    """One request on its own connection, so the kernel spreads them over both processes."""
    with httpx.Client(timeout=20, cookies=cookies) as client:
        return client.get(url, **kwargs)  # unauthenticated "/" would answer 303 to /login


def test_sign_in_holds_on_every_process_and_metrics_add_up(served, tmp_path) -> None:
    server, _site, _env = served
    assert len(children(server.process.pid)) == 2
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        form = browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        signed = browser.post(
            "/login", data={"email": "multi@example.com", "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303
        cookie = browser.cookies.get("cl_session")
    assert cookie
    answers = [fresh_get(f"{server.url}/", cookies={"cl_session": cookie}) for _ in range(30)]
    assert [a.status_code for a in answers] == [200] * 30
    for _ in range(40):
        assert fresh_get(f"{server.url}/healthz").status_code == 200
    # Both processes answered (each writes its own counter file), and the scrape adds them up.
    pids = {re.search(r"_(\d+)\.db$", p.name).group(1) for p in (tmp_path / "metrics").glob("counter_*.db")}
    assert len(pids) == 2
    text = fresh_get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {SCRAPE}"}).text
    healthz = re.search(
        r'closedloop_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)', text
    )
    # 40 here plus the start-up probes of start_server (at least one)
    assert float(healthz.group(1)) >= 41
    home = re.search(r'closedloop_http_requests_total\{method="GET",route="/",status="200"\} (\S+)', text)
    assert float(home.group(1)) == 30


def _batch(site: str, ids: list[str]) -> bytes:
    return json.dumps({"vid": f"v-{ids[0]}", "events": [{"id": i} for i in ids]}).encode()


def _send(url: str, site: str, ids: list[str]) -> bool:
    """True when the server acknowledged the batch (2xx: committed)."""
    try:
        with httpx.Client(timeout=20) as client:
            answer = client.post(
                f"{url}/t/events?k={site}",
                content=_batch(site, ids),
                headers={"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"},
            )
        return 200 <= answer.status_code < 300
    except httpx.HTTPError:
        return False


def test_killing_a_server_process_loses_and_doubles_no_acknowledged_event(served, store) -> None:
    server, site, _env = served
    batches = [[f"e{n:04d}-{k}" for k in range(10)] for n in range(240)]
    acknowledged: dict[int, bool] = {}
    victim = children(server.process.pid)[0]

    def send(n: int) -> None:
        if n == 80:  # a third of the way in, one server process dies without warning
            os.kill(victim, signal.SIGKILL)
        acknowledged[n] = _send(server.url, site, batches[n])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, range(len(batches))))
    ok = [n for n, good in acknowledged.items() if good]
    assert len(ok) >= 100  # the other process kept answering
    with store.session() as session:
        stored = Counter(session.scalars(select(Touchpoint.event_id)).all())
    acked_ids = {i for n in ok for i in batches[n]}
    assert acked_ids <= set(stored)  # nothing acknowledged was lost
    assert max(stored.values()) == 1  # nothing doubled
    # The supervisor replaces the dead process; clients resend what was not acknowledged.
    deadline = time.monotonic() + 60
    while len(children(server.process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(children(server.process.pid)) == 2
    for n, good in sorted(acknowledged.items()):
        if not good:
            assert _send(server.url, site, batches[n])
        assert _send(server.url, site, batches[n])  # a resend of an acknowledged batch: duplicates only
    with store.session() as session:
        stored = Counter(session.scalars(select(Touchpoint.event_id)).all())
        assert session.scalar(select(func.count()).select_from(Touchpoint)) == 2400
    assert set(stored) == {i for b in batches for i in b} and set(stored.values()) == {1}


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]] = []
    lock: ClassVar[threading.Lock] = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(0.02)  # a slow receiver: the kill lands in the middle of a drain
        with self.lock:
            self.received.append((self.headers.get("Idempotency-Key", ""), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_killing_the_worker_loses_no_notification(served, store) -> None:
    from closedloop.notifications import service
    from closedloop.outbox import service as outbox

    server, _site, env = served
    sink = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.received = []
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{sink.server_address[1]}"
    admin = system_actor("cli")
    messages = 120
    with unit_of_work(store.session_factory) as session:
        service.allow_url(session=session, url_prefix=base, actor=admin)
        channel = service.add_channel(
            session=session, name="hook", kind="webhook", url=f"{base}/hook", secret="whsec-multi",
            secret_key=env["CLOSEDLOOP_SECRET_KEY"], actor=admin,
        )  # fmt: skip
        service.subscribe(session=session, channel_id=channel.id, topic="*", actor=admin)
        for n in range(messages):
            outbox.enqueue(
                session, topic="deal.won", idempotency_key=f"deal.won:{uuid.uuid4()}",
                payload={"deal_name": f"Deal {n}", "amount_minor": 100 * n, "currency": "TWD"},
            )  # fmt: skip
    exe = Path(sys.executable).with_name("closedloop")
    command = [
        str(exe),
        "worker",
        "--no-jobs",
        "--lease-seconds",
        "2",
        "--poll-interval",
        "0.2",
        "--batch-size",
        "5",
    ]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(Receiver.received) < 30 and time.monotonic() < deadline:
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)  # in the middle of the drain
        first.wait(timeout=10)
        assert 0 < len(Receiver.received) < messages
        second = subprocess.Popen([*command, "--max-seconds", "60"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with store.session() as session:
                    left = session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status != "delivered")
                    )
                if left == 0:
                    break
                time.sleep(0.3)
        finally:
            second.terminate()
            second.wait(timeout=30)
    finally:
        sink.shutdown()
    assert left == 0
    keys = Counter(key for key, _ in Receiver.received)
    assert len(keys) == messages  # every notification arrived
    bodies: dict[str, set[bytes]] = {}
    for key, body in Receiver.received:
        bodies.setdefault(key, set()).add(json.dumps(json.loads(body), sort_keys=True).encode())
    # A redelivery after the kill is the same delivery (same key and content): a receiver de-duplicating
    # on Idempotency-Key sees each notification once. Only messages in hand at the kill repeat.
    assert all(len(b) == 1 for b in bodies.values())
    assert sum(c - 1 for c in keys.values()) <= 5
    # The worker's counters meet the servers' in PROMETHEUS_MULTIPROC_DIR: one scrape shows them all.
    text = fresh_get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {SCRAPE}"}).text
    drains = re.search(r"^closedloop_worker_drains_total (\S+)", text, re.MULTILINE)
    sent = re.search(r'^closedloop_worker_messages_total\{outcome="sent"\} (\S+)', text, re.MULTILINE)
    assert float(drains.group(1)) >= 1 and float(sent.group(1)) >= 1
    assert re.search(r'^closedloop_outbox_messages\{status="delivered"\} 120\.0', text, re.MULTILINE)
