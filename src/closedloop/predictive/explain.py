"""Why a lead (or account) got its probability: an exact occlusion path on the boosting model.

Starting from the scored row, features are replaced one at a time by the reference row's value
(the most common category, the median number), largest single effect first. Each step's change in
the calibrated logit is that feature's contribution, so the contributions add up exactly to the
row's logit minus the reference row's logit (the "base"). Words come from the i18n catalogue.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from closedloop.i18n import translate
from closedloop.predictive.train import raw_logit

if TYPE_CHECKING:
    import numpy as np

TOP = 5


def contributions(bundle: dict[str, Any], encoding: dict[str, Any], x: np.ndarray) -> dict[str, Any]:
    """Per-feature contributions to the calibrated logit of one encoded row `x`."""
    import numpy as np

    ref = np.asarray(encoding["reference"], dtype=np.float64)
    n = len(ref)
    a, b = (float(v) for v in bundle["platt"])
    row = np.asarray(x, dtype=np.float64).reshape(1, -1)
    single = np.repeat(row, n, axis=0)
    single[np.arange(n), np.arange(n)] = ref
    f_x = float(raw_logit(bundle, row)[0])
    effect = f_x - raw_logit(bundle, single)
    order = np.argsort(-np.abs(effect), kind="stable")
    path = np.repeat(row, n + 1, axis=0)
    for step, i in enumerate(order):
        path[step + 1 :, i] = ref[i]
    values = raw_logit(bundle, path)
    steps = a * (values[:-1] - values[1:])
    names = list(encoding["categorical"]) + list(encoding["numeric"])
    per_feature = {names[i]: float(steps[k]) for k, i in enumerate(order)}
    base_logit = a * float(values[-1]) + b
    logit = a * f_x + b
    return {"logit": logit, "base_logit": base_logit, "contributions": per_feature}


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _shown(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "(none)"
        return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    return str(value)


def explain(
    bundle: dict[str, Any],
    encoding: dict[str, Any],
    x: np.ndarray,
    raw: dict[str, object],
    *,
    lang: str = "en",
    base_rate: float | None = None,
) -> dict[str, Any]:
    """The probability, the base it starts from, and the top factors up and down, in words."""
    parts = contributions(bundle, encoding, x)
    factors = []
    for name, value in parts["contributions"].items():
        if value == 0.0:
            continue
        label = translate(f"predictive.feature.{name}", lang)
        key = "predictive.explain.up" if value > 0 else "predictive.explain.down"
        factors.append(
            {
                "feature": name,
                "value": _shown(raw.get(name)),
                "contribution": value,
                "text": translate(
                    key, lang, feature=label, value=_shown(raw.get(name)), effect=f"{value:+.2f}"
                ),
            }
        )
    factors.sort(key=lambda f: -abs(f["contribution"]))
    probability = _sigmoid(parts["logit"])
    base_probability = _sigmoid(parts["base_logit"])
    summary = translate(
        "predictive.explain.summary",
        lang,
        probability=f"{probability:.1%}",
        base=f"{base_probability:.1%}",
    )
    return {
        "probability": probability,
        "logit": parts["logit"],
        "base_logit": parts["base_logit"],
        "base_probability": base_probability,
        "base_rate": base_rate,
        "contributions": parts["contributions"],
        "up": [f for f in factors if f["contribution"] > 0][:TOP],
        "down": [f for f in factors if f["contribution"] < 0][:TOP],
        "summary": summary,
        "advisory": translate("predictive.explain.advisory", lang),
    }
