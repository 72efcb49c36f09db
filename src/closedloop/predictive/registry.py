"""The model registry: save a version (skops bytes), load it safely, one active version, roll back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.errors import NotFound, ValidationFailed
from closedloop.i18n import translate
from closedloop.predictive.models import PredictiveModel
from closedloop.predictive.train import Fitted
from closedloop.users.actor import Actor

# The only types outside skops' default trust list that our estimators contain. Anything else in
# a stored model (a crafted file) is refused before it is loaded.
TRUSTED_TYPES = frozenset(
    {
        "functools.partial",
        "numpy.dtype",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.utils.validation.check_array",
    }
)


def dump_bundle(bundle: dict[str, Any]) -> bytes:
    """Serialise the estimators in skops format (no code runs when it is read back)."""
    import skops.io as sio

    return sio.dumps(bundle)


_CACHE: dict[str, dict[str, Any]] = {}
_CACHE_SIZE = 4


def bundle_of(row: PredictiveModel) -> dict[str, Any]:
    """The estimators of a version, loaded once per process (versions never change once saved)."""
    loaded = _CACHE.get(row.version)
    if loaded is None:
        loaded = load_bundle(row.model_bytes)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[row.version] = loaded
    return loaded


def load_bundle(data: bytes) -> dict[str, Any]:
    """Load estimators saved by `dump_bundle`, refusing any type outside the known list."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=data)
    unknown = sorted(set(untrusted) - TRUSTED_TYPES)
    if unknown:
        raise ValidationFailed(translate("predictive.error.untrusted", types=", ".join(unknown)))
    loaded: dict[str, Any] = sio.loads(data, trusted=untrusted)
    return loaded


def save(
    *,
    session: Session,
    fitted: Fitted,
    kind: str,
    target: str,
    as_of: datetime,
    train_from: datetime | None,
    train_to: datetime | None,
    actor: Actor,
    activate: bool = True,
    clock: Clock = system_clock,
) -> PredictiveModel:
    """Store a trained version; when `activate`, it becomes the one active version of its target."""
    count = session.scalar(
        select(func.count()).select_from(PredictiveModel).where(PredictiveModel.kind == kind)
    )
    now = clock()
    version = f"{kind}-{target}-{(count or 0) + 1}-{now:%Y%m%d%H%M%S}"
    row = PredictiveModel(
        version=version,
        kind=kind,
        target=target,
        algorithm="hist_gradient_boosting+platt",
        metrics=fitted.evaluation,
        features=fitted.encoding,
        train_from=train_from,
        train_to=train_to,
        as_of=as_of,
        n_train=fitted.evaluation["n_train"],
        n_test=fitted.evaluation["n_test"],
        trained_by_user_id=actor.user_id,
        trained_at=now,
        active=False,
        model_bytes=dump_bundle(fitted.bundle),
    )
    session.add(row)
    session.flush()
    if activate:
        _activate(session, row)
    audit_service.record(
        session, actor=actor, action="predictive.train", entity_type="predictive_model", entity_id=row.id,
        after={"version": version, "target": target, "auc": fitted.evaluation.get("auc")}, clock=clock,
    )  # fmt: skip
    return row


def _activate(session: Session, row: PredictiveModel) -> None:
    session.execute(
        update(PredictiveModel)
        .where(PredictiveModel.kind == row.kind, PredictiveModel.target == row.target)
        .values(active=False)
    )
    row.active = True
    session.flush()


def active(*, session: Session, kind: str, target: str) -> PredictiveModel:
    """The active version of a target; NotFound when none was trained."""
    row = session.scalars(
        select(PredictiveModel).where(
            PredictiveModel.kind == kind, PredictiveModel.target == target, PredictiveModel.active.is_(True)
        )
    ).first()
    if row is None:
        raise NotFound(translate("predictive.error.no_model", target=target))
    return row


def versions(*, session: Session, kind: str, target: str | None = None) -> list[PredictiveModel]:
    """Every version of a kind (newest first), without loading their bytes."""
    query = select(PredictiveModel).where(PredictiveModel.kind == kind).order_by(PredictiveModel.id.desc())
    if target:
        query = query.where(PredictiveModel.target == target)
    return list(session.scalars(query))


def rollback(
    *,
    session: Session,
    kind: str,
    target: str,
    actor: Actor,
    to_version: str | None = None,
    clock: Clock = system_clock,
) -> PredictiveModel:
    """Make an earlier version active: the named one, else the one trained before the current."""
    current = active(session=session, kind=kind, target=target)
    query = select(PredictiveModel).where(PredictiveModel.kind == kind, PredictiveModel.target == target)
    if to_version:
        query = query.where(PredictiveModel.version == to_version)
    else:
        query = query.where(PredictiveModel.id < current.id).order_by(PredictiveModel.id.desc())
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(translate("predictive.error.no_previous", target=target))
    _activate(session, row)
    audit_service.record(
        session, actor=actor, action="predictive.rollback", entity_type="predictive_model", entity_id=row.id,
        before={"version": current.version}, after={"version": row.version}, clock=clock,
    )  # fmt: skip
    return row


def summary(row: PredictiveModel) -> dict[str, Any]:
    """The evaluation as the CLI and API print it (SPEC keys first)."""
    m = row.metrics
    return {
        "model_version": row.version,
        "target": row.target,
        "active": row.active,
        "n_train": row.n_train,
        "n_test": row.n_test,
        "auc": m.get("auc"),
        "log_loss": m.get("log_loss"),
        "brier": m.get("brier"),
        "brier_uncalibrated": m.get("brier_uncalibrated"),
        "baseline_auc": m.get("baseline_auc"),
        "naive_bayes_auc": m.get("naive_bayes_auc"),
        "lift_top_decile": m.get("lift_top_decile"),
        "calibration_slope": m.get("calibration_slope"),
        "base_rate": m.get("base_rate"),
        "warning": m.get("warning"),
        "calibration": m.get("calibration"),
        "lift": m.get("lift"),
        "baseline": m.get("baseline"),
        "naive_bayes": m.get("naive_bayes"),
        "features": list(row.features.get("categorical", [])) + list(row.features.get("numeric", [])),
        "trained_at": row.trained_at.isoformat(),
        "trained_by_user_id": row.trained_by_user_id,
        "as_of": row.as_of.isoformat(),
        "train_from": row.train_from.isoformat() if row.train_from else None,
        "train_to": row.train_to.isoformat() if row.train_to else None,
    }
