"""Encode features, fit the calibrated gradient-boosting model and its two baselines, evaluate.

The split is by time: the latest 20% of moments are the test set; of the rest, the latest 20%
is a held-out calibration slice (Platt scaling of the boosting model's logit, which keeps the
explanation exact: a calibrated logit is a*raw + b). Baselines: logistic regression on one-hot
categories and log counts, and a naive-Bayes frequency model on the categories, like Odoo's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MAX_LEVELS = 60
MIN_COUNT = 5
SMALL_TRAIN = 1000
SMALL_CLASS = 50
EPS = 1e-6
SMALL_INPUT = 20000


@dataclass
class Fitted:
    """The estimators (saved with skops) and the JSON description of the features."""

    bundle: dict[str, Any]
    encoding: dict[str, Any]
    evaluation: dict[str, Any]


def fit_encoding(frame: pd.DataFrame, categorical: list[str], numeric: list[str]) -> dict[str, Any]:
    """Vocabularies of the frequent values (code 0 is every other value) and the reference row."""
    import numpy as np

    vocab: dict[str, list[str]] = {}
    # A number never observed in training (e.g. no hand-off yet) carries nothing to learn from.
    numeric = [name for name in numeric if frame[name].notna().any()]
    for name in categorical:
        counts = frame[name].astype(str).value_counts()
        vocab[name] = [str(v) for v in counts[counts >= MIN_COUNT].index[:MAX_LEVELS]]
    encoding: dict[str, Any] = {"categorical": categorical, "numeric": numeric, "vocab": vocab}
    X = encode(frame, encoding)
    # The reference lead: the most common value of each category, the median of each number.
    reference = [float(np.bincount(X[:, i].astype(np.int64)).argmax()) for i in range(len(categorical))]
    for j in range(len(categorical), X.shape[1]):
        column = X[:, j]
        finite = column[~np.isnan(column)]
        reference.append(float(np.median(finite)) if len(finite) else float("nan"))
    encoding["reference"] = reference
    return encoding


def encode(frame: pd.DataFrame, encoding: dict[str, Any]) -> np.ndarray:
    """A float matrix: category codes first (0 = other or unseen), then log1p of the numbers."""
    import numpy as np
    import pandas as pd

    columns = []
    for name in encoding["categorical"]:
        codes = pd.Index(encoding["vocab"][name], dtype=object).get_indexer(frame[name].astype(str))
        columns.append(codes.astype(np.float64) + 1.0)
    for name in encoding["numeric"]:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        columns.append(np.log1p(np.clip(values, 0.0, None)))
    return np.column_stack(columns) if columns else np.empty((len(frame), 0))


def _threads(n_rows: int) -> Any:
    """One OpenMP thread for small inputs: spinning threads cost more than they save there."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1 if n_rows < SMALL_INPUT else None, user_api="openmp")


def raw_logit(bundle: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """The boosting model's uncalibrated log-odds."""
    with _threads(len(X)):
        return bundle["hgb"].decision_function(X)


def calibrated_logit(bundle: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """Log-odds after Platt scaling on the held-out calibration slice."""
    a, b = (float(v) for v in bundle["platt"])
    return a * raw_logit(bundle, X) + b


def probability(bundle: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """The calibrated probability of the positive outcome."""
    import numpy as np

    return 1.0 / (1.0 + np.exp(-calibrated_logit(bundle, X)))


def _models(n_categorical: int, n_columns: int, levels: list[int]) -> tuple[Any, Any, Any]:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import CategoricalNB
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    mask = [i < n_categorical for i in range(n_columns)]
    hgb = HistGradientBoostingClassifier(
        categorical_features=mask, max_iter=150, learning_rate=0.1, max_leaf_nodes=31,
        min_samples_leaf=40, l2_regularization=1.0, early_stopping=True, validation_fraction=0.1,
        n_iter_no_change=15, random_state=0,
    )  # fmt: skip
    cat_idx = list(range(n_categorical))
    num_idx = list(range(n_categorical, n_columns))
    transforms: list[tuple[str, Any, list[int]]] = []
    if cat_idx:
        transforms.append(("cat", OneHotEncoder(handle_unknown="ignore"), cat_idx))
    if num_idx:
        numeric = Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                            ("scale", StandardScaler())])  # fmt: skip
        transforms.append(("num", numeric, num_idx))
    logit = Pipeline(
        [("columns", ColumnTransformer(transforms)), ("model", LogisticRegression(max_iter=300, tol=1e-3))]
    )
    nb = CategoricalNB(alpha=1.0, min_categories=[n + 1 for n in levels]) if levels else None
    return hgb, logit, nb


def fit(
    frame: pd.DataFrame, y: np.ndarray, order: np.ndarray, categorical: list[str], numeric: list[str]
) -> Fitted:
    """Fit on the older 80% of rows (by `order`), evaluate on the newest 20%."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    n = len(frame)
    y = np.asarray(y, dtype=np.int64)
    if n < 20 or len(np.unique(y)) < 2:
        raise ValidationFailed(translate("predictive.error.too_little_data", n=n))
    ranked = np.argsort(np.asarray(order), kind="stable")
    n_test = max(round(n * 0.2), 1)
    train_idx, test_idx = ranked[: n - n_test], ranked[n - n_test :]
    n_cal = max(round(len(train_idx) * 0.2), 1)
    fit_idx, cal_idx = train_idx[: len(train_idx) - n_cal], train_idx[len(train_idx) - n_cal :]
    if len(np.unique(y[fit_idx])) < 2 or len(np.unique(y[cal_idx])) < 2:
        raise ValidationFailed(translate("predictive.error.too_little_data", n=n))
    encoding = fit_encoding(frame.iloc[train_idx], categorical, numeric)
    X = encode(frame, encoding)
    numeric = encoding["numeric"]
    levels = [len(encoding["vocab"][c]) for c in categorical]
    hgb, logit, nb = _models(len(categorical), X.shape[1], levels)
    with _threads(len(fit_idx)):
        hgb.fit(X[fit_idx], y[fit_idx])
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(
        raw_logit({"hgb": hgb}, X[cal_idx])[:, None], y[cal_idx]
    )
    bundle: dict[str, Any] = {
        "hgb": hgb,
        "platt": np.array([platt.coef_[0, 0], platt.intercept_[0]]),
        "logit": logit.fit(X[train_idx], y[train_idx]),
    }
    if nb is not None:
        bundle["nb"] = nb.fit(X[train_idx, : len(categorical)].astype(np.int64), y[train_idx])
    y_test, X_test = y[test_idx], X[test_idx]
    p = probability(bundle, X_test)
    uncalibrated = 1.0 / (1.0 + np.exp(-raw_logit(bundle, X_test)))
    evaluation = evaluate(y_test, p)
    evaluation.update(
        n_train=len(train_idx),
        n_test=len(test_idx),
        positives_train=int(y[train_idx].sum()),
        positives_test=int(y_test.sum()),
        base_rate=float(y[train_idx].mean()),
        brier_uncalibrated=_brier(y_test, uncalibrated),
        baseline=_summary(y_test, bundle["logit"].predict_proba(X_test)[:, 1]),
    )
    evaluation["baseline_auc"] = evaluation["baseline"]["auc"]
    if "nb" in bundle:
        nb_p = bundle["nb"].predict_proba(X_test[:, : len(categorical)].astype(np.int64))[:, 1]
        evaluation["naive_bayes"] = _summary(y_test, nb_p)
        evaluation["naive_bayes_auc"] = evaluation["naive_bayes"]["auc"]
    edges = np.unique(np.quantile(p, np.linspace(0.1, 0.9, 9))) if len(p) else np.array([])
    evaluation["score_edges"] = [float(e) for e in edges]
    evaluation["score_reference"] = [float(v) for v in histogram(p, edges)]
    small = (
        len(train_idx) < SMALL_TRAIN
        or min(evaluation["positives_train"], len(train_idx) - evaluation["positives_train"]) < SMALL_CLASS
    )
    evaluation["warning"] = "predictive.warning.small_sample" if small else None
    return Fitted(bundle=bundle, encoding=encoding, evaluation=evaluation)  # fmt: skip


def histogram(p: np.ndarray, edges: np.ndarray | list[float]) -> np.ndarray:
    """Share of scores in each bin cut at `edges` (len(edges) + 1 bins)."""
    import numpy as np

    counts = np.bincount(np.searchsorted(np.asarray(edges), p, side="right"), minlength=len(edges) + 1)
    return counts / max(counts.sum(), 1)


def psi(expected: np.ndarray | list[float], actual: np.ndarray | list[float]) -> float:
    """Population stability index between two binned distributions."""
    import numpy as np

    e = np.clip(np.asarray(expected, dtype=float), 1e-4, None)
    a = np.clip(np.asarray(actual, dtype=float), 1e-4, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _brier(y: np.ndarray, p: np.ndarray) -> float:
    import numpy as np

    return float(np.mean((p - y) ** 2))


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None


def _summary(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    import numpy as np
    from sklearn.metrics import log_loss

    clipped = np.clip(p, EPS, 1 - EPS)
    return {"auc": _auc(y, p), "log_loss": float(log_loss(y, clipped, labels=[0, 1])), "brier": _brier(y, p)}


def calibration_slope(y: np.ndarray, p: np.ndarray) -> float | None:
    """Slope of the logistic recalibration of y on logit(p): 1 when perfectly calibrated."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y)) < 2:
        return None
    q = np.clip(p, EPS, 1 - EPS)
    model = LogisticRegression(C=1e6, max_iter=1000).fit(np.log(q / (1 - q))[:, None], y)
    return float(model.coef_[0, 0])


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """AUC, log loss, Brier, calibration by decile, lift and capture by decile."""
    import numpy as np

    out = _summary(y, p)
    order = np.argsort(-p, kind="stable")
    total = max(int(y.sum()), 1)
    base = y.mean() if len(y) else 0.0
    lift, captured = [], 0
    for k, idx in enumerate(np.array_split(order, 10), start=1):
        if not len(idx):
            continue
        hits = int(y[idx].sum())
        captured += hits
        rate = hits / len(idx)
        lift.append({"decile": k, "n": len(idx), "positives": hits, "rate": float(rate),
                     "lift": float(rate / base) if base else None, "capture": captured / total})  # fmt: skip
    calibration = []
    for k, idx in enumerate(np.array_split(np.argsort(p, kind="stable"), 10), start=1):
        if len(idx):
            calibration.append({"decile": k, "n": len(idx), "predicted": float(p[idx].mean()),
                                "observed": float(y[idx].mean())})  # fmt: skip
    out.update(
        lift=lift,
        lift_top_decile=lift[0]["lift"] if lift else None,
        calibration=calibration,
        calibration_slope=calibration_slope(y, p),
    )
    return out
