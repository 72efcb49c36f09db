"""Journeys reduced inside DuckDB (Markov's key sequences, Shapley's key sets) give the full journeys' credits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from closedloop.analytics import engine
from closedloop.attribution.aggregated import build_sequences, build_sets, journeys_for
from closedloop.attribution.data import NONE_KEY
from closedloop.attribution.journeys import build_journeys
from closedloop.attribution.markov import markov
from closedloop.attribution.service import MODELS, attribute, store_attribution, to_document
from closedloop.attribution.shapley import shapley
from closedloop.deals.models import Deal
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import Touchpoint
from closedloop.workspace.models import ExchangeRate

BASE = datetime(2026, 3, 1, tzinfo=UTC)
CHANNELS = [f"C{i:02d}" for i in range(13)]


def _seed(store, *, crowded: bool, seed: int = 7) -> None:
    """120 leads with random touches (repeats, ties in time), waterfalls and won deals in two currencies.

    With `crowded`, one journey touches all 13 channels (Shapley groups its smallest under `(other)`).
    """
    rng = np.random.default_rng(seed)
    with store.session_factory.begin() as s:
        s.add(
            ExchangeRate(
                currency="USD", rate_date=datetime(2025, 1, 1).date(), rate_to_reporting=Decimal("31")
            )
        )
        leads = [Lead(email=f"l{i}@x.tw") for i in range(120)]
        s.add_all(leads)
        s.flush()
        for i, lead in enumerate(leads):
            n = int(rng.integers(0, 7))
            channels = rng.choice(12, n)  # 12 of the 13 channels: at most 12 distinct keys a journey
            if crowded and i == 0:
                channels = np.concatenate([np.arange(13), [3, 3, 5]])
            days = np.sort(rng.integers(-60, 30, len(channels)))
            for c, d in zip(channels, days, strict=True):
                # touches on the same day share their moment (ties go by touch id)
                s.add(Touchpoint(lead_id=lead.id, occurred_at=BASE + timedelta(days=int(d)), type="page_view",
                                 channel=CHANNELS[int(c)] if rng.random() > 0.05 else None))  # fmt: skip
            s.add(LifecycleEvent(lead_id=lead.id, to_stage="lead", occurred_at=BASE - timedelta(days=70)))
            if rng.random() < 0.5:
                s.add(LifecycleEvent(lead_id=lead.id, to_stage="mql", occurred_at=BASE))
            if rng.random() < 0.3:
                s.add(
                    LifecycleEvent(
                        lead_id=lead.id, to_stage="opportunity", occurred_at=BASE + timedelta(days=10)
                    )
                )
                currency = "USD" if rng.random() < 0.3 else "TWD"
                s.add(Deal(lead_id=lead.id, name=f"D{i}", stage="won", status="won", currency=currency,
                           amount_minor=int(rng.integers(1000, 900000)), closed_at=BASE + timedelta(days=20)))  # fmt: skip


@pytest.fixture(params=[False, True], ids=["sets", "crowded"])
def seeded(store, request):
    _seed(store, crowded=request.param)
    yield store
    engine.close(store.url)


def _same_credits(got, want):
    assert sorted(got.keys) == sorted(want.keys)
    mine, theirs = got.as_dict(), want.as_dict()
    for key, (conversions, value) in theirs.items():
        assert mine[key] == pytest.approx((conversions, value), rel=1e-12, abs=1e-9), key


@pytest.mark.parametrize("conversion", ["mql", "opportunity", "won"])
def test_reduced_journeys_give_the_full_journeys_credits(seeded, conversion):
    full = build_journeys(seeded.url, conversion=conversion)
    sequences = build_sequences(seeded.url, conversion=conversion)
    # the same journeys, keys and order: Markov sees exactly the arrays it saw before
    assert sequences.keys == full.keys
    for name in ("offsets", "touches", "conversions", "values", "nulls"):
        assert np.array_equal(getattr(sequences, name), getattr(full, name)), name
    for order in (1, 3):
        a, b = markov(sequences, order=order), markov(full, order=order)
        assert np.array_equal(a.removal_effects, b.removal_effects)
        _same_credits(a, b)
    sets = build_sets(seeded.url, conversion=conversion)
    assert sets.conversions.sum() == full.conversions.sum()
    assert sets.values.sum() == pytest.approx(full.values.sum(), rel=1e-12)
    assert sets.count <= full.count
    _same_credits(shapley(sets), shapley(full))


def test_sets_are_one_row_per_distinct_key_set(seeded):
    full = build_journeys(seeded.url, conversion="mql")
    sets = build_sets(seeded.url, conversion="mql")
    distinct = {
        frozenset(full.keys[k] for k in full.touches[a:b])
        for a, b in zip(full.offsets[:-1], full.offsets[1:], strict=True)
    }
    got = [
        frozenset(sets.keys[k] for k in sets.touches[a:b])
        for a, b in zip(sets.offsets[:-1], sets.offsets[1:], strict=True)
    ]
    crowded = any(len(s) > 12 for s in distinct)
    if crowded:  # a journey with 13 keys: the full journeys are used (their touch counts pick `(other)`)
        assert sets.count == full.count
    else:
        assert len(got) == len(set(got)) and set(got) == distinct
    assert frozenset([NONE_KEY]) in distinct  # leads without touches in the window


def test_store_attribution_matches_every_model_on_full_journeys(seeded):
    full = build_journeys(seeded.url, conversion="won")
    for model in MODELS:
        doc = store_attribution(seeded.url, model=model, conversion="won", order=2)
        want = to_document(attribute(full, model, order=2), full, conversion="won", currency="TWD")
        assert doc["total_conversions"] == want["total_conversions"]
        assert doc["total_value"] == pytest.approx(want["total_value"], rel=1e-12)
        got = {c["key"]: c for c in doc["credits"]}
        assert set(got) == {c["key"] for c in want["credits"]}, model
        for row in want["credits"]:
            assert got[row["key"]]["conversions"] == pytest.approx(row["conversions"], abs=1e-9), model
            assert got[row["key"]]["value"] == pytest.approx(row["value"], rel=1e-9, abs=1e-6), model


def test_journeys_for_each_model(seeded):
    converting = journeys_for("linear", seeded.url, conversion="mql")
    assert converting.nulls.sum() == 0 and converting.ages is not None
    resampled = journeys_for("shapley", seeded.url, conversion="mql", resampled=True)
    assert resampled.ages is not None and resampled.nulls.sum() > 0  # every journey, with its touches
    assert journeys_for("markov", seeded.url, conversion="mql").ages is None
