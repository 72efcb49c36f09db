"""The learning core without a store: signal vs noise, calibration, explanations, safe saving, guards."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from closedloop.predictive import features, train
from closedloop.predictive.explain import contributions, explain
from closedloop.predictive.registry import dump_bundle, load_bundle


def _planted(n: int, seed: int, *, shuffle: bool = False) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Channel A converts at 40%, the others at 5%; touches add a little; `noise` is pure noise."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["A", "B", "C", "D"], n)
    touches = rng.poisson(3, n).astype(float)
    logit = np.where(channel == "A", math.log(0.4 / 0.6), math.log(0.05 / 0.95)) + 0.15 * (touches - 3)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    if shuffle:
        y = rng.permutation(y)
    frame = pd.DataFrame({"channel": channel, "noise": rng.choice(["x", "y"], n), "touches": touches,
                          "minutes": rng.exponential(10, n)})  # fmt: skip
    return frame, y, np.arange(n)


def _fit(frame: pd.DataFrame, y: np.ndarray, order: np.ndarray) -> train.Fitted:
    return train.fit(frame, y, order, ["channel", "noise"], ["touches", "minutes"])


def test_a_planted_signal_is_learned_and_noise_is_not() -> None:
    signal = _fit(*_planted(2000, 1))
    assert signal.evaluation["auc"] > 0.75
    assert signal.evaluation["baseline_auc"] > 0.75
    assert signal.evaluation["naive_bayes_auc"] > 0.7
    noise = _fit(*_planted(2000, 2, shuffle=True))
    assert abs(noise.evaluation["auc"] - 0.5) < 0.1


def test_calibration_on_held_out_data() -> None:
    fitted = _fit(*_planted(12000, 3))
    e = fitted.evaluation
    assert e["brier"] <= e["brier_uncalibrated"] + 1e-4
    assert 0.8 < e["calibration_slope"] < 1.2
    # Each decile's mean prediction is close to its observed rate.
    for row in e["calibration"]:
        assert abs(row["predicted"] - row["observed"]) < 0.05


def test_a_small_sample_carries_a_warning() -> None:
    fitted = _fit(*_planted(400, 4))
    assert fitted.evaluation["warning"] == "predictive.warning.small_sample"
    assert fitted.evaluation["n_train"] + fitted.evaluation["n_test"] == 400
    assert fitted.evaluation["n_test"] == 80


def test_explanations_add_up_to_the_predicted_probability() -> None:
    frame, y, order = _planted(1000, 5)
    fitted = _fit(frame, y, order)
    X = train.encode(frame, fitted.encoding)
    for i in (0, 7, 42):
        parts = contributions(fitted.bundle, fitted.encoding, X[i])
        total = sum(parts["contributions"].values())
        assert total == pytest.approx(parts["logit"] - parts["base_logit"], abs=1e-9)
        p = float(train.probability(fitted.bundle, X[i : i + 1])[0])
        assert 1 / (1 + math.exp(-parts["logit"])) == pytest.approx(p, abs=1e-12)
        # The reference row itself scores the base logit.
        ref = np.asarray(fitted.encoding["reference"])[None, :]
        assert float(train.calibrated_logit(fitted.bundle, ref)[0]) == pytest.approx(parts["base_logit"])
    words = explain(fitted.bundle, fitted.encoding, X[0], frame.iloc[0].to_dict(), lang="zh-TW")
    assert words["probability"] == pytest.approx(float(train.probability(fitted.bundle, X[:1])[0]))
    assert all("機率" in f["text"] for f in words["up"] + words["down"])


def test_a_channel_a_lead_is_explained_by_its_channel() -> None:
    frame, y, order = _planted(2000, 6)
    fitted = _fit(frame, y, order)
    row = frame.index[(frame["channel"] == "A") & (frame["touches"] == 3)][0]
    X = train.encode(frame, fitted.encoding)
    out = explain(fitted.bundle, fitted.encoding, X[row], frame.iloc[row].to_dict())
    assert out["up"][0]["feature"] == "channel"
    assert out["up"][0]["value"] == "A"


def test_saved_models_load_in_a_fresh_process_with_identical_predictions(tmp_path) -> None:
    frame, y, order = _planted(800, 7)
    fitted = _fit(frame, y, order)
    X = train.encode(frame, fitted.encoding)
    (tmp_path / "model.skops").write_bytes(dump_bundle(fitted.bundle))
    np.save(tmp_path / "X.npy", X)
    code = (
        "import sys, numpy as np; from closedloop.predictive import registry, train;"
        f"b = registry.load_bundle(open(r'{tmp_path / 'model.skops'}', 'rb').read());"
        f"np.save(r'{tmp_path / 'p.npy'}', train.probability(b, np.load(r'{tmp_path / 'X.npy'}')))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert np.array_equal(np.load(tmp_path / "p.npy"), train.probability(fitted.bundle, X))
    assert np.array_equal(train.probability(load_bundle(dump_bundle(fitted.bundle)), X),
                          train.probability(fitted.bundle, X))  # fmt: skip


def test_a_model_file_with_unknown_types_is_refused() -> None:
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    from closedloop.errors import ValidationFailed

    data = sio.dumps({"f": FunctionTransformer(func=os.getcwd)})
    with pytest.raises(ValidationFailed):
        load_bundle(data)


def test_leaking_and_personal_columns_are_refused() -> None:
    features.check_features(features.LEAD_FEATURES)
    leaking = [
        features.FeatureSpec("stage", "categorical", ("leads.stage",), "l.stage"),
        features.FeatureSpec("closed", "numeric", ("deals.closed_at",), "d.closed_at"),
        features.FeatureSpec("won_amount", "numeric", ("deals.amount_minor",), "d.amount_minor"),
        features.FeatureSpec("rule_score", "numeric", ("leads.score",), "l.score"),
    ]
    for spec in leaking:
        with pytest.raises(features.LeakageRefused, match="outcome"):
            features.lead_feature_sql([*features.LEAD_FEATURES, spec])
    for column in ("leads.first_name", "leads.gender", "leads.email"):
        spec = features.FeatureSpec("trait", "categorical", (column,), "x")
        with pytest.raises(features.LeakageRefused, match="personal"):
            features.check_features([spec])
    undated = features.FeatureSpec("deal_count", "numeric", ("deals.id",), "x")
    with pytest.raises(features.LeakageRefused):
        features.check_features([undated])
    names = {s.name for s in features.LEAD_FEATURES}
    assert not names & {"first_name", "last_name", "name", "gender", "age", "email", "stage", "score"}


def test_lift_capture_and_psi_by_hand() -> None:
    # 20 rows, scores descending; positives at ranks 1, 2 and 11: top decile (2 rows) has both first.
    p = np.linspace(0.95, 0.0, 20)
    y = np.zeros(20, dtype=int)
    y[[0, 1, 10]] = 1
    out = train.evaluate(y, p)
    assert out["lift"][0]["rate"] == 1.0
    assert out["lift_top_decile"] == pytest.approx(1.0 / (3 / 20))
    assert out["lift"][0]["capture"] == pytest.approx(2 / 3)
    assert out["lift"][5]["capture"] == pytest.approx(1.0)
    assert train.psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert train.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(
        (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    )
    assert list(train.histogram(np.array([0.1, 0.2, 0.6]), [0.15, 0.5])) == pytest.approx(
        [1 / 3, 1 / 3, 1 / 3]
    )
