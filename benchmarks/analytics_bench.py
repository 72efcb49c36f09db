"""Analytics benchmark: the funnel by channel (all stages, Wilson intervals) and a metric by two
dimensions, against the same funnel hand-written in DuckDB SQL (the floor) and in plain SQLite SQL.

Data: an existing store (`--store URL`, e.g. a `closedloop demo` store), or leads, lifecycle
events and touchpoints generated with numpy straight into a fresh SQLite file (`--scale s|m|l`:
10k / 100k / 1M leads, ~10 touchpoints per lead with `--touches`).

    .venv/bin/python benchmarks/analytics_bench.py [--scale m] [--runs 5] [--touches] [--keep FILE]
        [--store sqlite|postgres|URL] [--postgres [ADMIN_URL]]

`--store postgres` copies the generated data into a fresh PostgreSQL database and measures there;
`--postgres` measures on SQLite and then on PostgreSQL in the same run (same data, same process).
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from closedloop.analytics import api, engine, snapshot
from closedloop.analytics.stats import wilson

SCALES = {"s": 10_000, "m": 100_000, "l": 1_000_000}
CHANNELS = ["Paid Search", "Organic Search", "Paid Social", "Organic Social", "Email", "Display", "Affiliates",
            "Referral", "Messaging", "Events", "Direct", "Other"]  # fmt: skip
REGIONS = ["北區", "中區", "南區", "華東", "APAC"]
STAGES = ["lead", "mql", "sal", "sql", "opportunity", "customer"]
ANCHOR = np.datetime64("2026-11-01T00:00:00", "s")
DAY = 86_400
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _ts(seconds: np.ndarray) -> np.ndarray:
    """Seconds before the anchor as the store's UTC text timestamps."""
    moments = ANCHOR - seconds.astype("timedelta64[s]")
    text = np.char.replace(np.datetime_as_string(moments, unit="s").astype(str), "T", " ")
    return np.char.add(text, ".000000")


def generate(path: Path, leads: int, *, seed: int, touches: bool) -> None:
    """A migrated SQLite store with `leads` leads, their waterfall events and (optionally) touches."""
    from closedloop.store import engine_for, upgrade

    upgrade(engine_for(f"sqlite:///{path}"))
    rng = np.random.default_rng(seed)
    ids = np.arange(1, leads + 1)
    created = rng.integers(0, 730 * DAY, leads)
    channel = rng.choice(
        len(CHANNELS), leads, p=np.linspace(2, 1, len(CHANNELS)) / np.linspace(2, 1, 12).sum()
    )
    region = rng.integers(0, len(REGIONS), leads)
    # How far each lead goes (0 = lead only ... 5 = customer), better for some channels.
    lift = (channel % 4) * 0.05
    depth = np.zeros(leads, dtype=np.int64)
    alive = np.ones(leads, dtype=bool)
    for k, p in enumerate([0.35, 0.8, 0.6, 0.55, 0.35], start=1):
        alive &= rng.random(leads) < p + lift
        depth[alive] = k
    now = _ts(created)
    con = sqlite3.connect(path)
    con.executemany(
        "INSERT INTO leads (id, email, lead_type, source_type, stage, is_spam, tags, custom, region, first_channel,"
        " first_touch_at, created_at, recorded_at, updated_at) VALUES (?, ?, 'new_customer', 'inbound', ?, 0, '[]',"
        " '{}', ?, ?, ?, ?, ?, ?)",
        (
            (int(i), f"lead{i}@bench.example", STAGES[d], REGIONS[r], CHANNELS[c], t, t, t, t)
            for i, d, r, c, t in zip(ids.tolist(), depth.tolist(), region.tolist(), channel.tolist(), now.tolist(), strict=True)
        ),
    )  # fmt: skip
    # One event per reached stage; sal is skipped (implied) for a quarter of the leads that pass it.
    rows: list[tuple[Any, ...]] = []
    at = created.copy()
    for k, stage in enumerate(STAGES):
        reached = depth >= k
        if k:
            at = at - rng.integers(DAY // 2, 20 * DAY, leads)
        skip = (rng.random(leads) < 0.25) & (k == 2)
        stamps = _ts(np.maximum(at, 0))
        for i, t, implied in zip(
            ids[reached].tolist(), stamps[reached].tolist(), skip[reached].tolist(), strict=True
        ):
            rows.append((i, stage, t, t, int(implied)))
    con.executemany(
        "INSERT INTO lifecycle_events (lead_id, to_stage, occurred_at, recorded_at, source, implied)"
        " VALUES (?, ?, ?, ?, 'import', ?)",
        rows,
    )
    if touches:
        per = rng.poisson(9, leads) + 1
        lead_of = np.repeat(ids, per)
        stamps = _ts(np.repeat(created, per) + rng.integers(0, 30 * DAY, len(lead_of)))
        chan = np.array(CHANNELS, dtype=object)[rng.integers(0, len(CHANNELS), len(lead_of))]
        con.executemany(
            "INSERT INTO touchpoints (lead_id, occurred_at, recorded_at, type, channel, channel_explicit)"
            " VALUES (?, ?, ?, 'page_view', ?, 0)",
            zip(lead_of.tolist(), stamps.tolist(), stamps.tolist(), chan.tolist(), strict=True),
        )
    con.commit()
    con.close()


def floor_duckdb(url: str, sl: Any, source: str = "store") -> list[tuple[Any, ...]]:
    """The same cohort funnel written by hand in DuckDB SQL over the attached store (or a snapshot schema)."""
    sql = """
WITH e AS (SELECT id, lead_id, to_stage, CAST(occurred_at AS TIMESTAMP) AS ts, voids_id
           FROM store.lifecycle_events WHERE CAST(occurred_at AS TIMESTAMP) <= $asof),
v AS (SELECT lead_id, ts, CASE to_stage WHEN 'lead' THEN 0 WHEN 'mql' THEN 1 WHEN 'sal' THEN 2 WHEN 'sql' THEN 3
        WHEN 'opportunity' THEN 4 WHEN 'customer' THEN 5 END AS i
      FROM e WHERE id NOT IN (SELECT voids_id FROM e WHERE voids_id IS NOT NULL)),
r AS (SELECT lead_id, min(ts) a0, min(ts) FILTER (i >= 1) a1, min(ts) FILTER (i >= 2) a2,
        min(ts) FILTER (i >= 3) a3, min(ts) FILTER (i >= 4) a4, min(ts) FILTER (i >= 5) a5
      FROM v WHERE i IS NOT NULL GROUP BY lead_id),
f AS (SELECT coalesce(l.first_channel, '(none)') AS channel, r.*, r.a0 <= $asof - INTERVAL 90 DAY AS mature
      FROM r JOIN store.leads l ON l.id = r.lead_id
      WHERE r.a0 >= $start AND r.a0 < $end AND l.merged_into_id IS NULL)
SELECT channel, count(*) FILTER (mature),
  count(*) FILTER (mature AND a1 <= a0 + INTERVAL 90 DAY), count(*) FILTER (mature AND a2 <= a0 + INTERVAL 90 DAY),
  count(*) FILTER (mature AND a3 <= a0 + INTERVAL 90 DAY), count(*) FILTER (mature AND a4 <= a0 + INTERVAL 90 DAY),
  count(*) FILTER (mature AND a5 <= a0 + INTERVAL 90 DAY), count(*) FILTER (NOT mature)
FROM f GROUP BY channel ORDER BY 2 DESC"""
    cursor = engine.connect(url).cursor()
    try:
        params = {"asof": sl.as_of_naive, "start": sl.start, "end": sl.end}
        return _with_rates(cursor.execute(sql.replace("store.", f"{source}."), params).fetchall())
    finally:
        cursor.close()


def plain_sqlite(path: Path, sl: Any) -> list[tuple[Any, ...]]:
    """The same funnel as a simple implementation would write it: SQLite SQL on the store file."""
    fmt = "%Y-%m-%d %H:%M:%S.000000"
    asof, start, end = (d.strftime(fmt) for d in (sl.as_of_naive, sl.start, sl.end))
    cutoff = (sl.as_of_naive - __import__("datetime").timedelta(days=90)).strftime(fmt)
    within = " ".join(
        f", SUM(a0 <= '{cutoff}' AND a{k} IS NOT NULL AND a{k} <= strftime('%Y-%m-%d %H:%M:%f000', a0, '+90 days'))"
        for k in range(1, 6)
    )
    mins = "".join(f", MIN(CASE WHEN i >= {k} THEN ts END) AS a{k}" for k in range(1, 6))
    sql = f"""
WITH v AS (SELECT e.lead_id, e.occurred_at AS ts, CASE e.to_stage WHEN 'lead' THEN 0 WHEN 'mql' THEN 1
        WHEN 'sal' THEN 2 WHEN 'sql' THEN 3 WHEN 'opportunity' THEN 4 WHEN 'customer' THEN 5 END AS i
      FROM lifecycle_events e WHERE e.occurred_at <= '{asof}'
        AND e.id NOT IN (SELECT voids_id FROM lifecycle_events WHERE voids_id IS NOT NULL AND occurred_at <= '{asof}')),
r AS (SELECT lead_id, MIN(ts) AS a0{mins} FROM v WHERE i IS NOT NULL GROUP BY lead_id)
SELECT COALESCE(l.first_channel, '(none)') AS channel, SUM(a0 <= '{cutoff}'){within}, SUM(a0 > '{cutoff}')
FROM r JOIN leads l ON l.id = r.lead_id
WHERE r.a0 >= '{start}' AND r.a0 < '{end}' AND l.merged_into_id IS NULL
GROUP BY channel ORDER BY 2 DESC"""
    con = sqlite3.connect(path)
    try:
        return _with_rates(con.execute(sql).fetchall())
    finally:
        con.close()


def load_postgres(sqlite_path: Path, admin_url: str) -> str:
    """A fresh PostgreSQL database holding the generated leads and events (copied through DuckDB)."""
    import duckdb
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from closedloop.analytics.engine import _load_extension
    from closedloop.store import engine_for, upgrade

    name = "closedloop_analytics_bench"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(engine_for(url))
    parsed = make_url(url)
    con = duckdb.connect(config={"extension_directory": str(engine.extension_directory())})
    for extension in ("sqlite_scanner", "postgres_scanner"):
        _load_extension(con, extension)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"ATTACH '{sqlite_path}' AS src (TYPE sqlite, READ_ONLY)")
    con.execute(
        f"ATTACH 'host={parsed.host} port={parsed.port or 5432} dbname={name} user={parsed.username}' AS dst (TYPE postgres)"
    )
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
        conn.execute(text("ANALYZE"))
    return url


def drop_postgres(admin_url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "closedloop_analytics_bench" WITH (FORCE)'))
    admin.dispose()


def plain_postgres(url: str, sl: Any) -> list[tuple[Any, ...]]:
    """The same funnel as a simple implementation would write it in PostgreSQL SQL."""
    from datetime import UTC, timedelta

    from closedloop.store import engine_for

    within = "".join(
        f", count(*) FILTER (WHERE a0 <= %(cutoff)s AND a{k} <= a0 + interval '90 days')" for k in range(1, 6)
    )
    mins = "".join(f", MIN(ts) FILTER (WHERE i >= {k}) AS a{k}" for k in range(1, 6))
    sql = f"""
WITH v AS (SELECT e.lead_id, e.occurred_at AS ts, CASE e.to_stage WHEN 'lead' THEN 0 WHEN 'mql' THEN 1
        WHEN 'sal' THEN 2 WHEN 'sql' THEN 3 WHEN 'opportunity' THEN 4 WHEN 'customer' THEN 5 END AS i
      FROM lifecycle_events e WHERE e.occurred_at <= %(asof)s
        AND e.id NOT IN (SELECT voids_id FROM lifecycle_events WHERE voids_id IS NOT NULL AND occurred_at <= %(asof)s)),
r AS (SELECT lead_id, MIN(ts) AS a0{mins} FROM v WHERE i IS NOT NULL GROUP BY lead_id)
SELECT COALESCE(l.first_channel, '(none)') AS channel, count(*) FILTER (WHERE a0 <= %(cutoff)s){within},
  count(*) FILTER (WHERE a0 > %(cutoff)s)
FROM r JOIN leads l ON l.id = r.lead_id
WHERE r.a0 >= %(start)s AND r.a0 < %(end)s AND l.merged_into_id IS NULL
GROUP BY 1 ORDER BY 2 DESC"""
    aware = {
        k: v.replace(tzinfo=UTC)
        for k, v in {"asof": sl.as_of_naive, "start": sl.start, "end": sl.end}.items()
    }
    aware["cutoff"] = aware["asof"] - timedelta(days=90)
    raw = engine_for(url).raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql, aware)
        return _with_rates(cursor.fetchall())
    finally:
        raw.close()


def _with_rates(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Add the Wilson intervals the funnel carries (per group: cheap), so the work compared is the same."""
    out = []
    for row in rows:
        counts = [int(c or 0) for c in row[1:7]]
        pairs = [(k, k + 1) for k in range(5)] + [(0, 5)]
        out.append((row[0], counts, [wilson(counts[b], counts[a]) for a, b in pairs], int(row[7] or 0)))
    return out


def timed(fn: Callable[[], Any], runs: int) -> tuple[tuple[float, float], Any]:
    """Median wall seconds of `runs` warm runs (the median CPU seconds of this process go to CPU)."""
    fn()  # warm: connection, extension, snapshot, file cache
    times, cpu, result = [], [], None
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return (statistics.median(times), statistics.median(cpu)), result


def _after_write(url: str, window: dict[str, str], runs: int) -> tuple[float, float]:
    """Median seconds of the first funnel after a write the funnel does not see (an exchange rate).

    The write happens before the clock starts; the funnel then reads the store live. (On
    PostgreSQL the copy it starts runs in a background thread and is waited for, untimed.)
    """
    times, cpu = [], []
    for _ in range(runs):
        _write(url)
        started, started_cpu = time.perf_counter(), time.process_time()
        api.funnel(url, by=["channel"], **window)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        snapshot.wait(url)
    return statistics.median(times), statistics.median(cpu)


def _write(url: str) -> None:
    """One committed write to the store (SQLite or PostgreSQL) that no funnel reads."""
    from sqlalchemy import text

    from closedloop.store import engine_for

    store = engine_for(url)
    with store.begin() as conn:
        conn.execute(text("INSERT INTO exchange_rates (currency, rate_date, rate_to_reporting)"
                          " VALUES ('XTS', '2000-01-01', 1) ON CONFLICT DO NOTHING"))  # fmt: skip
        conn.execute(
            text("UPDATE exchange_rates SET rate_to_reporting = rate_to_reporting + 1 WHERE currency = 'XTS'")
        )
    store.dispose()


def _plain(url: str, sl: Any) -> list[tuple[Any, ...]]:
    """The funnel in the store's own SQL (SQLite or PostgreSQL), as a simple implementation would run it."""
    if url.startswith("sqlite"):
        return plain_sqlite(Path(url.removeprefix("sqlite:///")), sl)
    return plain_postgres(url, sl)


def measure(url: str, window: dict[str, str], runs: int) -> tuple[list[tuple[str, Any, str]], dict[str, Any]]:
    """Every figure of the benchmark on one store; the funnels are checked to agree first."""
    store = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    sl = api.slice_for(url, **window)
    snapshot.rebuild(url)  # the warm state: a snapshot current with the store
    # The floor's own copy of the same tables (never replaced by the snapshots queries make).
    copied = snapshot._copy(engine.connect(url), next(snapshot._generations))
    few = max(1, min(runs, 3))
    funnel = lambda: api.funnel(url, by=["channel"], **window)  # noqa: E731
    by_two = lambda: api.metrics(  # noqa: E731
        url, ["conversion"], from_stage="mql", to_stage="sql", by=["channel", "region"], **window
    )
    ours, result = timed(funnel, runs)
    computed, _ = timed(lambda: api.funnel(url, by=["channel"], **{**window, "as_of": "2026-10-31"}), runs)
    two, _ = timed(by_two, runs)
    floor, hand = timed(lambda: floor_duckdb(url, sl, copied), runs)
    scan, _ = timed(lambda: floor_duckdb(url, sl), runs)
    plain, simple = timed(lambda: _plain(url, sl), few)
    pinned: list[tuple[str, Any, str]] = []
    if store == "PostgreSQL":
        pinned = _pinned(url, funnel, by_two, runs, floor)
    after_write = _after_write(url, window, few)
    refresh, _ = timed(lambda: snapshot.rebuild(url), few)
    engine.connect(url).cursor().execute(f"DROP SCHEMA {copied} CASCADE").close()
    # The funnels must agree before their times mean anything.
    counts = {r["group"]["channel"]: list(r["counts"].values()) for r in result["rows"]}
    assert counts == {r[0]: r[1] for r in hand}, "hand-written DuckDB funnel disagrees"
    assert counts == {r[0]: r[1] for r in simple}, f"plain {store} funnel disagrees"
    w = lambda pair: pair[0]  # noqa: E731
    live = " (live whenever the cluster's WAL moved)" if store == "PostgreSQL" else ""
    rows = [
        (f"funnel by channel, 6 stages, cohort, intervals (closedloop){live}", ours, "1.00x"),
        ("same funnel, hand-written DuckDB SQL on the snapshot tables (floor)", floor,
         f"closedloop/floor {w(ours) / w(floor):.2f}x"),
        ("same funnel, hand-written DuckDB SQL scanning the store", scan, f"scan/closedloop {w(scan) / w(ours):.1f}x"),
        (f"same funnel, plain {store} SQL", plain, f"plain/closedloop {w(plain) / w(ours):.1f}x"),
        (f"conversion mql->sql by channel x region (closedloop){live}", two, ""),
        *pinned,
        (f"funnel, as-of before the last event (reaches computed per query){live}", computed,
         f"computed/floor {w(computed) / w(floor):.2f}x"),
        ("first funnel after a write (reads the store live)", after_write,
         f"after-write/warm {w(after_write) / w(ours):.1f}x"),
        ("snapshot copy after a write (SQLite: next quiet query; PG: background)", refresh, ""),
    ]  # fmt: skip
    return [(f"[{store}] {name}", figures, ratio) for name, figures, ratio in rows], counts


def _pinned(
    url: str, funnel: Callable[[], Any], by_two: Callable[[], Any], runs: int, floor: tuple[float, float]
) -> list[tuple[str, Any, str]]:
    """PostgreSQL figures with the snapshot in use, as on a cluster that serves only this store.

    The change token (the WAL position) is cluster-wide: on this shared machine other databases
    are written to all the time, so every query above found it moved and read the store live. Here
    the token is held at the value read when the snapshot was copied (nothing writes this
    database meanwhile), which is what a cluster serving only this store sees between writes.
    """
    snapshot.rebuild(url)
    held = snapshot._states[url].token  # the token read before that copy
    original = snapshot._token
    snapshot._token = lambda u: held if u == url else original(u)
    try:
        ours, _ = timed(funnel, runs)
        two, _ = timed(by_two, runs)
    finally:
        snapshot._token = original
    note = "(snapshot in use: token held, see _pinned)"
    return [
        (f"funnel by channel {note}", ours, f"closedloop/floor {ours[0] / floor[0]:.2f}x"),
        (f"conversion mql->sql by channel x region {note}", two, ""),
    ]


def machine() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()  # fmt: skip
    return f"{platform.machine()} {len(os.sched_getaffinity(0))} cpus, Python {platform.python_version()}, commit {commit}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=list(SCALES), default="s")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--touches", action="store_true", help="also generate ~10 touchpoints per lead")
    parser.add_argument(
        "--store",
        default="sqlite",
        help="sqlite (generated data), postgres (generated data copied into a fresh PostgreSQL database),"
        " or the URL of an existing SQLite or PostgreSQL store (e.g. a demo store)",
    )
    parser.add_argument("--keep", help="generate into this SQLite file and keep it (reused when it exists)")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=PG_ADMIN,
        help="also copy the generated data into a fresh database on this PostgreSQL server (admin URL)"
        " and measure there in the same run",
    )
    parser.add_argument("--pg-admin", default=PG_ADMIN, help="admin URL used by --store postgres")
    args = parser.parse_args(argv)

    targets: list[str] = []
    generated = args.store in ("sqlite", "postgres")
    if generated:
        path = Path(args.keep) if args.keep else Path(tempfile.mkdtemp()) / "analytics_bench.db"
        if not path.exists():
            started = time.perf_counter()
            generate(path, SCALES[args.scale], seed=args.seed, touches=args.touches)
            print(
                f"generated {SCALES[args.scale]:,} leads in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
        scale = f"{args.scale} ({SCALES[args.scale]:,} leads, generated, seed {args.seed})"
        if args.store == "sqlite":
            targets.append(f"sqlite:///{path}")
        admin = args.pg_admin if args.store == "postgres" else args.postgres
        if admin:
            started = time.perf_counter()
            targets.append(load_postgres(path, admin))
            print(f"copied into PostgreSQL in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    else:
        targets.append(args.store)
        scale = "store " + args.store
    window = {"date_from": "2025-11-02", "date_to": "2026-11-01", "as_of": "2026-11-01"}
    agreed: list[dict[str, Any]] = []
    print(f"# analytics benchmark\nmachine: {machine()}, load average {os.getloadavg()[0]:.1f} at the start")
    print(f"scale: {scale}; warm process, median of {args.runs} runs (CPU: this process's CPU seconds)")
    print(f"{'what':<77} {'wall s':>7} {'CPU s':>7}  ratio (wall)", flush=True)
    try:
        for url in targets:
            measured, counts = measure(url, window, args.runs)
            agreed.append(counts)
            engine.close(url)
            for name, (seconds, cpu), ratio in measured:
                print(f"{name:<77} {seconds:>7.3f} {cpu:>7.3f}  {ratio}", flush=True)
    finally:
        if generated and any(not t.startswith("sqlite") for t in targets):
            drop_postgres(args.pg_admin if args.store == "postgres" else args.postgres)
    assert all(c == agreed[0] for c in agreed), "SQLite and PostgreSQL funnels disagree"
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
