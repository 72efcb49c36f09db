"""Attribution benchmark: closedloop's models against marketing-attribution-models (same data, same process).

Generates 1M journeys (~3M touches) with a fixed seed, aggregates them into a path table
(~140k distinct paths), times every model warm (median of several runs) and the peer's shared
models, and checks agreement (first, last, linear credits and Markov removal effects to 1e-9).

    .venv/bin/pip install marketing-attribution-models==2.1.1   # the benchmark only (extra `bench`)
    .venv/bin/python benchmarks/attribution_bench.py [--journeys 1000000] [--runs 5] [--peer-runs 3]

End to end from a store (journeys built inside DuckDB from touchpoints and lifecycle events, then
every model): `--store-scale s|m|l` generates leads, their waterfall and ~10 touchpoints per lead
into a SQLite file (kept with `--keep FILE`, reused when it exists), or `--store URL` uses a store.

    .venv/bin/python benchmarks/attribution_bench.py --store-scale m --keep /tmp/attr_m.db
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from closedloop.attribution import heuristics, markov, shapley
from closedloop.attribution.data import Journeys

CHANNELS = [
    "Paid Search", "Organic Search", "Paid Social", "Organic Social", "Email", "Display",
    "Affiliates", "Referral", "Messaging", "Events", "Direct", "Other",
]  # fmt: skip
MAX_LEN = 14


def generate(n: int, seed: int) -> Journeys:
    """1M journeys with times and key-touch positions (touch level, no aggregation)."""
    rng = np.random.default_rng(seed)
    lengths = np.minimum(1 + rng.poisson(2.0, n), MAX_LEN)
    popularity = 1.0 / np.arange(1, len(CHANNELS) + 1) ** 0.5
    touches = rng.choice(len(CHANNELS), size=int(lengths.sum()), p=popularity / popularity.sum())
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    jid = np.repeat(np.arange(n), lengths)
    # converting more often after Email, Events and Paid Search touches, and with longer paths
    lift = np.array([0.5, 0.2, 0.1, 0.0, 0.6, -0.2, 0.0, 0.1, 0.3, 0.7, 0.2, -0.3])
    score = -2.2 + np.bincount(jid, weights=lift[touches], minlength=n)
    converted = rng.random(n) < 1 / (1 + np.exp(-score))
    values = np.where(converted, np.round(rng.lognormal(10, 1, n), 2), 0.0)
    gaps = rng.exponential(4.0, len(touches))
    # ages: days from each touch to the conversion (the last touch is the youngest)
    reverse_cum = np.cumsum(gaps[::-1])[::-1]
    ages = reverse_cum - np.repeat(reverse_cum[offsets[1:] - 1], lengths)
    lead = rng.integers(0, lengths)
    opp = np.where(rng.random(n) < 0.5, rng.integers(0, lengths), -1)
    conv = converted.astype(np.float64)
    return Journeys(
        list(CHANNELS), offsets, touches.astype(np.int64), conv, values, 1.0 - conv, ages, lead, opp
    )


def to_path_table(journeys: Journeys) -> Journeys:
    """Aggregate identical paths (the path-table form: one row per distinct path)."""
    base = len(journeys.keys) + 1
    lengths = journeys.lengths
    pos = journeys.position_of_touch()
    code = np.zeros(journeys.count, dtype=np.int64)
    np.add.at(code, journeys.journey_of_touch(), (journeys.touches + 1) * base**pos)
    unique, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    k = len(unique)
    new_lengths = lengths[first]
    starts = journeys.offsets[first]
    offsets = np.concatenate([[0], np.cumsum(new_lengths)]).astype(np.int64)
    take = np.repeat(starts, new_lengths) + (np.arange(offsets[-1]) - np.repeat(offsets[:-1], new_lengths))
    return Journeys(
        list(journeys.keys),
        offsets,
        journeys.touches[take],
        np.bincount(inverse, weights=journeys.conversions, minlength=k),
        np.bincount(inverse, weights=journeys.values, minlength=k),
        np.bincount(inverse, weights=journeys.nulls, minlength=k),
    )


def median_time(fn: Callable[[], object], runs: int, label: str = "") -> tuple[float, object]:
    """Median seconds per call over `runs` batches (a batch repeats fast calls to last >= 0.2 s)."""
    start = time.perf_counter()
    result = fn()  # warm
    number = max(1, int(0.2 / max(time.perf_counter() - start, 1e-6)))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(number):
            result = fn()
        times.append((time.perf_counter() - start) / number)
    if label:
        print(f"  measured {label}: {statistics.median(times):.4f} s", file=sys.stderr, flush=True)
    return statistics.median(times), result


def peer_frame(paths: Journeys):
    """The same path table in the peer's grouped-journey format (a row per path and outcome)."""
    import polars as pl

    names = np.array(paths.keys, dtype=object)
    strings = [
        " > ".join(names[paths.touches[a:b]])
        for a, b in zip(paths.offsets[:-1], paths.offsets[1:], strict=True)
    ]
    rows = {"journey": [], "has_conversion": [], "occurrences": []}
    for counts, flag in ((paths.conversions, True), (paths.nulls, False)):
        keep = np.flatnonzero(counts > 0)
        rows["journey"] += [strings[i] for i in keep]
        rows["has_conversion"] += [flag] * len(keep)
        rows["occurrences"] += counts[keep].astype(np.int64).tolist()
    return pl.DataFrame(rows)


def from_store(url: str, runs: int, conversions: list[str], models: list[str] | None = None) -> None:
    """Every model end to end from the store: journeys inside DuckDB, then the model (median of runs).

    "End to end" is a fresh question in a warm process: the analytics snapshot is current and the
    connection warm, but the journeys (and key names) kept per snapshot are cleared before every
    call, so each call builds what its model reads (converting journeys for the rule-based
    models, key sequences for Markov, key sets for Shapley) and runs the model. "kept" is the
    same call when the journeys are already kept for the snapshot (a second model, the same question).
    """
    from closedloop.analytics import engine, snapshot
    from closedloop.attribution import aggregated
    from closedloop.attribution import journeys as journeys_module
    from closedloop.attribution.service import MODELS, attribute

    counts = engine.rows(url, "SELECT (SELECT count(*) FROM store.leads) AS leads,"
                              " (SELECT count(*) FROM store.touchpoints) AS touches,"
                              " (SELECT count(*) FROM store.lifecycle_events) AS events")[0]  # fmt: skip
    print(
        f"store: {url}; {counts['leads']:,} leads, {counts['touches']:,} touchpoints, {counts['events']:,} events"
    )
    started = time.perf_counter()
    snapshot.rebuild(url)  # warm: the analytics snapshot is current with the store
    print(f"snapshot copy (incl. touchpoints): {time.perf_counter() - started:.1f} s")
    print(
        f"{'conversion':<12} {'model':<16} {'end to end s':>13} {'journeys s':>11} {'model s':>8} {'kept s':>7}  journeys read"
    )

    def fresh(model: str, conversion: str) -> Journeys:
        journeys_module._cache.clear()  # time the build itself, not the journeys kept per snapshot
        aggregated._names.clear()
        return aggregated.journeys_for(model, url, conversion=conversion)

    runs_of = [(m, 1) for m in MODELS if m != "markov"] + [("markov", 1), ("markov", 3)]
    runs_of = [(m, k) for m, k in runs_of if models is None or m in models]
    for conversion in conversions:
        fresh("linear", conversion)  # warm: connection, extension, file cache
        for model, order in runs_of:
            label = f"markov k={order}" if model == "markov" else model
            total, _ = median_time(
                lambda c=conversion, m=model, k=order: attribute(fresh(m, c), m, order=k), runs
            )
            built, journeys = median_time(lambda c=conversion, m=model: fresh(m, c), runs)
            assert isinstance(journeys, Journeys)
            alone, _ = median_time(lambda m=model, j=journeys, k=order: attribute(j, m, order=k), runs)
            kept, _ = median_time(
                lambda c=conversion, m=model, k=order: attribute(
                    aggregated.journeys_for(m, url, conversion=c), m, order=k
                ),
                runs,
            )
            shape = f"{journeys.count:,} rows, {len(journeys.touches):,} touches, {int(journeys.conversions.sum()):,} conversions"
            print(
                f"{conversion:<12} {label:<16} {total:13.3f} {built:11.3f} {alone:8.3f} {kept:7.3f}  {shape}",
                flush=True,
            )
    engine.close(url)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--journeys", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--store", help="time every model end to end from this store URL")
    parser.add_argument("--store-scale", choices=["s", "m", "l"], help="generate a store of this scale first")
    parser.add_argument(
        "--keep", help="with --store-scale: generate into this SQLite file (reused if present)"
    )
    parser.add_argument("--conversions", default="mql,opportunity", help="conversions timed from the store")
    parser.add_argument("--models", help="with a store: only these models (comma-separated)")
    args = parser.parse_args()

    if args.store or args.store_scale:
        url = args.store
        if url is None:
            import tempfile

            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
            from benchmarks.analytics_bench import SCALES
            from benchmarks.analytics_bench import generate as generate_store

            path = Path(args.keep) if args.keep else Path(tempfile.mkdtemp()) / "attribution_bench.db"
            if not path.exists():
                started = time.perf_counter()
                generate_store(path, SCALES[args.store_scale], seed=1, touches=True)
                print(f"generated scale {args.store_scale} in {time.perf_counter() - started:.1f} s")
            url = f"sqlite:///{path}"
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, check=False).stdout.strip()  # fmt: skip
        print(f"machine: {platform.machine()} cpus={os.cpu_count()} python {platform.python_version()}; "
              f"commit {commit}; load average {os.getloadavg()[0]:.1f} (the machine is shared)")  # fmt: skip
        from_store(
            url, args.runs, args.conversions.split(","), args.models.split(",") if args.models else None
        )
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
        return

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent, check=False).stdout.strip()  # fmt: skip
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
          f"python {platform.python_version()} numpy {np.__version__}; commit {commit}; "
          f"load average {os.getloadavg()[0]:.1f} (the machine is shared)")  # fmt: skip
    journeys = generate(args.journeys, args.seed)
    start = time.perf_counter()
    table = to_path_table(journeys)
    aggregate = time.perf_counter() - start
    print(f"data: {journeys.count:,} journeys, {len(journeys.touches):,} touches, {table.count:,} distinct paths, "
          f"{int(journeys.conversions.sum()):,} conversions, seed {args.seed} (path table built in {aggregate:.2f} s)")  # fmt: skip

    rows: list[tuple[str, str, float, float | None]] = []
    ours: dict[str, object] = {}
    touch_level = {
        "first_touch": heuristics.first_touch,
        "last_touch": heuristics.last_touch,
        "linear": heuristics.linear,
        "position_based": heuristics.position_based,
        "time_decay": heuristics.time_decay,
        "w_shaped": heuristics.w_shaped,
    }
    for name, fn in touch_level.items():
        t, _ = median_time(lambda fn=fn: fn(journeys), args.runs, name)
        rows.append((name, f"{journeys.count:,} journeys, {len(journeys.touches):,} touches", t, None))
    path_level: dict[str, Callable[[], object]] = {
        "first_touch": lambda: heuristics.first_touch(table),
        "last_touch": lambda: heuristics.last_touch(table),
        "linear": lambda: heuristics.linear(table),
        "position_based": lambda: heuristics.position_based(table),
        "markov k=1": lambda: markov.markov(table, order=1),
        "markov k=2": lambda: markov.markov(table, order=2),
        "markov k=3": lambda: markov.markov(table, order=3),
        "markov k=4": lambda: markov.markov(table, order=4),
        "shapley": lambda: shapley.shapley(table),
    }
    for name, fn in path_level.items():
        t, result = median_time(fn, args.runs, name)
        ours[name] = result
        rows.append((name, f"path table, {table.count:,} paths", t, None))

    peer_note = ""
    try:
        from mam.core import MAM

        frame = peer_frame(table)
        start = time.perf_counter()
        peer = MAM(frame, format_type="grouped_journey", channels_colname="journey",
                   journey_with_conv_colname="has_conversion", occurrences_colname="occurrences")  # fmt: skip
        peer_setup = time.perf_counter() - start
        peer_calls = {
            "first_touch": peer.run_first_click,
            "last_touch": peer.run_last_click,
            "linear": peer.run_linear,
            "position_based": peer.run_position_based,
            "markov k=1": peer.run_markov,
        }
        peer_results = {}
        for name, call in peer_calls.items():
            t, result = median_time(call, args.peer_runs, "peer " + name)
            peer_results[name] = result
            rows = [(n, d, o, t if n == name and d.startswith("path") else p) for n, d, o, p in rows]
        peer_note = f"peer: marketing-attribution-models 2.1.1 (polars), setup {peer_setup:.2f} s not timed"
        check_agreement(ours, peer_results)
    except ImportError:
        peer_note = "peer: marketing-attribution-models not installed (pip install it into .venv to compare)"

    print(peer_note)
    print(f"{'model':<16} {'data':<34} {'closedloop s':>13} {'peer s':>9} {'peer/ours':>10}")
    for name, data, t, p in rows:
        peer_s = f"{p:9.3f}" if p is not None else f"{'-':>9}"
        ratio = f"{p / t:9.1f}x" if p is not None else f"{'-':>10}"
        print(f"{name:<16} {data:<34} {t:13.3f} {peer_s} {ratio}")


def check_agreement(ours: dict[str, object], peer: dict[str, object]) -> None:
    """Credits of first, last, linear (and position_based) and Markov removal effects, to 1e-9.

    Credits are sums over 140k paths, so they are compared relative to their size
    (|ours - peer| / max(|peer|, 1)); removal effects are probabilities, compared absolutely.
    """
    for name in ("first_touch", "last_touch", "linear", "position_based"):
        mine = ours[name]
        theirs = dict(peer[name].to_polars().select(["channels", "attribution"]).iter_rows())
        pairs = [
            (float(c), float(theirs.get(k, 0.0))) for k, c in zip(mine.keys, mine.conversions, strict=True)
        ]
        absolute = max(abs(a - b) for a, b in pairs)
        relative = max(abs(a - b) / max(abs(b), 1.0) for a, b in pairs)
        status = "agree" if relative < 1e-9 else "DISAGREE"
        print(
            f"agreement {name:<15} max |diff| {absolute:.1e} conversions, max relative {relative:.1e}: {status}"
        )
    mine = ours["markov k=1"]
    removal = peer["markov k=1"].metadata["removal_effect"]["removal_effect"].to_dict()
    worst = max(
        abs(float(r) - float(removal[k])) for k, r in zip(mine.keys, mine.removal_effects, strict=True)
    )
    status = "agree" if worst < 1e-9 else "DISAGREE"
    print(f"agreement markov removal effects (order 1) max |diff| {worst:.1e}: {status}")


if __name__ == "__main__":
    sys.exit(main())
