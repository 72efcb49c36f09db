"""How fast `closedloop demo` loads: seconds and rows/s per table, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/demo_load.py            # scale s on both stores
    .venv/bin/python benchmarks/demo_load.py s m        # also scale m (100k leads, ~1M touchpoints)
    .venv/bin/python benchmarks/demo_load.py m --engines sqlite

Peer run in the same process: the touchpoints of scale s inserted through SQLAlchemy Core
(`conn.execute(insert(table), rows)`), the simple way, against the loader's bulk path.

Measured 2026-11-23 at commit 4fd314c (peer at d7f3a91), AMD EPYC, 2 cores shared with the
other engineers' test and benchmark runs (load average 12-16 during the run, so an idle machine
is several times faster):

    store    scale    leads       rows  generate s  total s  rows/s
    sqlite   s       10,000    189,325         2.5     17.8  10,647
    postgres s       10,000    189,325         1.9     34.1   5,556
    sqlite   m      100,000  1,699,783        23.4    179.9   9,446   (985,842 touchpoints: 95 s)
    postgres m      100,000  1,699,783        15.0    257.9   6,591   (touchpoints: 162 s)
    peer (touchpoints, s): SQLAlchemy Core insert 2.2x slower than the loader on SQLite, 2.8x on PostgreSQL
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

SCALES = {"s": 10_000, "m": 100_000, "l": 1_000_000}
ANCHOR = date(2026, 6, 30)
PG_ADMIN = os.environ.get("CLOSEDLOOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BIG = ("leads", "visitors", "touchpoints", "lifecycle_events", "activities", "campaign_spend")


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, load average {load}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


class Store:
    """A fresh, empty store of one kind; dropped afterwards."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.dir = tempfile.TemporaryDirectory()
            self.url = f"sqlite:///{self.dir.name}/bench.db"
        else:
            self.name = f"closedloop_bench_{uuid.uuid4().hex[:8]}"
            self.admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = make_url(PG_ADMIN).set(database=self.name).render_as_string(hide_password=False)

    def engine(self):
        from closedloop.db import make_engine

        return make_engine(self.url)

    def drop(self) -> None:
        if self.kind == "sqlite":
            self.dir.cleanup()
            return
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def run(kind: str, scale: str) -> dict:
    from closedloop.demo.service import load_demo
    from closedloop.store import upgrade

    store = Store(kind)
    try:
        engine = store.engine()
        upgrade(engine)  # schema creation is not part of the load
        started = time.perf_counter()
        result = load_demo(engine=engine, leads=SCALES[scale], seed=1, anchor=ANCHOR)
        total = time.perf_counter() - started
        engine.dispose()
    finally:
        store.drop()
    rows = sum(t.rows for t in result.timings)
    return {
        "kind": kind,
        "scale": scale,
        "total": total,
        "generate": result.generate_seconds,
        "rows": rows,
        "timings": result.timings,
    }


def peer(kind: str) -> tuple[float, float, int]:
    """Touchpoints of scale s: the loader's bulk path against SQLAlchemy Core executemany of dicts."""
    import closedloop.models  # noqa: F401
    from closedloop.db import Base
    from closedloop.demo.generator import generate
    from closedloop.demo.loader import _completed, insert_tables
    from closedloop.store import upgrade

    data = generate(leads=SCALES["s"], seed=1, anchor=ANCHOR, password_hash="x")
    wanted = [
        t
        for t in data.tables
        if t.name
        in (
            "regions",
            "business_calendars",
            "teams",
            "users",
            "sites",
            "campaigns",
            "accounts",
            "leads",
            "visitors",
        )
    ]
    touches = next(t for t in data.tables if t.name == "touchpoints")
    times = []
    for bulk in (True, False):
        store = Store(kind)
        try:
            engine = store.engine()
            upgrade(engine)
            with engine.begin() as conn:
                insert_tables(conn, wanted, end_ts=0)
                started = time.perf_counter()
                if bulk:
                    insert_tables(conn, [touches], end_ts=0)
                else:
                    columns = _completed(touches, end_ts=0)
                    lists = {name: python_values(k, v, kind) for name, k, v in columns}
                    rows = [
                        dict(zip(lists, values, strict=True)) for values in zip(*lists.values(), strict=True)
                    ]
                    conn.execute(insert(Base.metadata.tables["touchpoints"]), rows)
                times.append(time.perf_counter() - started)
            engine.dispose()
        finally:
            store.drop()
    return times[0], times[1], len(touches)


def python_values(kind: str, values, store_kind: str) -> list:
    """What an ORM or Core caller would pass: aware datetimes for timestamps."""
    from datetime import UTC, datetime

    from closedloop.demo.frame import NULL, to_db

    if kind == "ts":
        return [None if v == NULL else datetime.fromtimestamp(v, UTC) for v in values.tolist()]
    return to_db(kind, values, postgres=store_kind == "postgres")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scales", nargs="*", help="s, m or l (default s)")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--peer-only", action="store_true")
    args = parser.parse_args()
    if any(scale not in SCALES for scale in args.scales):
        parser.error(f"scales are {', '.join(SCALES)}")
    engines = args.engines.split(",")
    print(f"machine: {machine()}")
    print(f"commit: {commit()}   anchor: {ANCHOR}   seed: 1")
    print()
    print(
        f"{'store':<9}{'scale':<7}{'leads':>10}{'rows':>11}{'generate s':>12}{'total s':>10}{'rows/s':>10}",
        flush=True,
    )
    results = []
    for scale in [] if args.peer_only else (args.scales or ["s"]):
        for kind in engines:
            r = run(kind, scale)
            results.append(r)
            print(
                f"{r['kind']:<9}{r['scale']:<7}{SCALES[r['scale']]:>10,}{r['rows']:>11,}{r['generate']:>12.1f}"
                f"{r['total']:>10.1f}{r['rows'] / r['total']:>10,.0f}",
                flush=True,
            )
    for r in results:
        print(f"\n{r['kind']} scale {r['scale']}: per table")
        print(f"  {'table':<20}{'rows':>11}{'seconds':>10}{'rows/s':>11}")
        for t in r["timings"]:
            if t.rows >= 1000 or t.table in BIG:
                print(
                    f"  {t.table:<20}{t.rows:>11,}{t.seconds:>10.2f}{t.rows / max(t.seconds, 1e-9):>11,.0f}"
                )
    if not args.no_peer:
        print("\npeer: touchpoints of scale s, bulk loader vs SQLAlchemy Core insert() with a list of dicts")
        for kind in engines:
            bulk, core, n = peer(kind)
            print(
                f"  {kind:<9}{n:>9,} rows   bulk {bulk:6.2f} s   core {core:6.2f} s   core/bulk {core / bulk:4.1f}x"
            )


if __name__ == "__main__":
    main()
