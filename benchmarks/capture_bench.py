"""Capture endpoint under load: one `closedloop serve` process on loopback, SQLite or PostgreSQL.

The load generator is wrk (Debian package, C, one thread: it leaves the CPU to the server) with
a Lua script giving every event its own id, or, with `--client python`, a small asyncio HTTP/1.1
client. Both use keep-alive connections and stop at a count and a time bound. It reports
sustained events/s and p50/p99 request latency, then counts the touchpoint rows: every event the
server acknowledged must be there (a 2xx means committed). The peer figure is GET /healthz on
the same server and client, the framework's own ceiling on this machine.

Usage: python benchmarks/capture_bench.py [--store sqlite|postgres] [--client wrk|python]
       [--events N] [--seconds S] [--connections C] [--batch B]
Target (issue 4): 2,000 events/s sustained with p99 < 50 ms, single and batched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORIGIN = "https://www.bench.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return (
        f"{platform.machine()} {len(os.sched_getaffinity(0))} cpus, Python {platform.python_version()}, "
        f"commit {commit.stdout.strip()}"
    )


def closedloop(*args: str, env: dict[str, str]) -> str:
    exe = Path(sys.executable).with_name("closedloop")
    result = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"closedloop {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def start_server(env: dict[str, str], port: int, log: Path, *, access_log: bool) -> subprocess.Popen[bytes]:
    if access_log:  # exactly as users run it
        command = [str(Path(sys.executable).with_name("closedloop")), "serve", "--port", str(port)]
    else:  # the same app under uvicorn without its per-request access log line
        command = [sys.executable, "-m", "uvicorn", "closedloop.web.app:create_app", "--factory"]
        command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    handle = open(log, "wb")  # noqa: SIM115 - lives with the server
    process = subprocess.Popen(command, env=env, stdout=handle, stderr=handle)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if b"200 OK" in conn.recv(200):
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server did not start within 60 s:\n{log.read_text(errors='replace')[-2000:]}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def run_phase(
    port: int, *, requests: list[bytes], events_per_request: int, connections: int, seconds: float
) -> dict[str, float]:
    """Send the prepared requests over `connections` keep-alive connections; stop at the time bound."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    position = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal position
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while position < len(requests) and time.perf_counter() < deadline:
                request = requests[position]
                position += 1
                started = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    ok = statuses.get(200, 0)

    def quantile(q: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
        )

    return {
        "requests": len(latencies),
        "ok": ok,
        "events": ok * events_per_request,
        "seconds": elapsed,
        "events_per_s": ok * events_per_request / elapsed,
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": quantile(0.50),
        "p99_ms": quantile(0.99),
        "errors": sum(n for s, n in statuses.items() if s != 200),
    }


def event_requests(key: str, *, count: int, batch: int, tag: str) -> list[bytes]:
    """`count` requests of `batch` events each, as raw HTTP/1.1 bytes (built before the clock starts)."""
    out = []
    for r in range(count):
        vid = f"bench-{tag}-{r % 500:05d}"
        events = [
            {
                "id": f"{tag}-{r}-{i}-{uuid.uuid4().hex[:8]}",
                "type": "page_view",
                "url": f"{ORIGIN}/p/{i}?utm_source=google&utm_medium=cpc&utm_campaign=bench&gclid=G{r}",
                "ref": "https://www.google.com/",
            }
            for i in range(batch)
        ]
        body = json.dumps({"vid": vid, "events": events}).encode()
        head = (
            f"POST /t/events?k={key} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {ORIGIN}\r\n"
            f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        out.append(head + body)
    return out


WRK_SCRIPT = """
local key, batch, tag, limit, origin = "%(key)s", %(batch)d, "%(tag)s", %(limit)d, "%(origin)s"
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
function init(args) ok = 0; errors = 0; n = 0 end
function request()
  n = n + 1
  if n > limit then wrk.thread:stop() end
  if batch == 0 then return wrk.format("GET", "/healthz") end
  local events = {}
  for i = 1, batch do
    events[i] = string.format('{"id":"%%s-%%d-%%d-%%d","type":"page_view","url":"%%s/p/%%d?utm_source=google' ..
      '&utm_medium=cpc&utm_campaign=bench&gclid=G%%d","ref":"https://www.google.com/"}', tag, id, n, i, origin, i, n)
  end
  local body = string.format('{"vid":"bench-%%s-%%d-%%05d","events":[%%s]}', tag, id, n %% 500,
    table.concat(events, ","))
  return wrk.format("POST", "/t/events?k=" .. key,
    {["Origin"] = origin, ["Content-Type"] = "text/plain;charset=UTF-8"}, body)
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 else errors = errors + 1 end
end
function done(summary, latency, requests)
  local good, bad = 0, 0
  for _, t in ipairs(threads) do good = good + t:get("ok"); bad = bad + t:get("errors") end
  io.write(string.format('WRK {"ok": %%d, "errors": %%d, "socket_errors": %%d, "requests": %%d, ' ..
    '"p50_ms": %%f, "p99_ms": %%f, "seconds": %%f}\\n', good, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""


def wrk_phase(
    port: int, key: str, *, batch: int, connections: int, seconds: float, limit: int, tag: str, folder: Path
) -> dict[str, float]:
    """One phase under wrk (one thread): `limit` requests at most per thread, `seconds` at most."""
    script = folder / f"{tag}.lua"
    values = {"key": key, "batch": batch, "tag": tag, "limit": limit, "origin": ORIGIN}
    script.write_text(WRK_SCRIPT % values)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--timeout", "10s"]
    command += ["-s", str(script), f"http://127.0.0.1:{port}/"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {result.stdout}\n{result.stderr}")
    r = json.loads(line[4:])
    per = max(batch, 1)
    return {
        # wrk runs for its whole -d: a phase that reached its count bound sooner was idle for the
        # rest, so its rates are lower bounds (see `main`'s warning).
        "count_bound": r["requests"] >= limit - connections,  # in-flight requests at the stop go unanswered
        "requests": r["requests"],
        "ok": r["ok"],
        "events": r["ok"] * per,
        "seconds": r["seconds"],
        "events_per_s": r["ok"] * per / r["seconds"],
        "requests_per_s": r["requests"] / r["seconds"],
        "p50_ms": r["p50_ms"],
        "p99_ms": r["p99_ms"],
        "errors": r["errors"] + r["socket_errors"],
    }


def postgres_store(name: str) -> str:
    """A fresh PostgreSQL database on 127.0.0.1 (trust auth, user postgres); returns its URL."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1/{name}"


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def count_touches(url: str, db: Path) -> int:
    if url.startswith("sqlite"):
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM touchpoints").fetchone()[0]
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        return conn.execute("SELECT count(*) FROM touchpoints").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python"
    )
    parser.add_argument("--events", type=int, default=40_000, help="Events per phase (upper bound).")
    parser.add_argument("--seconds", type=float, default=15.0, help="Time bound per phase.")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch", type=int, default=25, help="Events per request in the batched phase.")
    parser.add_argument(
        "--no-access-log", action="store_true", help="Serve with uvicorn's access log off (what it costs)."
    )
    args = parser.parse_args()

    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    pg_name = f"capture_bench_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="capture-bench-") as tmp:
        folder = Path(tmp)
        db = folder / "bench.db"
        url = postgres_store(pg_name) if args.store == "postgres" else f"sqlite:///{db}"
        env = dict(os.environ)
        env.update(
            CLOSEDLOOP_DATABASE_URL=url,
            CLOSEDLOOP_SECRET_KEY=secrets.token_urlsafe(48),
            # One client IP sends everything here: lift the per-IP limit meant for real visitors.
            CLOSEDLOOP_CAPTURE_IP_RATE="1000000",
            CLOSEDLOOP_CAPTURE_IP_BURST="1000000",
            CLOSEDLOOP_CAPTURE_KEY_RATE="1000000",
            CLOSEDLOOP_CAPTURE_KEY_BURST="1000000",
        )
        try:
            closedloop("init", env=env)
            key = closedloop("site", "create", "--name", "Bench", "--origin", ORIGIN, env=env).splitlines()[0]
            port = free_port()
            server = start_server(env, port, folder / "server.log", access_log=not args.no_access_log)
            try:
                results = run_phases(args, port, key, folder, server.pid)
            finally:
                server.terminate()
                server.wait(timeout=30)
            rows = count_touches(url, db)
        finally:
            if args.store == "postgres":
                drop_postgres(pg_name)

    acknowledged = sum(r["events"] for n, r in results.items() if not n.startswith("GET")) + 200
    peer = results["GET /healthz (peer)"]["requests_per_s"]
    print(f"machine: {machine()}")
    server_kind = "uvicorn without access log" if args.no_access_log else "closedloop serve"
    store = "SQLite (WAL)" if args.store == "sqlite" else "PostgreSQL 15 (loopback)"
    print(f"store: {store}, one server process ({server_kind}), {args.connections} keep-alive connections")
    client = "wrk, 1 thread" if args.client == "wrk" else "asyncio client"
    print(f"client: {client}; bounds: at most {args.events} events and {args.seconds:.0f} s per phase")
    print(f"load average before the run: {load_before}")
    print(
        f"{'phase':<22}{'requests':>9}{'events':>9}{'events/s':>10}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'errors':>7}{'vs peer':>9}{'cpu ms/req':>11}{'1-core cap/s':>13}"
    )
    for name, r in results.items():
        ratio = r["requests_per_s"] / peer
        events = "-" if name.startswith("GET") else f"{r['events']:.0f}"
        rate = "-" if name.startswith("GET") else f"{r['events_per_s']:.0f}"
        cpu_ms = r["server_cpu"] * 1000 / max(1, r["requests"])
        # What one server process could take with a core to itself: events per CPU-second.
        capacity = (
            r["requests"] / r["server_cpu"] * max(1, r["events"] / max(1, r["ok"])) if r["server_cpu"] else 0
        )
        print(
            f"{name:<22}{r['requests']:>9.0f}{events:>9}{rate:>10}{r['requests_per_s']:>9.0f}"
            f"{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}{r['errors']:>7.0f}{ratio:>9.2f}{cpu_ms:>11.2f}{capacity:>13.0f}"
        )
    if any(r.get("count_bound") for r in results.values()):
        print("note: a phase reached its event bound before its time bound: its rates are lower bounds"
              " (wrk counts the whole duration); raise --events")  # fmt: skip
    # Requests cut off by the time bound may be committed without their answer arriving: more
    # rows than acknowledged events is fine, fewer would be a lost acknowledged event.
    durable = "yes" if rows >= acknowledged else "NO"
    print(
        f"durability: {acknowledged} events acknowledged with 2xx, {rows} touchpoint rows after stop: {durable}"
    )
    return 0 if rows >= acknowledged else 1


def run_phases(args: argparse.Namespace, port: int, key: str, folder: Path, pid: int) -> dict[str, dict]:
    """Warm up, then the peer, single events and batches, each with the server's CPU time."""
    warm = event_requests(key, count=200, batch=1, tag="warm")
    asyncio.run(run_phase(port, requests=warm, events_per_request=1, connections=4, seconds=10))
    phases = {"GET /healthz (peer)": 0, "single events": 1, f"batches of {args.batch}": args.batch}
    results = {}
    for name, batch in phases.items():
        count = args.events if batch <= 1 else max(1, args.events // batch)
        cpu_before = cpu_seconds(pid)
        if args.client == "wrk":
            tag = f"p{batch}"
            results[name] = wrk_phase(
                port, key, batch=batch, connections=args.connections, seconds=args.seconds, limit=count,
                tag=tag, folder=folder,
            )  # fmt: skip
        else:
            if batch == 0:
                requests = [b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"] * count
            else:
                requests = event_requests(key, count=count, batch=batch, tag=f"p{batch}")
            results[name] = asyncio.run(
                run_phase(
                    port, requests=requests, events_per_request=max(batch, 1), connections=args.connections,
                    seconds=args.seconds,
                )
            )  # fmt: skip
        results[name]["server_cpu"] = cpu_seconds(pid) - cpu_before
    return results


if __name__ == "__main__":
    sys.exit(main())
