"""Predictive scoring on the store (SQLite and PostgreSQL): train, apply, point in time, registry, drift, churn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, insert, select

import closedloop.models  # noqa: F401
from closedloop.accounts.models import Account
from closedloop.leads.models import Lead, LeadScore
from closedloop.marketing.models import Touchpoint
from closedloop.outbox.models import OutboxMessage
from closedloop.predictive import features, registry, service
from closedloop.predictive.models import AccountChurnScore, PredictiveModel
from closedloop.revenue.models import RevenueEvent
from closedloop.users.actor import system_actor

START = datetime(2025, 1, 1, tzinfo=UTC)
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
ACTOR = system_actor()


def _train(store, **kw):
    with store.session() as s:
        row = service.train_lead_model(session=s, actor=ACTOR, as_of=AS_OF, clock=lambda: AS_OF, **kw)
        s.commit()
        return row.version


def test_train_apply_and_the_score_stays_advisory(store, seed_leads) -> None:
    seed_leads(store)
    version = _train(store)
    with store.session() as s:
        model = registry.active(session=s, kind="lead", target="won")
        summary = registry.summary(model)
        assert summary["model_version"] == version
        assert summary["n_train"] + summary["n_test"] == 760  # the 40 open leads have no outcome yet
        assert summary["auc"] > 0.65
        for key in ("log_loss", "brier", "baseline_auc", "lift_top_decile"):
            assert summary[key] is not None
        stages_before = dict(s.execute(select(Lead.id, Lead.stage)).all())
        result = service.apply_lead_model(session=s, clock=lambda: AS_OF)
        s.commit()
    assert result["scored"] == 40
    with store.session() as s:
        assert dict(s.execute(select(Lead.id, Lead.stage)).all()) == stages_before
        rows = s.execute(select(LeadScore.lead_id, LeadScore.score, LeadScore.model_version)
                         .where(LeadScore.kind == "predictive")).all()  # fmt: skip
        assert len(rows) == 40 and {r.model_version for r in rows} == {version}
        probs = dict(s.execute(select(Lead.id, Lead.predicted_probability).where(Lead.stage == "lead")).all())
        assert all(probs[r.lead_id] == pytest.approx(r.score) for r in rows)
        # Paid Search leads rank above the others on average (the planted signal).
        channel = dict(s.execute(select(Lead.id, Lead.first_channel)).all())
        paid = [p for i, p in probs.items() if channel[i] == "Paid Search"]
        other = [p for i, p in probs.items() if channel[i] != "Paid Search"]
        assert np.mean(paid) > 2 * np.mean(other)
        out = service.explain_lead(session=s, lead_id=max(probs), lang="zh-CN", clock=lambda: AS_OF)
        assert sum(out["contributions"].values()) == pytest.approx(out["logit"] - out["base_logit"], abs=1e-9)
        assert out["probability"] == pytest.approx(probs[max(probs)])


def test_a_touch_after_the_scoring_moment_changes_nothing(store, seed_leads) -> None:
    seed_leads(store)
    _train(store)
    lead_id = 790  # open
    moment = AS_OF - timedelta(days=1)
    moments = pd.DataFrame({"lead_id": [lead_id], "moment": [moment.replace(tzinfo=None)]})
    with store.session() as s:
        model = registry.active(session=s, kind="lead", target="won")
        before_features = features.lead_features(store.url, moments)
        _, _, before = service.score_leads(url=store.url, model=model, lead_ids=[lead_id], moment=moment)
        s.add_all([
            Touchpoint(lead_id=lead_id, occurred_at=moment + timedelta(hours=1), type="ad_click", channel="Paid Search"),
            Touchpoint(lead_id=lead_id, occurred_at=moment + timedelta(days=3), type="form_submit", channel="Email"),
        ])  # fmt: skip
        s.commit()
    with store.session() as s:
        model = registry.active(session=s, kind="lead", target="won")
        after_features = features.lead_features(store.url, moments)
        _, _, after = service.score_leads(url=store.url, model=model, lead_ids=[lead_id], moment=moment)
        later = features.lead_features(
            store.url, moments.assign(moment=(moment + timedelta(days=4)).replace(tzinfo=None))
        )
    pd.testing.assert_frame_equal(before_features, after_features)
    assert float(before["p"][0]) == float(after["p"][0])
    assert int(later["touches"][0]) == int(before_features["touches"][0]) + 2  # the touches are seen later


def test_registry_round_trip_and_roll_back(store, seed_leads) -> None:
    seed_leads(store)
    first = _train(store)
    ids = list(range(761, 801))
    with store.session() as s:
        model = registry.active(session=s, kind="lead", target="won")
        _, _, scored = service.score_leads(url=store.url, model=model, lead_ids=ids, moment=AS_OF)
        p_first = np.asarray(scored["p"])
    second = _train(store, horizon_days=120)
    registry._CACHE.clear()
    with store.session() as s:
        assert registry.active(session=s, kind="lead", target="won").version == second
        restored = registry.rollback(session=s, kind="lead", target="won", actor=ACTOR)
        s.commit()
        assert restored.version == first
    registry._CACHE.clear()
    with store.session() as s:  # a fresh session loads the bytes again
        active = s.scalars(select(PredictiveModel).where(PredictiveModel.active.is_(True))).all()
        assert [m.version for m in active] == [first]
        _, _, again = service.score_leads(url=store.url, model=active[0], lead_ids=ids, moment=AS_OF)
        assert np.array_equal(np.asarray(again["p"]), p_first)
        assert s.scalar(select(func.count()).select_from(PredictiveModel)) == 2


def test_a_drifted_score_distribution_raises_an_alert(store, seed_leads) -> None:
    seed_leads(store)
    version = _train(store)
    with store.session() as s:
        calm = service.check_drift(session=s, clock=lambda: AS_OF)
        assert calm["alert"] is False and calm["n_scores"] == 0
        s.execute(insert(LeadScore), [{"lead_id": i, "scored_at": AS_OF, "kind": "predictive", "score": 0.999,
                                       "explanation": [], "model_version": version} for i in range(761, 801)])  # fmt: skip
        result = service.check_drift(session=s, clock=lambda: AS_OF)
        s.commit()
    assert result["alert"] is True and "score_distribution" in result["reasons"]
    assert result["psi"] > service.PSI_ALERT
    with store.session() as s:
        message = s.scalars(select(OutboxMessage).where(OutboxMessage.topic == service.DRIFT_TOPIC)).one()
        assert message.payload["model_version"] == version
        assert set(message.payload["text"]) == {"en", "zh-TW", "zh-CN"}
        # The worker's job: rescore with every active model and check drift (no churn model: skipped).
        done = service.run_schedule(s, lambda: AS_OF + timedelta(days=1))
        s.commit()
    assert set(done) == {"won", "won_drift"} and done["won"]["scored"] == 40


def test_churn_model_trains_scores_and_feeds_predictive_ltv(store, seed_leads) -> None:
    """60 monthly subscribers; accounts in 'retail' stop paying after a few months, the rest stay."""
    rng = np.random.default_rng(3)
    with store.session() as s:
        accounts, revenue = [], []
        for a in range(1, 61):
            retail = a % 3 == 0
            accounts.append({"id": a, "name": f"Co {a}", "normalised_name": f"co {a}",
                             "industry": "retail" if retail else "software"})  # fmt: skip
            offset = a % 10  # staggered starts, so churn happens all through the period
            months = int(rng.integers(2, 6)) if retail else 17 - offset
            for k in range(offset, offset + months):
                at = START + timedelta(days=30.4375 * k + 1)
                revenue.append({"account_id": a, "occurred_at": at, "kind": "subscription", "amount_minor": 100000,
                                "currency": "TWD", "period_start": at.date(),
                                "period_end": (at + timedelta(days=30)).date()})  # fmt: skip
        s.execute(insert(Account), accounts)
        s.execute(insert(RevenueEvent), revenue)
        s.commit()
    with store.session() as s:
        model = service.train_churn_model(session=s, actor=ACTOR, as_of=AS_OF, clock=lambda: AS_OF)
        assert model.n_train + model.n_test > 500
        s.commit()
    now = START + timedelta(days=30.4375 * 16 + 5)
    with store.session() as s:
        result = service.apply_churn_model(session=s, clock=lambda: now)
        s.commit()
    assert result["scored"] == 40  # only the software accounts are still active then
    by_account = service.churn_probability_by_account(store.url)
    assert set(by_account) == {a for a in range(1, 61) if a % 3}
    assert all(0.0 <= p <= 1.0 for p in by_account.values())
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(AccountChurnScore)) == 40
        out = service.explain_account(session=s, account_id=1, clock=lambda: now)
        assert sum(out["contributions"].values()) == pytest.approx(out["logit"] - out["base_logit"], abs=1e-9)
