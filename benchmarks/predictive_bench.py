"""Predictive scoring benchmark: training on 100k leads (< 60 s) and scoring 100k leads (< 5 s).

Part 1 (always): a synthetic frame of N leads with the lead model's 23 features (categorical and
numeric, a planted signal), timed through `train.fit` (boosting + calibration + both baselines +
evaluation) and through scoring (encode + calibrated probability). The peer in the same process is
the logistic baseline alone. Part 2 (`--url`): the same on a demo store, end to end through DuckDB
(labels and point-in-time features), e.g. after `closedloop demo --leads 100000`.

    .venv/bin/python benchmarks/predictive_bench.py [--leads 100000] [--runs 3] [--url sqlite:////tmp/demo.db]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from closedloop.predictive import features, train


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()  # fmt: skip
    except Exception:
        return "unknown"


CPU: dict[int, float] = {}


def _timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall seconds over `runs`; the median process CPU seconds is kept in CPU by id of the float."""
    times, cpu, result = [], [], None
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    wall = statistics.median(times)
    CPU[id(wall)] = statistics.median(cpu)
    return wall, result


def synthetic(n: int, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """N leads shaped like the lead features, with channel, industry and touches carrying signal."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({s.name: rng.choice([f"v{k}" for k in range(12)], n)
                          for s in features.LEAD_FEATURES if s.kind == "categorical"})  # fmt: skip
    for s in features.LEAD_FEATURES:
        if s.kind == "numeric":
            frame[s.name] = rng.poisson(3, n).astype(float)
    frame.loc[rng.random(n) < 0.7, "response_hours"] = np.nan
    logit = (
        -3
        + 1.2 * (frame["first_channel"] == "v0")
        + 0.6 * (frame["industry"] == "v1")
        + 0.2 * frame["touches"]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(int)
    return frame, y, np.arange(n)


def part_synthetic(n: int, runs: int) -> list[tuple[str, float, str]]:
    from sklearn.linear_model import LogisticRegression

    frame, y, order = synthetic(n)
    cat = [s.name for s in features.LEAD_FEATURES if s.kind == "categorical"]
    num = [s.name for s in features.LEAD_FEATURES if s.kind == "numeric"]
    t_fit, fitted = _timed(lambda: train.fit(frame, y, order, cat, num), max(1, runs - 1))
    t_score, p = _timed(lambda: train.probability(fitted.bundle, train.encode(frame, fitted.encoding)), runs)
    X = train.encode(frame, fitted.encoding)
    Xf = np.nan_to_num(X)
    t_peer_fit, peer = _timed(lambda: LogisticRegression(max_iter=500).fit(Xf, y), max(1, runs - 1))
    t_peer_score, _ = _timed(lambda: peer.predict_proba(Xf), runs)
    e = fitted.evaluation
    note = f"auc {e['auc']:.3f} vs logistic {e['baseline_auc']:.3f}"
    return [
        (f"train {n:,} leads (boosting+calibration+baselines+evaluation)", t_fit, note),
        (f"peer: one logistic regression fit on {n:,}", t_peer_fit, f"ratio {t_fit / t_peer_fit:.1f}x"),
        (f"score {n:,} leads (encode + calibrated probability)", t_score, f"{len(p):,} probabilities"),
        (f"peer: logistic predict_proba on {n:,}", t_peer_score, f"ratio {t_score / t_peer_score:.1f}x"),
    ]


def part_store(url: str, runs: int) -> list[tuple[str, float, str]]:
    from closedloop.predictive import registry

    as_of = datetime.now(UTC)
    t_label, moments = _timed(
        lambda: features.labelled_moments(url, target="won", as_of=as_of, horizon_days=180), 1
    )
    t_feat, frame = _timed(lambda: features.lead_features(url, moments), 1)
    cat = [s.name for s in features.LEAD_FEATURES if s.kind == "categorical"]
    num = [s.name for s in features.LEAD_FEATURES if s.kind == "numeric"]
    t_fit, fitted = _timed(lambda: train.fit(frame, moments["label"].to_numpy(), moments["moment"].to_numpy(),
                                             cat, num), 1)  # fmt: skip
    t_dump, data = _timed(lambda: registry.dump_bundle(fitted.bundle), 1)
    t_load, _ = _timed(lambda: registry.load_bundle(data), 1)
    ids = features.open_leads(url, target="won") or moments["lead_id"].tolist()
    now = pd.DataFrame({"lead_id": ids, "moment": pd.Timestamp(as_of.replace(tzinfo=None))})
    now["moment"] = now["moment"].astype("datetime64[us]")

    def score() -> Any:
        return train.probability(
            fitted.bundle, train.encode(features.lead_features(url, now), fitted.encoding)
        )

    t_score, p = _timed(score, runs)
    total = t_label + t_feat + t_fit
    CPU[id(total)] = CPU[id(t_label)] + CPU[id(t_feat)] + CPU[id(t_fit)]
    return [
        (f"store: labels for {len(moments):,} leads with an outcome", t_label, ""),
        (f"store: point-in-time features of {len(moments):,}", t_feat, ""),
        (f"store: fit on {fitted.evaluation['n_train']:,} (+{fitted.evaluation['n_test']:,} test)", t_fit,
         f"auc {fitted.evaluation['auc']:.3f}"),
        ("store: train total (labels + features + fit)", total, "target < 60 s"),
        (f"store: save model (skops, {len(data) / 1e6:.1f} MB)", t_dump, ""),
        ("store: load model (skops, once per process)", t_load, ""),
        (f"store: score {len(p):,} open leads (features + predict)", t_score, "target < 5 s"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", default=None, help="A demo store to run end to end on.")
    args = parser.parse_args()
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f} "
          f"(shared with other engineers); python {platform.python_version()}; commit {_commit()}")  # fmt: skip
    rows = part_synthetic(args.leads, args.runs)
    if args.url:
        rows += part_store(args.url, args.runs)
    print(f"{'step':70} {'wall s':>8} {'cpu s':>7}  note")
    for name, seconds, note in rows:
        cpu = CPU.get(id(seconds))
        print(f"{name:70} {seconds:8.2f} {cpu if cpu is not None else float('nan'):7.2f}  {note}")


if __name__ == "__main__":
    main()
