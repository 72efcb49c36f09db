"""Outbox worker throughput: deliveries/s from the store to a local webhook receiver.

Each message fans out to two destinations (a signed webhook and a Slack-shaped webhook) on a
loopback HTTP server in this process. The worker figure includes claiming (lease), fan-out,
rendering, signing, the HTTP round trip and the per-delivery attempt log. The peer figure is the
same number of bare signed POSTs through the same pinned HTTP client with no store, so the ratio
is what the at-least-once bookkeeping costs on this machine.

Usage: python benchmarks/outbox_bench.py [--messages N] [--repeats R] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SECRET_KEY = "bench-secret-key-Zr4Lb8NwT3yHd6JfC1sGa5E"


def machine() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return (
        f"{platform.machine()} {len(os.sched_getaffinity(0))} cpus, load {os.getloadavg()[0]:.1f}, "
        f"Python {platform.python_version()}, commit {commit.stdout.strip()}"
    )


class Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def prepare(url: str, base: str, messages: int) -> None:
    from closedloop.db import make_session_factory, unit_of_work
    from closedloop.notifications import service
    from closedloop.outbox import service as outbox
    from closedloop.store import engine_for, upgrade
    from closedloop.users.actor import system_actor

    upgrade(engine_for(url))
    admin = system_actor("cli")
    with unit_of_work(make_session_factory(engine_for(url))) as s:
        service.allow_url(session=s, url_prefix=base, actor=admin)
        for name, kind in (("hook", "webhook"), ("slack", "slack")):
            channel = service.add_channel(
                session=s,
                name=name,
                kind=kind,
                url=f"{base}/{name}",
                secret="whsec-bench",
                secret_key=SECRET_KEY,
                actor=admin,
            )
            service.subscribe(session=s, channel_id=channel.id, topic="*", actor=admin)
        for n in range(messages):
            outbox.enqueue(
                s,
                topic="deal.won",
                idempotency_key=f"deal.won:{uuid.uuid4()}",
                payload={"deal_name": f"Deal {n}", "amount_minor": 100 * n, "currency": "TWD"},
            )


def run_worker(url: str, batch: int) -> float:
    from closedloop.db import make_session_factory
    from closedloop.outbox.worker import Worker, WorkerSettings
    from closedloop.store import engine_for

    worker = Worker(
        session_factory=make_session_factory(engine_for(url)),
        secret_key=SECRET_KEY,
        settings=WorkerSettings(batch_size=batch),
    )
    started = time.perf_counter()
    stats = worker.drain()
    elapsed = time.perf_counter() - started
    assert stats.failed == 0, stats
    return elapsed


def run_peer(base: str, deliveries: int) -> float:
    from closedloop.notifications import http
    from closedloop.notifications.channels.webhook import signature

    body = b'{"topic":"deal_won","payload":{"deal_id":1}}'
    started = time.perf_counter()
    for _ in range(deliveries):
        ts = int(time.time())
        request = http.OutboundRequest(
            f"{base}/hook", body, {"X-Closedloop-Signature": signature("s", ts, body)}
        )
        assert http.post(request, allowed_prefixes=[base]).status == 200
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--postgres", action="store_true", help="also on postgresql://postgres@127.0.0.1/test"
    )
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    deliveries = 2 * args.messages
    print(f"# outbox worker: {args.messages} messages x 2 destinations, median of {args.repeats}")
    print(machine())
    stores = ["sqlite"] + (["postgres"] if args.postgres else [])
    rows = []
    peer = statistics.median(run_peer(base, deliveries) for _ in range(args.repeats))
    for kind in stores:
        for batch in (1, 10):
            times = []
            for _ in range(args.repeats):
                if kind == "sqlite":
                    url = f"sqlite:///{tempfile.mkdtemp(prefix='outbox-bench-')}/store.db"
                else:
                    url = create_pg_database()
                prepare(url, base, args.messages)
                times.append(run_worker(url, batch))
                if kind == "postgres":
                    drop_pg_database(url)
            rows.append((kind, batch, statistics.median(times)))
    print(f"{'store':<9} {'batch':>5} {'seconds':>8} {'deliveries/s':>13} {'vs bare POSTs':>14}")
    for kind, batch, seconds in rows:
        print(f"{kind:<9} {batch:>5} {seconds:>8.2f} {deliveries / seconds:>13.0f} {seconds / peer:>13.1f}x")
    print(f"{'bare POST':<9} {'-':>5} {peer:>8.2f} {deliveries / peer:>13.0f} {1.0:>13.1f}x")
    server.shutdown()


def create_pg_database() -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT")
    name = f"outbox_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    from closedloop.store import engine_for

    engine_for(url).dispose()
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
