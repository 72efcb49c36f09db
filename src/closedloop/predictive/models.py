"""The model registry (versions, metrics, features, the skops bytes) and churn scores per account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, BigId, JsonDoc, UTCDateTime, utcnow


class PredictiveModel(Base):
    """One trained model version; at most one version per (kind, target) is active."""

    __tablename__ = "predictive_models"
    __table_args__ = (Index("ix_predictive_models_kind_target", "kind", "target", "active"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # lead | churn
    target: Mapped[str] = mapped_column(String(16))  # won | sql | churn
    algorithm: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    features: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    train_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    train_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    n_train: Mapped[int]
    n_test: Mapped[int]
    trained_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(default=False)
    # skops format: loading it never executes code (unlike pickle).
    model_bytes: Mapped[bytes] = mapped_column(LargeBinary)


class AccountChurnScore(Base):
    """A customer account's monthly churn probability, as scored by one model version."""

    __tablename__ = "account_churn_scores"
    __table_args__ = (Index("ix_account_churn_scores_account_scored", "account_id", "scored_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    probability: Mapped[float]
    model_version: Mapped[str] = mapped_column(String(64))
