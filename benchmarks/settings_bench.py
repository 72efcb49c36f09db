"""Server time of the settings pages: sign in as admin, request each page N times (p50/p95 in ms), and the previews.

    .venv/bin/python benchmarks/settings_bench.py --url sqlite:////tmp/m.db [--requests 50] [--previews 5]

The store must hold demo data (`closedloop demo --scale m`). Requests go through the real app in
process (TestClient): server time without network. /healthz in the same process is the peer (the
floor of the stack). The two previews (scoring: every lead scored twice; channels: every
rule-derived touch derived again) are POSTs timed separately with fewer repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import subprocess
import time

PAGES = ("/settings", "/settings/policies", "/settings/users", "/settings/sites", "/settings/pipeline",
         "/settings/sla", "/settings/routing", "/settings/scoring", "/settings/channels")  # fmt: skip


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed(call, n: int) -> tuple[list[float], int]:  # type: ignore[no-untyped-def]
    times, status = [], 0
    for _ in range(n):
        started = time.perf_counter()
        status = call().status_code
        times.append((time.perf_counter() - started) * 1000)
    return times, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--previews", type=int, default=5)
    args = parser.parse_args()

    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from closedloop.config import Settings
    from closedloop.leads.models import Lead
    from closedloop.marketing import channels
    from closedloop.marketing.models import Touchpoint
    from closedloop.scoring.rules import DEFAULT_RULES
    from closedloop.store import session_factory_for
    from closedloop.web.app import create_app

    with session_factory_for(args.url)() as session:
        leads = session.scalar(select(func.count()).select_from(Lead))
        touches = session.scalar(select(func.count()).select_from(Touchpoint))
    client = TestClient(create_app(Settings(database_url=args.url, secret_key=secrets.token_urlsafe(48))))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    signed = client.post("/login", data={"email": "admin@demo.closedloop.example", "password": "closedloop-demo",
                                         "csrf_token": token, "next": "/"}, follow_redirects=False)  # fmt: skip
    assert signed.status_code == 303, signed.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/preferences").text).group(1)  # type: ignore[union-attr]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"store: {args.url.split('://')[0]} with {leads:,} leads, {touches:,} touches; commit {commit}; "
          f"{args.requests} requests per page")  # fmt: skip
    print(f"{'page':<34} {'status':>6} {'cold ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'p95/healthz':>12}")
    floor, _ = timed(lambda: client.get("/healthz"), args.requests)
    floor_p95 = quantile(floor, 0.95)
    print(
        f"{'/healthz (peer)':<34} {200:>6} {'':>9} {quantile(floor, 0.5):>8.1f} {floor_p95:>8.1f} {1.0:>12.1f}"
    )
    for path in PAGES:
        times, status = timed(lambda path=path: client.get(path), args.requests)  # type: ignore[misc]
        warm = times[1:] or times
        p95 = quantile(warm, 0.95)
        print(f"{path:<34} {status:>6} {times[0]:>9.0f} {quantile(warm, 0.5):>8.1f} {p95:>8.1f} {p95 / floor_p95:>12.1f}",
              flush=True)  # fmt: skip
    scoring = {**DEFAULT_RULES, "bands": {"A": 60, "B": 40, "C": 20}}
    rules = [{"channel": "Newsletter", "when": [{"medium_in": ["email"]}]}, *channels.DEFAULT_RULES]
    form = {"csrf_token": csrf}
    for i, rule in enumerate(rules):
        form |= {
            f"channel-{i}": rule["channel"],
            f"when-{i}": json.dumps(rule["when"]),
            f"order-{i}": str(i + 1),
        }
    for name, call in (
        ("POST /settings/scoring/preview", lambda: client.post("/settings/scoring/preview",
                                                               data={"csrf_token": csrf, "payload": json.dumps(scoring)})),
        ("POST /settings/channels/preview", lambda: client.post("/settings/channels/preview", data=form)),
    ):  # fmt: skip
        times, status = timed(call, args.previews)
        print(f"{name:<34} {status:>6} {times[0]:>9.0f} {quantile(times, 0.5):>8.1f} {quantile(times, 0.95):>8.1f} "
              f"{quantile(times, 0.95) / floor_p95:>12.1f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
