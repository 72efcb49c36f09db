"""Journeys for the data-driven models, reduced inside DuckDB to what each model reads.

Markov and Shapley are fitted on every journey (a million at scale l, ten million touches), so
shipping every touch with its key string, age and key-touch flags to Python costs most of a
question. What each model reads is smaller:

- Markov reads each journey's keys in time order and its outcome: `build_sequences` sends one
  small integer per touch (the key's code), sorted inside DuckDB, and nothing else per touch.
- Shapley reads each journey's set of distinct keys: `build_sets` ORs one bit per key per
  journey inside DuckDB and groups journeys by that set, so Python sees one row per distinct set
  (at most 2^keys) carrying its conversions, non-conversions and value.

Keys are coded by `hash()` of their text (a 12-row table, not a join on strings over every
touch); two texts sharing a hash are detected and the full journeys are used instead, as they
are when a set cannot be a bit mask (more than 64 keys) or a journey holds more distinct keys
than Shapley's players (its smallest keys are grouped under `(other)` by touch counts).
Both results are path tables (no ages or key-touch positions) that give the same credits as the
full journeys: the same sequences in the same order for Markov, the same sets for Shapley.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import numpy as np

from closedloop.attribution import journeys as store_journeys
from closedloop.attribution.data import NONE_KEY, Journeys
from closedloop.attribution.shapley import MAX_PLAYERS

_MASK_BITS = 64
_names: dict[tuple[Any, ...], dict[int, str] | None] = {}  # key texts by hash, per snapshot
_names_lock = threading.Lock()
_KEYS_CTE = """,
    keys AS (SELECT hash(key) AS h, min(key) AS key, max(key) AS twin,
                    ROW_NUMBER() OVER (ORDER BY hash(key)) - 1 AS code
             FROM touches GROUP BY hash(key))"""


def journeys_for(
    model: str,
    url: str,
    *,
    conversion: str,
    by: str | tuple[str, ...] = "channel",
    lookback_days: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    as_of: datetime | None = None,
    value: str = "amount",
    scope: Any = None,
    resampled: bool = False,
) -> Journeys:
    """The cheapest journeys from the store that give `model` its exact credits.

    Rule-based models read converting journeys only; Markov its key sequences; Shapley its key
    sets (unless `resampled`: a journey-resampling bootstrap draws from the journeys themselves,
    so its draws stay those of the full journeys; Markov's sequences keep every journey's row).
    """
    from closedloop.analytics import engine
    from closedloop.attribution.service import DATA_DRIVEN

    question = dict(
        conversion=conversion, by=by, lookback_days=lookback_days, start=start, end=end,
        as_of=as_of, value=value, scope=scope,
    )  # fmt: skip
    routed = engine.routed()  # another engine (Spark) runs the journeys SQL as written for it
    if model == "markov" and not routed:
        return build_sequences(url, **question)
    if model == "shapley" and not resampled and not routed:
        return build_sets(url, **question)
    converting_only = model not in DATA_DRIVEN and not resampled
    return store_journeys.build_journeys(url, converting_only=converting_only, **question)


def build_sequences(url: str, **question: Any) -> Journeys:
    """Every journey's keys in time order with its outcome (no ages): what Markov reads."""
    q = store_journeys.prepare(url, **question)
    return store_journeys.cached(url, q, ("sequences",), lambda: _sequences(q, question))


def build_sets(url: str, **question: Any) -> Journeys:
    """One row per distinct set of keys a journey holds, with its people and value: what Shapley reads."""
    q = store_journeys.prepare(url, **question)
    return store_journeys.cached(url, q, ("sets",), lambda: _sets(q, question))


def _sequences(q: store_journeys.Question, question: dict[str, Any]) -> Journeys:
    from closedloop.analytics import engine

    # A sort moves every touch: send as little per touch as possible (its key's hash, no text).
    # Other conversions hold one journey per lead, in lead order, and carry no value.
    valued = q.conversion == "won"
    journey = "j.jid" if valued else "j.lead_id"
    sql = f"""{q.ctes}
    SELECT {journey} AS journey, j.converted, {"j.value," if valued else ""}
           CASE WHEN t.key IS NOT NULL THEN hash(t.key) END AS h
    {store_journeys.window_join(q)}
    ORDER BY {journey}, t.occurred_at, t.id
    """
    table = engine.query(q.url, sql, q.params)
    if table.num_rows == 0:
        return _empty()
    names = _key_names(q)
    hashes = table.column("h")
    untouched = hashes.is_null().to_numpy(zero_copy_only=False)
    hashes = hashes.fill_null(0).to_numpy().astype(np.uint64)
    known = np.array(sorted(names), dtype=np.uint64) if names else np.zeros(0, dtype=np.uint64)
    code = np.minimum(np.searchsorted(known, hashes), max(len(known) - 1, 0))
    if names is None or not (untouched | (known[code] == hashes) if len(known) else untouched).all():
        return store_journeys.build_journeys(q.url, **question)  # two texts share a hash
    code = np.where(untouched, len(known), code)
    # keys numbered in order of first appearance, as the full journeys number them
    first = np.full(len(known) + 1, len(code), dtype=np.int64)
    first[code[::-1]] = np.arange(len(code) - 1, -1, -1)
    present = np.flatnonzero(first < len(code))
    ordered = present[np.argsort(first[present], kind="stable")]
    labels = [names[int(known[c])] if c < len(known) else NONE_KEY for c in ordered]
    keys, position = _merged_names(labels)
    lookup = np.zeros(len(known) + 1, dtype=np.int64)
    lookup[ordered] = position
    journey = table.column("journey").to_numpy()
    firsts = np.flatnonzero(np.concatenate([[True], journey[1:] != journey[:-1]]))
    offsets = np.append(firsts, len(journey)).astype(np.int64)
    n = len(firsts)
    converted = _column(table, "converted", firsts).astype(bool)
    values = _column(table, "value", firsts).astype(np.float64) if valued else np.zeros(n)
    conversions = converted.astype(np.float64)
    return Journeys(
        keys, offsets, lookup[code], conversions, np.where(converted, values, 0.0), 1.0 - conversions
    )


def _sets(q: store_journeys.Question, question: dict[str, Any]) -> Journeys:
    from closedloop.analytics import engine

    sql = f"""{q.ctes}{_KEYS_CTE},
    held AS (
        SELECT j.jid, any_value(j.converted) AS converted, any_value(j.value) AS value,
               bit_or(CASE WHEN k.code < {_MASK_BITS} THEN 1::UBIGINT << k.code::UBIGINT END) AS mask
        {store_journeys.window_join(q)}
        LEFT JOIN keys k ON k.h = hash(t.key)
        GROUP BY j.jid
    )
    SELECT 0 AS kind, mask, count(*) FILTER (WHERE converted) AS conversions,
           count(*) FILTER (WHERE NOT converted) AS nulls,
           COALESCE(sum(value) FILTER (WHERE converted), 0.0) AS value,
           NULL::BIGINT AS code, NULL AS key, NULL AS twin
    FROM held GROUP BY mask
    UNION ALL
    SELECT 1, NULL, NULL, NULL, NULL, code, key, twin FROM keys
    """
    table = engine.query(q.url, sql, q.params)
    kind = table.column("kind").to_numpy()
    rows, key_rows = np.flatnonzero(kind == 0), np.flatnonzero(kind == 1)
    head = table.take(key_rows)
    key, twin = head.column("key").to_pylist(), head.column("twin").to_pylist()
    names = dict(zip(head.column("code").to_pylist(), key, strict=True))
    if key != twin or len(key_rows) > _MASK_BITS:  # two texts share a hash, or too many keys for a mask
        return store_journeys.build_journeys(q.url, **question)
    sets = table.take(rows)
    if sets.num_rows == 0:
        return _empty()
    masks = sets.column("mask").fill_null(0).to_numpy().astype(np.uint64)
    bits = ((masks[:, None] >> np.arange(_MASK_BITS, dtype=np.uint64)) & np.uint64(1)).astype(bool)
    if (bits.sum(axis=1) > MAX_PLAYERS).any():  # `(other)` groups keys by touch counts: use every touch
        return store_journeys.build_journeys(q.url, **question)
    codes = np.flatnonzero(bits.any(axis=0))
    labels = [names[int(c)] for c in codes] + ([NONE_KEY] if (masks == 0).any() else [])
    keys, position = _merged_names(labels)
    lookup = np.full(_MASK_BITS + 1, -1, dtype=np.int64)
    lookup[np.append(codes, _MASK_BITS)[: len(labels)]] = position
    holder, code = np.nonzero(bits)
    none = np.flatnonzero(masks == 0)  # journeys without touches: the set {(none)}
    holder = np.concatenate([holder, none])
    code = np.concatenate([code, np.full(len(none), _MASK_BITS)])
    order = np.argsort(holder, kind="stable")
    lengths = np.bincount(holder, minlength=sets.num_rows)
    return Journeys(
        keys,
        np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        lookup[code[order]],
        sets.column("conversions").to_numpy().astype(np.float64),
        sets.column("value").to_numpy().astype(np.float64),
        sets.column("nulls").to_numpy().astype(np.float64),
    )


def _key_names(q: store_journeys.Question) -> dict[int, str] | None:
    """{hash: key text} of every touch key the question can see (kept per snapshot), or None when
    two texts share a hash (the caller then uses the full journeys)."""
    from closedloop.analytics import engine, snapshot

    cache_key = (q.url, q.schema, q.dims, q.as_of)
    with _names_lock:
        if cache_key in _names:
            return _names[cache_key]
    found = engine.rows(
        q.url, f"{q.ctes} SELECT hash(key) AS h, min(key) AS key, max(key) AS twin FROM touches GROUP BY 1",
        q.params,
    )  # fmt: skip
    names = None if any(r["key"] != r["twin"] for r in found) else {int(r["h"]): r["key"] for r in found}
    if snapshot.keeps(q.schema):
        with _names_lock:
            for old in [k for k in _names if k[0] == q.url and k[1] != q.schema]:
                del _names[old]
            _names[cache_key] = names
    return names


def _merged_names(labels: list[str]) -> tuple[list[str], np.ndarray]:
    """Distinct names in order and each label's index (a touch keyed `(none)` is the no-touch key)."""
    index: dict[str, int] = {}
    position = np.array([index.setdefault(label, len(index)) for label in labels], dtype=np.int64)
    return list(index), position


def _column(table: Any, name: str, rows: np.ndarray) -> np.ndarray:
    return table.column(name).take(rows).to_numpy(zero_copy_only=False)


def _empty() -> Journeys:
    empty = np.zeros(0)
    return Journeys([], np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64), empty, empty, empty)
