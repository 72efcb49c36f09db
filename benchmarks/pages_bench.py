"""Server time per page: log in as each role and request every page N times (p50/p95 in ms).

    .venv/bin/python benchmarks/pages_bench.py --url sqlite:////tmp/m.db [--requests 50] [--role admin]

The store must hold demo data (`closedloop demo --scale m`). Requests go through the real app
in process (TestClient), so the figures are server time without network. The first request of a
page is reported apart ("cold": it computes every number); the other N-1 include what the pages
keep per analytics snapshot. A peer in the same process, /healthz, shows the floor of the stack.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import subprocess
import time

PAGES = ("/", "/funnel", "/funnel?by=channel&mode=period", "/attribution", "/campaigns", "/campaigns?model=linear",
         "/leads", "/leads?stage=mql&sort=score", "/queue", "/pipeline", "/preferences", "/quality", "/quality/import",
         "/leads/1", "/models", "/reviews", "/glossary", "/settings", "/settings/policies", "/settings/users",
         "/settings/sites", "/settings/pipeline", "/settings/sla", "/settings/routing", "/settings/scoring",
         "/settings/channels")  # fmt: skip
PASSWORD = "closedloop-demo"


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument(
        "--role", default="admin", help="demo role: admin, manager, marketing, sales01, viewer"
    )
    args = parser.parse_args()

    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from closedloop.config import Settings
    from closedloop.leads.models import Lead
    from closedloop.store import session_factory_for
    from closedloop.web.app import create_app

    with session_factory_for(args.url)() as session:
        leads = session.scalar(select(func.count()).select_from(Lead))
    app = create_app(Settings(database_url=args.url, secret_key=secrets.token_urlsafe(48)))
    client = TestClient(app)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    email = f"{args.role}@demo.closedloop.example"
    signed = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/"},
                         follow_redirects=False)  # fmt: skip
    assert signed.status_code == 303, signed.text
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}"
    )
    print(f"store: {args.url.split('://')[0]} with {leads:,} leads; commit {commit}; role {args.role}; "
          f"{args.requests} requests per page")  # fmt: skip
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")
    print(f"{'page':<34} {'status':>6} {'cold ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'p95/healthz':>12}")
    floor = []
    for _ in range(args.requests):
        started = time.perf_counter()
        client.get("/healthz")
        floor.append((time.perf_counter() - started) * 1000)
    floor_p95 = quantile(floor, 0.95)
    print(
        f"{'/healthz (peer)':<34} {200:>6} {'':>9} {quantile(floor, 0.5):>8.1f} {floor_p95:>8.1f} {1.0:>12.1f}"
    )
    for path in PAGES:
        times = []
        status = 0
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            status = response.status_code
        warm = times[1:] or times
        p95 = quantile(warm, 0.95)
        print(f"{path:<34} {status:>6} {times[0]:>9.0f} {quantile(warm, 0.5):>8.1f} {p95:>8.1f} {p95 / floor_p95:>12.1f}",
              flush=True)  # fmt: skip
    # The first request after a write reads the store live until the analytics snapshot is copied again.
    form = client.get("/preferences").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    found = re.search(r'<option value="([^"]+)" lang="[^"]+" selected', form)
    language = found.group(1) if found else "en"
    for lang in ("zh-CN" if language != "zh-CN" else "en", language):  # two real writes, back as it was
        client.post("/preferences", data={"csrf_token": token, "language": lang, "next": "/preferences"},
                    follow_redirects=False)  # fmt: skip
    for label in ("/ (1st after a write)", "/ (2nd after a write)", "/ (3rd after a write)"):
        started = time.perf_counter()
        status = client.get("/").status_code
        print(f"{label:<34} {status:>6} {(time.perf_counter() - started) * 1000:>9.0f}", flush=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
