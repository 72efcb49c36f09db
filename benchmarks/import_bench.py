"""Touchpoint file import speed: validated rows/s into SQLite and peak memory (SPEC/issue 4 targets).

Usage: .venv/bin/python benchmarks/import_bench.py [--rows 1000000] [--leads 100000] [--repeat 3]
                                                    [--baseline REV]

Writes a generated CSV (lead_email, occurred_at, type, utm_*, gclid/fbclid, referrer) to a temp
dir, loads the leads it references straight into a fresh SQLite store, then runs the import in a
child process (so its peak RSS is measured alone) and prints rows/s, CPU s (the import's own
forked reader included) and peak RSS. The peer run
in the same process is a plain `csv` module pass over the same file (read + split only), so the
ratio says how far the import is from the cost of merely reading the file; the second peer is a
bare executemany of ready-made rows into the same schema (its unique and foreign keys), the SQLite
floor; the third replays the very rows the import wrote (its columns and values) the same way.
Each repeat runs the floor, the import and the replay, so their medians share the machine's load.
With --baseline REV each repeat also runs the import as it was at git revision REV (a temporary
worktree first on the child's path), right after the current one: a before/after in one window.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

CHILD = r"""
import resource, sys, time, json
from closedloop.store import session_factory_for
from closedloop.imports.service import import_file
from closedloop.users.actor import system_actor
url, path = sys.argv[1], sys.argv[2]
start = time.perf_counter()
report = import_file(session_factory=session_factory_for(url), kind="touchpoints", path=path,
                     actor=system_actor("import"))
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
# The import's forked reader (a child, joined by the time the import returns) counts too.
reader = resource.getrusage(resource.RUSAGE_CHILDREN)
# VmHWM: this process's own peak. ru_maxrss is not: Linux carries it over exec from the forking
# parent, so it would report the benchmark parent's size (its million ready-made floor rows).
# The reader's ru_maxrss includes the pages it shares with this process (copied on write).
with open("/proc/self/status") as status:
    rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "rss_mb": rss_kb / 1024, "inserted": report.inserted,
                  "cpu": usage.ru_utime + usage.ru_stime + reader.ru_utime + reader.ru_stime,
                  "reader_rss_mb": reader.ru_maxrss / 1024,
                  "rejected": len(report.rejected_rows), "status": report.status}))
"""


def write_file(path: Path, rows: int, leads: int) -> None:
    """A touchpoint CSV in the generic format, deterministic."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    sources = [("google", "cpc", "gclid"), ("facebook", "paid_social", "fbclid"), ("newsletter", "email", ""),
               ("", "", ""), ("line", "message", ""), ("bing", "organic", "")]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lead_email", "occurred_at", "type", "utm_source", "utm_medium", "utm_campaign",
                         "gclid", "fbclid", "referrer", "landing_page"])  # fmt: skip
        for i in range(rows):
            source, medium, click = sources[i % len(sources)]
            at = (base + timedelta(seconds=i * 37)).strftime("%Y-%m-%d %H:%M:%S")
            writer.writerow([
                f"lead{i % leads}@example.com", at, "page_view" if i % 3 else "ad_click", source, medium,
                f"campaign {i % 40}" if source else "", f"g{i}" if click == "gclid" else "",
                f"f{i}" if click == "fbclid" else "", "https://www.google.com/" if source == "" and i % 2 else "",
                f"https://example.com/p/{i % 500}",
            ])  # fmt: skip


def seed_leads(url: str, leads: int) -> None:
    """Insert the referenced leads directly (the benchmark measures touchpoints only)."""
    from closedloop.store import engine_for, upgrade

    engine = engine_for(url)
    upgrade(engine)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    raw = engine.raw_connection()
    try:
        raw.executemany(
            "INSERT INTO leads (email, lead_type, source_type, stage, is_spam, tags, custom, created_at,"
            " recorded_at, updated_at) VALUES (?, 'new_customer', 'inbound', 'lead', 0, '[]', '{}', ?, ?, ?)",
            [(f"lead{i}@example.com", now, now, now) for i in range(leads)],
        )
        raw.commit()
    finally:
        raw.close()


def csv_pass(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds to read and split every line with the csv module (the first peer)."""
    start, cpu = time.perf_counter(), time.process_time()
    with path.open(newline="", encoding="utf-8") as handle:
        for _ in csv.reader(handle):
            pass
    return time.perf_counter() - start, time.process_time() - cpu


def insert_floor(url: str, rows: int, leads: int) -> tuple[float, float]:
    """Wall and CPU seconds of a bare executemany of `rows` ready-made touchpoint tuples into a
    fresh store (its indexes, unique keys and foreign keys), committed: the SQLite floor (second peer).
    """
    import hashlib

    from closedloop.store import engine_for

    seed_leads(url, leads)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    base = datetime(2025, 1, 1)
    values = [
        (f"import:{hashlib.blake2b(str(i).encode(), digest_size=8).hexdigest()}", i % leads + 1,
         (base + timedelta(seconds=i * 37)).strftime("%Y-%m-%d %H:%M:%S.000000"), "page_view", "google",
         "cpc", f"campaign {i % 40}", f"g{i}", f"https://example.com/p/{i % 500}", "Paid Search", 0, stamp)
        for i in range(rows)
    ]  # fmt: skip
    raw = engine_for(url).raw_connection()
    try:
        start, cpu = time.perf_counter(), time.process_time()
        raw.executemany(
            "INSERT INTO touchpoints (external_id, lead_id, occurred_at, type, utm_source, utm_medium,"
            " utm_campaign, gclid, landing_page, channel, channel_explicit, recorded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        raw.commit()
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        raw.close()


def run_import(url: str, path: Path, source: Path | None = None) -> dict[str, float]:
    """The import in a child process (its peak RSS alone): this checkout's code, or `source`'s."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(source / "src"), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", CHILD, url, str(path)], capture_output=True, text=True,
                         check=True, env=env)  # fmt: skip
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def worktree(rev: str, folder: Path) -> Path:
    """A detached git worktree of `rev` in `folder` (removed by `drop_worktree`)."""
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(folder), rev], check=True)
    return folder


def drop_worktree(folder: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(folder)], check=False)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def replay_floor(db: Path) -> tuple[float, float]:
    """Wall and CPU seconds of a bare executemany, in 50,000-row batches, of exactly the rows the
    import wrote (its columns and values: campaign ids, referrers, click ids, policy version)
    into an emptied copy of its touchpoints table (same indexes and foreign keys), committed: the
    floor for the import's own rows (third peer)."""
    import sqlite3

    conn = sqlite3.connect(db, isolation_level=None)
    try:
        names = [r[1] for r in conn.execute("PRAGMA table_info(touchpoints)") if r[1] != "id"]
        rows = conn.execute(f"SELECT {', '.join(names)} FROM touchpoints ORDER BY id").fetchall()
        used = [i for i, _ in enumerate(names) if any(r[i] is not None for r in rows[:5000])]
        rows = [tuple(r[i] for i in used) for r in rows]
        schema = [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'touchpoints'"
                                             " AND sql IS NOT NULL ORDER BY type DESC")]  # fmt: skip
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("DROP TABLE touchpoints")
        for statement in schema:  # the table first, then its indexes
            conn.execute(statement)
        conn.execute("VACUUM")
        conn.execute("PRAGMA foreign_keys=ON")
        sql = (f"INSERT INTO touchpoints ({', '.join(names[i] for i in used)}) "
               f"VALUES ({', '.join('?' * len(used))})")  # fmt: skip
        start, cpu = time.perf_counter(), time.process_time()
        conn.execute("BEGIN")
        for i in range(0, len(rows), 50_000):
            conn.executemany(sql, rows[i : i + 50_000])
        conn.execute("COMMIT")
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        conn.close()


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baseline", metavar="REV", help="also time the import as it was at this git revision"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "touchpoints.csv"
        write_file(path, args.rows, args.leads)
        peer, peer_cpu = csv_pass(path)
        before = worktree(args.baseline, Path(tmp, "baseline")) if args.baseline else None
        runs, floors, replays, baselines = [], [], [], []
        try:
            for i in range(args.repeat):
                # The floor and the import alternate, so both medians see the same machine load.
                floors.append(insert_floor(f"sqlite:///{tmp}/floor_{i}.db", args.rows, args.leads))
                url = f"sqlite:///{tmp}/bench_{i}.db"
                seed_leads(url, args.leads)
                runs.append(run_import(url, path))
                replays.append(replay_floor(Path(tmp, f"bench_{i}.db")))
                names = [f"floor_{i}.db", f"bench_{i}.db"]
                if before is not None:
                    names.append(f"baseline_{i}.db")
                    seed_leads(f"sqlite:///{tmp}/baseline_{i}.db", args.leads)
                    baselines.append(run_import(f"sqlite:///{tmp}/baseline_{i}.db", path, before))
                for name in names:
                    for suffix in ("", "-wal", "-shm"):
                        Path(tmp, name + suffix).unlink(missing_ok=True)
        finally:
            if before is not None:
                drop_worktree(before)
        seconds = median([r["seconds"] for r in runs])
        cpu = median([r.get("cpu", 0.0) for r in runs])
        rss = median([r["rss_mb"] for r in runs])
        reader_rss = median([r["reader_rss_mb"] for r in runs])
        floor, floor_cpu = median([f[0] for f in floors]), median([f[1] for f in floors])
        replay, replay_cpu = median([f[0] for f in replays]), median([f[1] for f in replays])
        size_mb = path.stat().st_size / 1e6
    print(f"machine      {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
          f"python={platform.python_version()}")  # fmt: skip
    print(f"commit       {commit()}")
    print(f"data         {args.rows:,} touchpoint rows ({size_mb:.0f} MB CSV), {args.leads:,} leads, SQLite")
    print(f"load average {os.getloadavg()[0]:.1f} (wall times are inflated by other work; CPU s less so)")
    baseline_rows = [
        (f"import at {args.baseline} (median)", median([r["seconds"] for r in baselines]),
         median([r["cpu"] for r in baselines]), f"{median([r['rss_mb'] for r in baselines]):,.0f}")
    ] if baselines else []  # fmt: skip
    print(f"{'run':<34}{'median s':>10}{'CPU s':>8}{'rows/s':>12}{'rows/CPU s':>12}{'peak RSS MB':>13}")
    for name, wall, used, mb in (
        ("import touchpoints (median)", seconds, cpu, f"{rss:,.0f}"),
        ("peer: csv.reader pass", peer, peer_cpu, ""),
        ("peer: bare executemany (median)", floor, floor_cpu, ""),
        ("peer: import's rows replayed (med.)", replay, replay_cpu, ""),
        *baseline_rows,
    ):
        print(
            f"{name:<34}{wall:>10.2f}{used:>8.2f}{args.rows / wall:>12,.0f}{args.rows / used:>12,.0f}{mb:>13}"
        )
    print(f"ratio import/csv.reader: {seconds / peer:.1f}x wall, {cpu / peer_cpu:.1f}x CPU; "
          f"import/bare insert: {seconds / floor:.1f}x wall, {cpu / floor_cpu:.1f}x CPU; "
          f"import/replayed rows: {seconds / replay:.1f}x wall, {cpu / replay_cpu:.1f}x CPU")  # fmt: skip
    print("runs (wall s / CPU s / peak RSS MB): import "
          + ", ".join(f"{r['seconds']:.1f}/{r['cpu']:.1f}/{r['rss_mb']:.0f}" for r in runs)
          + "; bare insert " + ", ".join(f"{w:.1f}/{c:.1f}" for w, c in floors)
          + "; replayed " + ", ".join(f"{w:.1f}/{c:.1f}" for w, c in replays))  # fmt: skip
    print(
        f"peak RSS: importing process {rss:,.0f} MB, its forked reader {reader_rss:,.0f} MB (the reader's "
        "figure includes the pages it shares with the importing process; CPU s counts both)"
    )
    if baselines:
        then = median([r["seconds"] for r in baselines])
        print(f"import now / at {args.baseline}: {seconds / then:.2f}x wall (runs at {args.baseline}: "
              + ", ".join(f"{r['seconds']:.1f}/{r['cpu']:.1f}/{r['rss_mb']:.0f}" for r in baselines) + ")")  # fmt: skip
    print(f"inserted {runs[0]['inserted']:,}, rejected {runs[0]['rejected']:,}, status {runs[0]['status']}")


if __name__ == "__main__":
    main()
