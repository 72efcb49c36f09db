"""Every benchmark of the project at scales s and m (l on request), on SQLite and PostgreSQL.

Usage: python -m benchmarks.run_all [--scales s m] [--stores sqlite postgres] [--repeat 3]
       [--only name ...] [--timeout 1800]

For each store and scale a demo store is loaded once (`closedloop demo --scale X`: the demo-load
figure), then the benchmarks that read a store run against it (analytics, attribution, pages,
settings pages, predictive, conversions); the ones that build their own data run once per store
(capture, outbox, import, several server processes on PostgreSQL). Each run is repeated
`--repeat` times: RESULTS.json and RESULTS.md give the median and range (min-max) of every
run's wall time, the figures of the scripts that write JSON (with their ratio to the peer they
run side by side), each script's own table (which names its peer and ratio), and the machine.
Plain `make bench` runs s and m; `make bench SCALES="s m l"` adds l.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...]  # {url} is the demo store's URL, {json} a file the script may write
    needs_store: bool = True  # runs on the demo store of each scale
    stores: tuple[str, ...] = ("sqlite", "postgres")
    peer: str = ""  # what the script compares itself with

    def command(self, url: str, json_path: Path, store: str) -> list[str]:
        values = {"url": url, "json": str(json_path), "store": store}
        return [sys.executable, str(HERE / f"{self.name}.py"), *(a.format(**values) for a in self.args)]


BENCHES = (
    Bench("analytics_bench", ("--store", "{url}", "--runs", "3"), peer="hand-written DuckDB SQL"),
    Bench(
        "attribution_bench",
        ("--store", "{url}", "--runs", "3", "--peer-runs", "1"),
        peer="marketing-attribution-models",
    ),
    Bench("pages_bench", ("--url", "{url}", "--requests", "10"), peer="/healthz in the same process"),
    Bench("settings_bench", ("--url", "{url}", "--requests", "10", "--previews", "2"), peer="/healthz"),
    Bench("predictive_bench", ("--url", "{url}", "--runs", "1"), peer="logistic baseline"),
    Bench("conversions_bench", ("--url", "{url}", "--runs", "3"), peer="printed by the script"),
    Bench(
        "capture_bench",
        ("--store", "{store}", "--events", "20000", "--seconds", "10"),
        needs_store=False,
        peer="GET /healthz on the same server",
    ),
    Bench(
        "outbox_bench",
        ("--messages", "200", "--repeats", "3"),
        needs_store=False,
        stores=("sqlite",),
        peer="bare signed HTTP posts",
    ),
    Bench(
        "outbox_bench",
        ("--messages", "200", "--repeats", "3", "--postgres"),
        needs_store=False,
        stores=("postgres",),
        peer="bare signed HTTP posts",
    ),
    Bench(
        "import_bench",
        ("--rows", "200000", "--leads", "20000"),
        needs_store=False,
        stores=("sqlite",),
        peer="bare indexed insert",
    ),
    Bench(
        "multiprocess_bench",
        ("--seconds", "10", "--connections", "16", "--json", "{json}"),
        needs_store=False,
        stores=("postgres",),
        peer="GET /healthz on the same servers",
    ),
)


def machine() -> dict[str, object]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    memory = next(
        (int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
         if line.startswith("MemTotal")), 0,
    )  # fmt: skip
    pg = subprocess.run(["psql", PG_ADMIN, "-Atc", "SHOW server_version"], capture_output=True, text=True)
    return {
        "cpu": model,
        "cpus": len(os.sched_getaffinity(0)),
        "memory_mb": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": pg.stdout.strip() or "unavailable",
        "commit": commit.stdout.strip(),
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def closedloop(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("closedloop")
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=timeout)


def demo_store(store: str, scale: str, folder: Path, timeout: float) -> tuple[str, dict]:
    """A demo store at `scale`; returns its URL and the timed load."""
    if store == "sqlite":
        url = f"sqlite:///{folder}/demo-{scale}.db"
    else:
        import psycopg

        name = f"bench_demo_{scale}_{os.getpid()}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    env = {**os.environ, "CLOSEDLOOP_DATABASE_URL": url, "CLOSEDLOOP_SECRET_KEY": secrets.token_urlsafe(48)}
    init = closedloop("init", env=env, timeout=timeout)
    started = time.perf_counter()
    loaded = closedloop("demo", "--scale", scale, "--seed", "1", env=env, timeout=timeout)
    elapsed = time.perf_counter() - started
    output = loaded.stdout + ("" if loaded.returncode == 0 else init.stderr + loaded.stderr[-3000:])
    return url, {"exit": loaded.returncode, "seconds": elapsed, "output": output}


def drop_store(url: str) -> None:
    if url.startswith("postgresql"):
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def run_bench(bench: Bench, url: str, store: str, repeat: int, folder: Path, timeout: float) -> dict:
    walls, outputs, figures, exits = [], [], [], []
    for i in range(repeat):
        json_path = folder / f"{bench.name}-{store}-{i}.json"
        command = bench.command(url, json_path, store)
        started = time.perf_counter()
        try:
            proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=timeout)
            code, out = proc.returncode, proc.stdout + ("" if proc.returncode == 0 else proc.stderr[-3000:])
        except subprocess.TimeoutExpired:
            code, out = -1, f"timed out after {timeout:.0f} s"
        walls.append(time.perf_counter() - started)
        exits.append(code)
        outputs.append(out)
        if json_path.exists():
            figures.append(json.loads(json_path.read_text()))
    command_text = shlex.join(bench.command(url, folder / "out.json", store)[1:]).replace(str(ROOT) + "/", "")
    return {
        "bench": bench.name,
        "store": store,
        "command": command_text,
        "peer": bench.peer,
        "exit": max(exits, key=abs),
        "wall_seconds": summary(walls),
        "figures": _figure_summary(figures),
        "output": outputs[-1],
    }


def _figure_summary(docs: list[dict]) -> dict:
    """Median and range of every numeric phase figure over the repeats (scripts writing JSON)."""
    if not docs:
        return {}
    phases: dict[str, dict[str, dict[str, float]]] = {}
    for name in docs[0].get("phases", {}):
        keys = [k for k, v in docs[0]["phases"][name].items() if isinstance(v, int | float)]
        phases[name] = {
            k: summary([d["phases"][name][k] for d in docs if name in d.get("phases", {})]) for k in keys
        }
    return {"phases": phases, "durable": all(d.get("durable", True) for d in docs)}


def write_results(doc: dict, out: Path) -> None:
    (out / "RESULTS.json").write_text(json.dumps(doc, indent=2, default=str))
    m = doc["machine"]
    lines = [
        "# closedloop benchmarks",
        "",
        f"Written by `{doc['command']}` on {m['started']} (commit {m['commit']}).",
        "",
        f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_mb']:,} MB RAM, {m['os']}, Python {m['python']}, "
        f"PostgreSQL {m['postgresql']} on loopback. Load average at start: {m['load_average_at_start']} "
        "(the machine is shared: figures move with the load).",
        "",
        "Wall time is the whole script run (data preparation included), median and range over the repeats.",
        "Each script's own table below holds its figures and its ratio to the peer it runs side by side.",
        "",
        "| benchmark | store | scale | exit | wall s (median) | range | peer |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in doc["runs"]:
        w = run.get("wall_seconds")
        wall = f"{w['median']:.1f} | {w['min']:.1f}-{w['max']:.1f} (n={w['n']})" if w else "- | not timed"
        lines.append(
            f"| {run['bench']} | {run['store']} | {run.get('scale', '-')} | {run['exit']} | {wall} | {run['peer']} |"
        )
    for run in doc["runs"]:
        phases = run.get("figures", {}).get("phases")
        if not phases:
            continue
        lines += ["", f"## {run['bench']} on {run['store']}: figures (median, range)", ""]
        lines += [
            "| phase | events/s | req/s | p50 ms | p99 ms | errors | vs peer |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, f in phases.items():

            def cell(key: str, f: dict = f) -> str:
                s = f.get(key)
                return "-" if not s else f"{s['median']:.1f} ({s['min']:.1f}-{s['max']:.1f})"

            lines.append(
                f"| {name} | {cell('events_per_s')} | {cell('requests_per_s')} | {cell('p50_ms')} | "
                f"{cell('p99_ms')} | {cell('errors')} | {cell('vs_peer')} |"
            )
    lines += ["", "## Peer comparisons (each script's lines naming its peer or a ratio)", ""]
    for run in doc["runs"]:
        found = peer_lines(run["output"])
        if found:
            lines += [f"- **{run['bench']}** ({run['store']}, scale {run.get('scale', '-')}):"]
            lines += [f"  `{line}`" for line in found]
    lines += ["", "## Each run's own output", ""]
    for run in doc["runs"]:
        lines += [f"### {run['bench']} ({run['store']}, scale {run.get('scale', '-')})", "",
                  f"`{run['command']}`", "", "```", run["output"].rstrip()[-6000:], "```", ""]  # fmt: skip
    (out / "RESULTS.md").write_text("\n".join(lines) + "\n")


PEER_WORDS = re.compile(r"peer|ratio|faster|slower|\bvs\b|speed-?up|\d(\.\d+)?x\b", re.IGNORECASE)


def peer_lines(output: str, limit: int = 8) -> list[str]:
    """The lines of a script's output that compare it with its peer (headers included)."""
    return [line.strip().replace("`", "'") for line in output.splitlines() if PEER_WORDS.search(line)][:limit]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["s", "m"], choices=["s", "m", "l"])
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--repeat", type=int, default=1, help="Runs of each benchmark (median and range).")
    parser.add_argument("--only", nargs="*", default=None, help="Benchmark names to run (default: all).")
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds allowed to one script run.")
    parser.add_argument("--out", type=Path, default=HERE, help="Where RESULTS.md and RESULTS.json go.")
    parser.add_argument(
        "--render", type=Path, default=None, help="Only write RESULTS.md again from this JSON."
    )
    args = parser.parse_args(argv)
    if args.render:
        write_results(json.loads(args.render.read_text()), args.out)
        return 0
    benches = list(BENCHES) if args.only is None else [b for b in BENCHES if b.name in args.only]
    load_demo = args.only is None or "demo_load" in args.only or any(b.needs_store for b in benches)
    doc: dict = {
        "command": "python -m benchmarks.run_all " + shlex.join(argv),
        "machine": machine(),
        "runs": [],
    }
    failed = 0
    with tempfile.TemporaryDirectory(prefix="closedloop-bench-") as tmp:
        folder = Path(tmp)
        for store in args.stores:
            for bench in [b for b in benches if not b.needs_store and store in b.stores]:
                print(f"== {bench.name} on {store}", flush=True)
                run = run_bench(bench, "", store, args.repeat, folder, args.timeout)
                doc["runs"].append(run)
                failed += run["exit"] != 0
                write_results(doc, args.out)
            for scale in args.scales:
                if not load_demo:
                    continue
                print(f"== demo load, scale {scale} on {store}", flush=True)
                url, loaded = demo_store(store, scale, folder, args.timeout)
                doc["runs"].append({
                    "bench": "demo_load", "store": store, "scale": scale, "exit": loaded["exit"],
                    "command": f"closedloop demo --scale {scale} --seed 1", "peer": "see benchmarks/demo_load.py",
                    "wall_seconds": summary([loaded["seconds"]]), "figures": {}, "output": loaded["output"],
                })  # fmt: skip
                try:
                    if loaded["exit"] != 0:
                        failed += 1
                        continue
                    for bench in [b for b in benches if b.needs_store and store in b.stores]:
                        print(f"== {bench.name} on {store} at scale {scale}", flush=True)
                        run = run_bench(bench, url, store, args.repeat, folder, args.timeout)
                        run["scale"] = scale
                        doc["runs"].append(run)
                        failed += run["exit"] != 0
                        write_results(doc, args.out)
                finally:
                    drop_store(url)
    doc["machine"]["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_results(doc, args.out)
    print(f"wrote {args.out / 'RESULTS.md'} and {args.out / 'RESULTS.json'} ({failed} failed runs)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
