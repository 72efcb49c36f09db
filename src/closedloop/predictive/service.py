"""Train, apply, explain and watch the lead win-probability model and the churn-risk model.

Reads go through DuckDB over the committed store; writes go through the caller's session (flush
only). The predictive score is advisory: applying it writes `predicted_probability` and a
`LeadScore(kind="predictive")` row and never moves a lead between stages.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from closedloop.clock import Clock, system_clock
from closedloop.errors import NotFound, ValidationFailed
from closedloop.i18n import translate
from closedloop.leads.models import Lead, LeadScore
from closedloop.outbox import service as outbox_service
from closedloop.predictive import churn, features, registry, train
from closedloop.predictive.explain import explain
from closedloop.predictive.models import AccountChurnScore, PredictiveModel
from closedloop.users.actor import Actor

TARGETS = ("won", "sql")
HORIZON_DAYS = 180
PSI_ALERT = 0.25
CALIBRATION_ALERT = 0.10
DRIFT_TOPIC = "predictive_drift"


def store_url(session: Session) -> str:
    """The URL DuckDB attaches for this session's store."""
    return session.get_bind().engine.url.render_as_string(hide_password=False)


def _columns(specs: list[features.FeatureSpec]) -> tuple[list[str], list[str]]:
    return (
        [s.name for s in specs if s.kind == "categorical"],
        [s.name for s in specs if s.kind == "numeric"],
    )


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def train_lead_model(
    *,
    session: Session,
    actor: Actor,
    target: str = "won",
    as_of: datetime | None = None,
    horizon_days: int = HORIZON_DAYS,
    specs: list[features.FeatureSpec] | None = None,
    activate: bool = True,
    clock: Clock = system_clock,
) -> PredictiveModel:
    """Train a win (or SQL) probability model on leads whose outcome was known by `as_of`."""
    if target not in TARGETS:
        raise ValidationFailed(
            translate("predictive.error.target", target=target, allowed=", ".join(TARGETS))
        )
    specs = specs or features.LEAD_FEATURES
    features.check_features(specs)
    as_of = as_of or clock()
    url = store_url(session)
    moments = features.labelled_moments(url, target=target, as_of=as_of, horizon_days=horizon_days)
    frame = features.lead_features(url, moments, specs)
    categorical, numeric = _columns(specs)
    fitted = train.fit(frame, moments["label"].to_numpy(), moments["moment"].to_numpy(), categorical, numeric)
    fitted.encoding["specs"] = [s.name for s in specs]
    fitted.encoding["horizon_days"] = horizon_days
    return registry.save(
        session=session, fitted=fitted, kind="lead", target=target, as_of=as_of,
        train_from=_utc(moments["moment"].min()), train_to=_utc(moments["moment"].max()),
        actor=actor, activate=activate, clock=clock,
    )  # fmt: skip


def _specs_of(model: PredictiveModel) -> list[features.FeatureSpec]:
    by_name = {s.name: s for s in features.LEAD_FEATURES}
    names = model.features.get("specs") or list(by_name)
    return [by_name[name] for name in names]


def score_leads(
    *, url: str, model: PredictiveModel, lead_ids: list[int], moment: datetime
) -> tuple[Any, Any, dict[str, Any]]:
    """(feature frame, encoded matrix, calibrated probabilities) of leads at one moment."""
    import pandas as pd

    bundle = registry.bundle_of(model)
    naive = features._naive(moment)
    moments = pd.DataFrame({"lead_id": pd.Series(lead_ids, dtype="int64"), "moment": naive})
    moments["moment"] = moments["moment"].astype("datetime64[us]")
    frame = features.lead_features(url, moments, _specs_of(model))
    X = train.encode(frame, model.features)
    return frame, X, {"bundle": bundle, "p": train.probability(bundle, X) if len(frame) else []}


def apply_lead_model(
    *,
    session: Session,
    target: str = "won",
    lead_ids: list[int] | None = None,
    clock: Clock = system_clock,
) -> dict[str, Any]:
    """Score open leads with the active model: their probability and a predictive LeadScore row."""
    model = registry.active(session=session, kind="lead", target=target)
    url = store_url(session)
    now = clock()
    started = time.perf_counter()
    ids = lead_ids if lead_ids is not None else features.open_leads(url, target=target)
    frame, _, scored = score_leads(url=url, model=model, lead_ids=ids, moment=now)
    scoring_seconds = time.perf_counter() - started
    ids_out = frame["lead_id"].astype(int).tolist()
    probabilities = [float(p) for p in scored["p"]]
    for start in range(0, len(ids_out), 5000):
        chunk = list(zip(ids_out[start : start + 5000], probabilities[start : start + 5000], strict=True))
        session.execute(update(Lead), [{"id": i, "predicted_probability": p} for i, p in chunk])
        session.execute(
            insert(LeadScore),
            [{"lead_id": i, "scored_at": now, "kind": "predictive", "score": p, "explanation": [],
              "model_version": model.version} for i, p in chunk],
        )  # fmt: skip
    session.flush()
    return {
        "model_version": model.version,
        "target": target,
        "scored": len(ids_out),
        "scoring_seconds": scoring_seconds,
        "seconds": time.perf_counter() - started,
    }


def explain_lead(
    *, session: Session, lead_id: int, target: str = "won", lang: str = "en", clock: Clock = system_clock
) -> dict[str, Any]:
    """Why the active model gives this lead its probability, now, in `lang`."""
    if session.get(Lead, lead_id) is None:
        raise NotFound(translate("predictive.error.no_lead", lead_id=lead_id))
    model = registry.active(session=session, kind="lead", target=target)
    frame, X, scored = score_leads(url=store_url(session), model=model, lead_ids=[lead_id], moment=clock())
    raw = frame.iloc[0].to_dict()
    out = explain(
        scored["bundle"], model.features, X[0], raw, lang=lang, base_rate=model.metrics.get("base_rate")
    )
    out.update(lead_id=lead_id, model_version=model.version, target=target)
    return out


def check_drift(
    *, session: Session, target: str = "won", window_days: int = 30, clock: Clock = system_clock
) -> dict[str, Any]:
    """Score distribution PSI and calibration on recent outcomes; an outbox alert when they drift."""
    import numpy as np

    model = registry.active(session=session, kind="lead", target=target)
    now = clock()
    rows = session.execute(
        select(LeadScore.lead_id, LeadScore.score, LeadScore.scored_at)
        .where(LeadScore.kind == "predictive", LeadScore.model_version == model.version,
               LeadScore.scored_at >= now - timedelta(days=window_days))
        .order_by(LeadScore.scored_at)
    ).all()  # fmt: skip
    latest = {lead_id: float(score) for lead_id, score, _ in rows}
    scores = np.array(list(latest.values()))
    edges = model.metrics.get("score_edges") or []
    psi = train.psi(model.metrics["score_reference"], train.histogram(scores, edges)) if len(scores) else None
    calibration = _recent_calibration(session=session, model=model, now=now)
    reasons = []
    if psi is not None and psi > PSI_ALERT:
        reasons.append("score_distribution")
    if calibration["n"] >= 50 and abs(calibration["predicted"] - calibration["observed"]) > CALIBRATION_ALERT:
        reasons.append("calibration")
    result = {"model_version": model.version, "n_scores": len(scores), "psi": psi, "calibration": calibration,
              "alert": bool(reasons), "reasons": reasons}  # fmt: skip
    if reasons:
        text = {lang: translate("predictive.drift.alert", lang, version=model.version, reasons=", ".join(reasons))
                for lang in ("en", "zh-TW", "zh-CN")}  # fmt: skip
        outbox_service.enqueue(
            session, topic=DRIFT_TOPIC, payload={**result, "text": text},
            idempotency_key=f"predictive-drift:{model.version}:{now:%Y-%m-%d}", clock=clock,
        )  # fmt: skip
    return result


def _recent_calibration(*, session: Session, model: PredictiveModel, now: datetime) -> dict[str, Any]:
    """Mean predicted vs observed outcome of leads scored by this version whose outcome is now known."""
    import numpy as np

    url = store_url(session)
    known = features.labelled_moments(url, target=model.target, as_of=now,
                                      horizon_days=int(model.features.get("horizon_days", HORIZON_DAYS)))  # fmt: skip
    rows = session.execute(
        select(LeadScore.lead_id, LeadScore.score, LeadScore.scored_at)
        .where(LeadScore.kind == "predictive", LeadScore.model_version == model.version)
        .order_by(LeadScore.scored_at)
    ).all()
    first: dict[int, tuple[float, datetime]] = {}
    for lead_id, score, scored_at in rows:
        first.setdefault(lead_id, (float(score), scored_at))
    decided = dict(
        zip(known["lead_id"].astype(int), zip(known["label"], known["decided_at"], strict=True), strict=True)
    )
    pairs = [(p, int(decided[i][0])) for i, (p, at) in first.items()
             if i in decided and (_utc(decided[i][1]) or at) >= at]  # fmt: skip
    if not pairs:
        return {"n": 0, "predicted": None, "observed": None, "brier": None}
    p, y = (np.array(v, dtype=float) for v in zip(*pairs, strict=True))
    return {
        "n": len(p),
        "predicted": float(p.mean()),
        "observed": float(y.mean()),
        "brier": float(np.mean((p - y) ** 2)),
    }


def run_schedule(session: Session, clock: Clock = system_clock) -> dict[str, Any]:
    """The worker's job: rescore with every active model, then check the lead models for drift."""
    done: dict[str, Any] = {}
    for target in TARGETS:
        try:
            registry.active(session=session, kind="lead", target=target)
        except NotFound:
            continue
        done[target] = apply_lead_model(session=session, target=target, clock=clock)
        done[f"{target}_drift"] = check_drift(session=session, target=target, clock=clock)
    with contextlib.suppress(NotFound):
        done["churn"] = apply_churn_model(session=session, clock=clock)
    return done


def train_churn_model(
    *, session: Session, actor: Actor, as_of: datetime | None = None, activate: bool = True,
    clock: Clock = system_clock,
) -> PredictiveModel:  # fmt: skip
    """Train the monthly churn-risk model on (account, month) examples up to `as_of`."""
    as_of = as_of or clock()
    url = store_url(session)
    moments = churn.training_moments(url, as_of=as_of)
    frame = churn.churn_features(url, moments)
    fitted = train.fit(frame, moments["label"].to_numpy(), moments["moment"].to_numpy(),
                       churn.CATEGORICAL, churn.NUMERIC)  # fmt: skip
    return registry.save(
        session=session, fitted=fitted, kind="churn", target="churn", as_of=as_of,
        train_from=_utc(moments["moment"].min()), train_to=_utc(moments["moment"].max()),
        actor=actor, activate=activate, clock=clock,
    )  # fmt: skip


def _score_accounts(session: Session, model: PredictiveModel, moment: datetime) -> tuple[Any, Any, Any, Any]:
    bundle = registry.bundle_of(model)
    url = store_url(session)
    frame = churn.churn_features(url, churn.active_accounts(url, moment=moment))
    X = train.encode(frame, model.features)
    return frame, X, bundle, train.probability(bundle, X) if len(frame) else []


def apply_churn_model(*, session: Session, clock: Clock = system_clock) -> dict[str, Any]:
    """Score every active customer account's monthly churn probability with the active model."""
    model = registry.active(session=session, kind="churn", target="churn")
    now = clock()
    frame, _, _, p = _score_accounts(session, model, now)
    probabilities = [float(q) for q in p]
    rows = [{"account_id": int(a), "scored_at": now, "probability": q, "model_version": model.version}
            for a, q in zip(frame["account_id"], probabilities, strict=True)]  # fmt: skip
    if rows:
        session.execute(insert(AccountChurnScore), rows)
    session.flush()
    return {"model_version": model.version, "scored": len(rows),
            "mean_probability": sum(probabilities) / len(probabilities) if probabilities else None}  # fmt: skip


def explain_account(
    *, session: Session, account_id: int, lang: str = "en", clock: Clock = system_clock
) -> dict[str, Any]:
    """Why an active account gets its churn probability, in `lang`."""
    model = registry.active(session=session, kind="churn", target="churn")
    frame, X, bundle, _ = _score_accounts(session, model, clock())
    match = frame.index[frame["account_id"] == account_id]
    if not len(match):
        raise NotFound(translate("predictive.error.no_account", account_id=account_id))
    i = int(match[0])
    out = explain(bundle, model.features, X[i], frame.iloc[i].to_dict(), lang=lang,
                  base_rate=model.metrics.get("base_rate"))  # fmt: skip
    out.update(account_id=account_id, model_version=model.version)
    return out


def churn_probability_by_account(url: str) -> dict[int, float]:
    """Each account's latest monthly churn probability (for predictive LTV in the analytics layer)."""
    from closedloop.analytics import engine

    sql = """SELECT account_id, arg_max(probability, (scored_at, id)) AS p
             FROM store.account_churn_scores GROUP BY account_id ORDER BY account_id"""
    return {int(r["account_id"]): float(r["p"]) for r in engine.rows(url, sql)}
