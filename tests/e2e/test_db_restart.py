"""PostgreSQL restarted under load: clear errors while it is down, then recovery with no manual step.

The test runs its own PostgreSQL (Debian's initdb and pg_ctl, in a temporary directory on a free
port), never the shared server other tests use. `closedloop init` migrates a store into it,
`closedloop serve --workers 2` and `closedloop worker` run as users run them, and client threads
send capture batches (unique event ids) while the database is stopped and started again.

While it is down every request is answered quickly with 503 (problem+json for the API and the
capture endpoint, an HTML page for pages), a `Retry-After` header and the translated message: no
500, no traceback, no hang. Once it is back the same processes answer 200 again: the pool drops
its dead connections by itself. Every batch the server acknowledged is stored once; batches
refused during the outage and sent again by the client (same ids) are stored once too. The
worker survives the outage and delivers a notification enqueued after the restart.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import require_service
from tests.e2e.conftest import closedloop, free_port, start_server, stop_server

from closedloop.capture import service as capture_service
from closedloop.clock import system_clock
from closedloop.db import make_engine, make_session_factory, unit_of_work
from closedloop.i18n import translate
from closedloop.leads.models import Lead
from closedloop.marketing.models import Touchpoint
from closedloop.outbox.models import OutboxMessage
from closedloop.users import service as users
from closedloop.users.actor import system_actor

ORIGIN = "https://www.restart.example.com"
PASSWORD = "db-restart-" + secrets.token_urlsafe(12)
BATCHES = 160  # of 10 events each
CLIENTS = 6
HANG = 20.0  # no answer may take longer than this (a generous bound, not a speed assertion)


def _pg_bin() -> Path | None:
    """Debian's newest PostgreSQL binaries directory holding initdb and pg_ctl."""
    found = [Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")]
    found = [d for d in found if (d / "initdb").exists() and (d / "pg_ctl").exists()]
    found.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return found[-1] if found else None


@dataclass
class PrivatePostgres:
    """One PostgreSQL instance of this test's own, run as the `postgres` user when we are root."""

    bin: Path
    root: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # pg_ctl and initdb refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"{args[0]} failed: {result.stdout}\n{result.stderr}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.root / "data"), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root} -c max_connections=100 -c fsync=off"
        )
        # A fast stop checkpoints, so fsync=off loses nothing across the restarts of this test.
        self._run("pg_ctl", "-D", str(self.root / "data"), "-l", str(self.root / "log"), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", mode, "-w", "-t", "60", "stop")


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    pg_bin = _pg_bin()
    if pg_bin is None:
        require_service(
            "PostgreSQL server binaries (initdb, pg_ctl) are not installed under /usr/lib/postgresql"
        )
    root = Path(tempfile.mkdtemp(prefix="closedloop-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    pg = PrivatePostgres(pg_bin, root)
    pg.init()
    pg.start()
    try:
        yield pg
    finally:
        with contextlib.suppress(AssertionError):  # already stopped
            pg.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.received.append(body.decode("utf-8", "replace"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Answer:
    status: int | None  # None: no answer (a connection error or a hang past the client's timeout)
    headers: httpx.Headers | None
    text: str
    error: str = ""


def _ask(method: str, url: str, **kwargs: object) -> Answer:
    try:
        with httpx.Client(timeout=HANG) as client:
            response = client.request(method, url, **kwargs)
        return Answer(response.status_code, response.headers, response.text)
    except httpx.HTTPError as exc:
        return Answer(None, None, "", f"{type(exc).__name__}: {exc}")


def _capture(url: str, site: str, ids: list[str], lang: str = "en") -> Answer:
    body = json.dumps({"vid": f"v-{ids[0]}", "events": [{"id": i} for i in ids]})
    headers = {"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8", "Accept-Language": lang}
    return _ask("POST", f"{url}/t/events?k={site}", content=body, headers=headers)


def _assert_unavailable(answer: Answer, lang: str, *, html: bool = False) -> None:
    """A clear 503: the translated message, a Retry-After, and no traceback."""
    assert answer.status == 503, (answer.status, answer.error, answer.text[:500])
    assert answer.headers is not None
    assert int(answer.headers["retry-after"]) >= 1
    message = translate("error.store_unavailable", lang)
    assert "Traceback" not in answer.text and "OperationalError" not in answer.text
    if html:
        assert answer.headers["content-type"].startswith("text/html")
        assert message in answer.text
    else:
        assert answer.headers["content-type"] == "application/problem+json"
        body = json.loads(answer.text)
        assert body["status"] == 503 and body["detail"] == message


def test_database_restart_under_load(private_pg: PrivatePostgres, tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        CLOSEDLOOP_DATABASE_URL=private_pg.url,
        CLOSEDLOOP_SECRET_KEY=secrets.token_urlsafe(48),
        CLOSEDLOOP_TEST_DIR=str(tmp_path),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        CLOSEDLOOP_CAPTURE_IP_RATE="1000000",
        CLOSEDLOOP_CAPTURE_IP_BURST="1000000",
        CLOSEDLOOP_CAPTURE_KEY_RATE="1000000",
        CLOSEDLOOP_CAPTURE_KEY_BURST="1000000",
        CLOSEDLOOP_CAPTURE_LIMITS_DIR=str(tmp_path / "limits"),
    )
    (tmp_path / "metrics").mkdir()
    migrated = closedloop("init", env=env)
    assert migrated.returncode == 0, migrated.stderr
    engine = make_engine(private_pg.url)
    factory = make_session_factory(engine)
    sink = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.received = []
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{sink.server_address[1]}"
    from closedloop.notifications import service as notify

    admin = system_actor("cli")
    with unit_of_work(factory) as session:
        user = users.create_user(
            session=session, actor=admin, email="restart@example.com", role="manager", password=PASSWORD
        )
        _row, api_key = users.create_api_key(
            session=session, actor=admin, user=user, scopes=["read", "write"]
        )
        site = capture_service.create_site(session=session, name="Restart", origins=[ORIGIN]).public_key
        # Seed the default channel rules now: two processes seeding them at their first event race
        # (a unique-key error, a separate issue this test is not about).
        capture_service.rules_in_force(session=session, at=system_clock())
        notify.allow_url(session=session, url_prefix=hook, actor=admin)
        channel = notify.add_channel(
            session=session, name="hook", kind="webhook", url=f"{hook}/hook", secret="whsec-restart",
            secret_key=env["CLOSEDLOOP_SECRET_KEY"], actor=admin,
        )  # fmt: skip
        notify.subscribe(session=session, channel_id=channel.id, topic="*", actor=admin)

    server = start_server(env, "serve", "--workers", "2")
    exe = Path(sys.executable).with_name("closedloop")
    worker_log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - lives with the worker
    worker = subprocess.Popen(
        [str(exe), "worker", "--no-jobs", "--poll-interval", "0.2", "--lease-seconds", "5"],
        env=env, stdout=worker_log, stderr=worker_log,
    )  # fmt: skip
    try:
        _run(server.url, site, api_key, private_pg, factory, worker, tmp_path / "worker.log")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        stop_server(server)
        sink.shutdown()
        engine.dispose()


def _run(
    url: str,
    site: str,
    api_key: str,
    pg: PrivatePostgres,
    factory: sessionmaker[Session],
    worker: subprocess.Popen[bytes],
    worker_log: Path,
) -> None:
    from closedloop.outbox import service as outbox

    api = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=url, timeout=HANG) as browser:
        form = browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        signed = browser.post(
            "/login", data={"email": "restart@example.com", "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303
        cookie = {"Cookie": f"cl_session={browser.cookies.get('cl_session')}"}
    # Before: everything answers.
    assert _ask("GET", f"{url}/api/v1/leads", headers=api).status == 200
    assert _ask("GET", f"{url}/", headers=cookie).status == 200

    batches = [[f"r{n:04d}-{k}" for k in range(10)] for n in range(BATCHES)]
    answers: dict[int, list[Answer]] = {n: [] for n in range(BATCHES)}
    acked: set[int] = set()
    lock = threading.Lock()
    queue = list(range(BATCHES))
    give_up = time.monotonic() + 50  # a bound on the whole load, outage included

    def client() -> None:
        """A capture client: send a batch until it is acknowledged, waiting Retry-After between tries."""
        while True:
            with lock:
                if not queue:
                    return
                n = queue.pop(0)
            while time.monotonic() < give_up:
                answer = _capture(url, site, batches[n])
                answers[n].append(answer)
                if answer.status is not None and 200 <= answer.status < 300:
                    with lock:
                        acked.add(n)
                    break
                wait = answer.headers.get("retry-after") if answer.headers is not None else None
                time.sleep(float(wait) if wait and wait.isdigit() else 1.0)
            time.sleep(0.01)  # a steady load, not a flood: the machine is shared

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acked) < BATCHES // 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(acked) >= BATCHES // 4, "the load never got going"

    marks = {"start": give_up - 50, "down": time.monotonic()}
    pg.stop("fast")  # terminates every open session, then the server goes away
    # While it is down: capture, the API, a page and the health check answer 503 at once, translated.
    for lang in ("en", "zh-TW", "zh-CN"):
        probe_ids = [f"probe-{lang}-{uuid.uuid4().hex[:8]}-{k}" for k in range(3)]
        _assert_unavailable(_capture(url, site, probe_ids, lang), lang)
        _assert_unavailable(
            _ask("GET", f"{url}/api/v1/leads", headers={**api, "Accept-Language": lang}), lang
        )
        _assert_unavailable(
            _ask("GET", f"{url}/", headers={**cookie, "Accept-Language": lang}), lang, html=True
        )
    assert _ask("GET", f"{url}/healthz").status == 503
    # An API write with an Idempotency-Key: refused now, and the client's resend below counts once.
    write = {**api, "Idempotency-Key": f"outage-{uuid.uuid4()}", "Accept-Language": "zh-TW"}
    lead = {"email": "outage@example.com", "first_name": "Outage"}
    _assert_unavailable(_ask("POST", f"{url}/api/v1/leads", headers=write, json=lead), "zh-TW")
    time.sleep(2)
    assert worker.poll() is None, "the worker died while the database was down"
    pg.start()
    marks["up"] = time.monotonic()

    # After: the same processes answer again, with no manual step, within a bound.
    recovered = time.monotonic() + 30
    attempts: list[tuple[int | None, int | None]] = []
    while time.monotonic() < recovered:
        first = _ask("GET", f"{url}/api/v1/leads", headers=api).status
        second = _ask("GET", f"{url}/", headers=cookie).status
        attempts.append((first, second))
        if first == second == 200:
            break
        time.sleep(0.5)
    assert _ask("GET", f"{url}/api/v1/leads", headers=api).status == 200
    assert _ask("GET", f"{url}/", headers=cookie).status == 200
    assert _ask("GET", f"{url}/healthz").status == 200
    marks["recovered"] = time.monotonic()
    created = _ask("POST", f"{url}/api/v1/leads", headers=write, json=lead)
    assert created.status == 201, (created.status, created.text[:300])
    # The answer is stored before it is sent: the very next retry replays it.
    again = _ask("POST", f"{url}/api/v1/leads", headers=write, json=lead)
    assert again.status == 201 and again.headers.get("idempotent-replayed") == "true"
    assert json.loads(again.text)["id"] == json.loads(created.text)["id"]

    for thread in threads:
        thread.join(timeout=max(1.0, give_up - time.monotonic() + 5))
    assert acked == set(range(BATCHES)), f"{BATCHES - len(acked)} batches never acknowledged"
    marks["drained"] = time.monotonic()
    every = [a for n in answers for a in answers[n]]
    refused = [a for a in every if a.status != 200]
    # No hang, no dropped connection, no 500: only 200 or a clear 503.
    assert all(a.status is not None for a in every), [a.error for a in every if a.status is None][:3]
    assert {a.status for a in every} <= {200, 503}, Counter(a.status for a in every)
    for answer in refused:
        _assert_unavailable(answer, "en")
    retried = [n for n in answers if len(answers[n]) > 1]
    assert retried, "no client batch met the outage: the resend path was not exercised"

    with factory() as session:
        stored = Counter(session.scalars(select(Touchpoint.event_id)).all())
    wanted = {i for b in batches for i in b}
    assert wanted <= set(stored)  # every acknowledged event, first time or after a resend
    assert all(stored[i] == 1 for i in wanted)  # none doubled, the resent ones included
    assert sum(stored.values()) == len(stored)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Lead).where(Lead.email == lead["email"])) == 1

    # The worker outlived the outage and still delivers: a message enqueued after the restart arrives.
    assert worker.poll() is None, "the worker died"
    key = f"deal.won:{uuid.uuid4()}"
    with unit_of_work(factory) as session:
        outbox.enqueue(session, topic="deal.won", idempotency_key=key,
                       payload={"deal_name": "Deal after the restart", "amount_minor": 100, "currency": "TWD"})  # fmt: skip
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        with factory() as session:
            status = session.scalar(select(OutboxMessage.status).where(OutboxMessage.idempotency_key == key))
        if status == "delivered":
            break
        time.sleep(0.2)
    assert status == "delivered"
    assert len(Receiver.received) == 1 and "Deal after the restart" in Receiver.received[0]
    # ... after meeting the outage itself (it polls every 0.2 s), logged as one line, not a crash.
    assert "outbox worker: database unavailable" in worker_log.read_text()
    print(
        f"refused during the outage: {len(refused)} answers; batches resent: {len(retried)}; "
        f"phases (s): load {marks['down'] - marks['start']:.1f}, down {marks['up'] - marks['down']:.1f}, "
        f"recovered {marks['recovered'] - marks['up']:.1f}, drained {marks['drained'] - marks['up']:.1f}, "
        f"delivered {time.monotonic() - marks['drained']:.1f}; recovery attempts {attempts}"
    )
