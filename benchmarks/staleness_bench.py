"""Bounded-staleness benchmark: the funnel by channel on PostgreSQL while another process keeps writing.

With `CLOSEDLOOP_ANALYTICS_MAX_STALENESS=0` (the default) every query after a write reads the
store live; with a bound, queries read the latest snapshot whose copy started within the bound
while a new copy runs in the background. A writer process commits one lead (with its `lead`
event, inside the funnel's window) every `--interval` seconds and logs each commit's time; every
answer is then checked against the guarantee: it counts at least every lead committed before its
"data as of" moment (and never more than were committed by the time it returned).

    .venv/bin/python benchmarks/staleness_bench.py [--sqlite /tmp/F6/m_pristine.db] [--bound 60]
        [--runs 20] [--interval 0.5] [--reuse]

The data: a generated SQLite store (analytics_bench.py `--keep FILE`) copied into a PostgreSQL
database of its own (`closedloop_staleness_bench`, dropped at the end unless `--reuse`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from closedloop.analytics import api, engine, snapshot
from closedloop.config import get_settings

NAME = "closedloop_staleness_bench"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WINDOW = {"date_from": "2025-11-02", "date_to": "2026-11-01", "as_of": "2026-11-01"}
WRITTEN_AT = "2026-01-15T12:00:00+00:00"  # a mature cohort inside the window: every written lead counts


def load(sqlite_path: Path, admin_url: str, reuse: bool) -> str:
    """A PostgreSQL database of this benchmark's own holding the generated leads, events, touches."""
    import duckdb
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from closedloop.analytics.engine import _load_extension
    from closedloop.store import engine_for, upgrade

    url = make_url(admin_url).set(database=NAME).render_as_string(hide_password=False)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": NAME}).first()
        if exists and reuse:
            admin.dispose()
            return url
        conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{NAME}"'))
    admin.dispose()
    upgrade(engine_for(url))
    parsed = make_url(url)
    con = duckdb.connect(config={"extension_directory": str(engine.extension_directory())})
    for extension in ("sqlite_scanner", "postgres_scanner"):
        _load_extension(con, extension)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"ATTACH '{sqlite_path}' AS src (TYPE sqlite, READ_ONLY)")
    con.execute(f"ATTACH 'host={parsed.host} port={parsed.port or 5432} dbname={NAME} user={parsed.username}'"
                " AS dst (TYPE postgres)")  # fmt: skip
    lead_cols = ("id, email, lead_type, source_type, stage, is_spam, tags, custom, region, first_channel, first_touch_at,"
                 " created_at, recorded_at, updated_at")  # fmt: skip
    con.execute(f"INSERT INTO dst.leads ({lead_cols}) SELECT {lead_cols} FROM src.leads")
    event_cols = "id, lead_id, to_stage, occurred_at, recorded_at, source, implied"
    con.execute(
        f"INSERT INTO dst.lifecycle_events ({event_cols}) SELECT {event_cols} FROM src.lifecycle_events"
    )
    touch_cols = "id, lead_id, occurred_at, recorded_at, type, channel, channel_explicit"
    con.execute(f"INSERT INTO dst.touchpoints ({touch_cols}) SELECT {touch_cols} FROM src.touchpoints")
    con.close()
    with engine_for(url).begin() as conn:
        for table in ("leads", "lifecycle_events", "touchpoints"):  # ids were copied: move the sequences on
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT coalesce(max(id), 1) FROM {table}))"))  # fmt: skip
        conn.execute(text("ANALYZE"))
    return url


def writer(url: str, interval: float, log: Path) -> None:
    """Commit one lead with its `lead` event every `interval` seconds; log each commit's epoch time."""
    import closedloop.models  # noqa: F401  (every table, so foreign keys resolve)
    from closedloop.db import unit_of_work
    from closedloop.leads.models import Lead, LifecycleEvent
    from closedloop.store import session_factory_for

    factory = session_factory_for(url)
    moment = datetime.fromisoformat(WRITTEN_AT)
    with log.open("a") as out:
        n = 0
        while True:
            n += 1
            with unit_of_work(factory) as session:
                lead = Lead(email=f"staleness{n}-{os.getpid()}@bench.example", created_at=moment,
                            recorded_at=moment, first_channel="Direct")  # fmt: skip
                session.add(lead)
                session.flush()
                session.add(LifecycleEvent(lead_id=lead.id, to_stage="lead", occurred_at=moment,
                                           recorded_at=moment, implied=False, source="import"))  # fmt: skip
            out.write(f"{time.time()}\n")  # after the commit returned: committed before this moment
            out.flush()
            time.sleep(interval)


def leads_counted(result: dict[str, Any]) -> int:
    return sum(int(r["counts"]["lead"]) for r in result["rows"])


def run(url: str, bound: float, runs: int, log: Path, base: int) -> dict[str, Any]:
    """`runs` funnels with the bound set; times, where they read, and the guarantee checked."""
    os.environ["CLOSEDLOOP_ANALYTICS_MAX_STALENESS"] = str(bound)
    get_settings.cache_clear()
    engine.close(url)
    snapshot.rebuild(url)  # the warm state: a snapshot just copied
    api.funnel(url, by=["channel"], **WINDOW)
    times, ages, from_snapshot, violations = [], [], 0, 0
    answers: list[tuple[float, float, int]] = []  # (data as of, returned at, leads counted)
    for _ in range(runs):
        started = time.perf_counter()
        with snapshot.freshness() as fresh:
            result = api.funnel(url, by=["channel"], **WINDOW)
        times.append(time.perf_counter() - started)
        returned = time.time()
        assert fresh.as_of is not None
        ages.append(returned - fresh.as_of.timestamp())
        from_snapshot += fresh.stale
        answers.append((fresh.as_of.timestamp(), returned, leads_counted(result)))
    commits = [float(line) for line in log.read_text().split()]
    for as_of, returned, counted in answers:
        before = sum(1 for c in commits if c < as_of)  # certainly committed before the answer's moment
        # started after `returned` cannot be counted; at most one more commit may have been in flight
        after = sum(1 for c in commits if c <= returned) + 1
        violations += not (base + before <= counted <= base + after)
    snapshot.wait(url)
    return {"median": statistics.median(times), "max": max(times), "snapshot": from_snapshot,
            "age_max": max(ages), "violations": violations, "runs": runs}  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sqlite", default="/tmp/F6/m_pristine.db", help="generated store to copy (read only)"
    )
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    parser.add_argument(
        "--bound", type=float, default=60.0, help="CLOSEDLOOP_ANALYTICS_MAX_STALENESS to compare with 0"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between the writer's commits")
    parser.add_argument("--reuse", action="store_true", help="reuse (and keep) the benchmark database")
    parser.add_argument("--writer", help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.writer:
        writer(args.writer, args.interval, Path(args.log))
        return 0
    started = time.perf_counter()
    url = load(Path(args.sqlite), args.pg_admin, args.reuse)
    print(f"store ready in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    base = leads_counted(api.funnel(url, by=["channel"], **WINDOW))  # nothing written yet
    engine.close(url)
    log = Path(f"/tmp/staleness_bench_{os.getpid()}.log")
    log.write_text("")
    process = subprocess.Popen([sys.executable, __file__, "--writer", url, "--interval", str(args.interval),
                                "--log", str(log)])  # fmt: skip
    print(
        f"# bounded-staleness benchmark: funnel by channel on PostgreSQL, a writer committing every "
        f"{args.interval} s\nload average {os.getloadavg()[0]:.1f} at the start; {args.runs} runs per row"
    )
    print(
        f"{'bound s':>8} {'median s':>9} {'max s':>7} {'from snapshot':>14} {'max age s':>10} {'guarantee':>10}"
    )
    try:
        time.sleep(2 * args.interval + 2)  # the writer is under way
        if process.poll() is not None or not log.read_text().split():
            raise SystemExit("the writer process is not writing")
        for bound in (0.0, args.bound):
            r = run(url, bound, args.runs, log, base)
            ok = "ok" if r["violations"] == 0 else f"{r['violations']} broken"
            print(f"{bound:>8.0f} {r['median']:>9.3f} {r['max']:>7.3f} {r['snapshot']:>8}/{r['runs']:<5} "
                  f"{r['age_max']:>10.1f} {ok:>10}", flush=True)  # fmt: skip
    finally:
        process.terminate()
        process.wait()
        engine.close(url)
        print(
            f"writer committed {len(log.read_text().split())} leads; load average {os.getloadavg()[0]:.1f} at the end"
        )
        log.unlink()
        if not args.reuse:
            from sqlalchemy import create_engine, text

            admin = create_engine(args.pg_admin, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
