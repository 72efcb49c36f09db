"""Journeys from the store, built inside DuckDB (the analytics engine), no Python loop over touches.

One journey per conversion (for `won`: per won deal, valued in the reporting currency) plus one
per lead that did not convert (the data-driven models need them). A journey's touches are its
lead's touches (anonymous ones included once the visitor identified) at or before the
conversion and within the lookback window; a non-converting journey's window ends at the lead's
last touch. A journey without touches holds the single key `(none)`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from closedloop.attribution.data import NONE_KEY, Journeys
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate

CONVERSIONS = ("lead", "mql", "sql", "opportunity", "won")
DIMENSIONS = ("channel", "utm_source", "campaign", "utm_content")
DEFAULT_LOOKBACK = {"lead": 90, "mql": 90, "sql": 90, "opportunity": 365, "won": 365}
NOT_SET = "(not set)"  # a touch without a value for the chosen dimension
KEY_SEP = chr(31)  # joins the values of several dimensions in one key
# Journeys built from one analytics snapshot, kept while it is current (switching models costs no rebuild).
_CACHE_SIZE = 8
_cache: dict[tuple[Any, ...], Journeys] = {}
_cache_lock = threading.Lock()
_STAGE_RANK = (
    "CASE e.to_stage WHEN 'lead' THEN 0 WHEN 'mql' THEN 1 WHEN 'sal' THEN 2 WHEN 'sql' THEN 3"
    " WHEN 'opportunity' THEN 4 WHEN 'customer' THEN 5 END"
)
_KEY_SQL = {
    "channel": "t.channel",
    "utm_source": "t.utm_source",
    "campaign": "c.name",
    "utm_content": "t.utm_content",
}
# ISO 4217 minor units that are not 2
_ZERO_DECIMALS = (
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "ISK",
    "JPY",
    "KMF",
    "KRW",
    "PYG",
    "RWF",
    "UGX",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
)
_THREE_DECIMALS = ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")


def minor_unit_scale(currency_sql: str) -> str:
    """SQL for 10^(minor units) of a currency column."""
    zero = ", ".join(f"'{c}'" for c in _ZERO_DECIMALS)
    three = ", ".join(f"'{c}'" for c in _THREE_DECIMALS)
    return (
        f"(CASE WHEN {currency_sql} IN ({zero}) THEN 1.0"
        f" WHEN {currency_sql} IN ({three}) THEN 1000.0 ELSE 100.0 END)"
    )


def reporting_currency(url: str) -> str:
    """The workspace's reporting currency, or TWD when the store is absent or not initialised."""
    from closedloop.analytics import engine as analytics_engine

    if analytics_engine.routed():  # Spark over a Parquet export: read its copy of the settings
        found = analytics_engine.rows(
            url, "SELECT reporting_currency FROM store.workspace_settings ORDER BY id LIMIT 1"
        )
        return (found[0]["reporting_currency"] if found else None) or "TWD"
    from sqlalchemy import inspect, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from closedloop.store import engine_for

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (not parsed.database or not Path(parsed.database).exists()):
        return "TWD"
    try:
        engine = engine_for(url)
        if not inspect(engine).has_table("workspace_settings"):
            return "TWD"
        with engine.connect() as conn:
            value = conn.execute(
                text("SELECT reporting_currency FROM workspace_settings WHERE id = 1")
            ).scalar()
    except SQLAlchemyError:
        return "TWD"
    return value or "TWD"


def _conversions_sql(conversion: str, currency: str, value: str, filters: dict[str, str]) -> str:
    """`conv`: one row per conversion (conv_at in the period) plus one per lead that never converted.

    `filters` holds SQL conditions: `period` on `conv_at`, `as_of` and scope conditions on deals
    (`deal`) and leads (`lead`, over `reach r`).
    """
    stage_at = {
        "lead": "lead_at",
        "mql": "mql_at",
        "sql": "sql_at",
        "opportunity": "opportunity_at",
        "customer": "customer_at",
    }
    period = filters.get("period", "TRUE")
    lead_ok = filters.get("lead", "TRUE")
    if conversion != "won":
        at = stage_at[conversion]
        return f"""
        SELECT lead_id, NULL::BIGINT AS deal_id, {at} AS conv_at, 0.0 AS value,
               lead_at, {"opportunity_at" if conversion == "opportunity" else "NULL::TIMESTAMP"} AS opp_at
        FROM reach r
        WHERE {lead_ok} AND ({at} IS NULL OR {period.replace("conv_at", at)})"""
    scale = minor_unit_scale("d.currency")
    margin = (
        " * COALESCE(CAST(p.margin_pct AS DOUBLE), (SELECT CAST(default_margin_pct AS DOUBLE)"
        " FROM store.workspace_settings ORDER BY id LIMIT 1), 1.0)"
        if value == "margin"
        else ""
    )
    won = f"d.status = 'won' AND d.closed_at IS NOT NULL AND {filters.get('won', 'TRUE')}"
    return f"""
        SELECT d.lead_id, d.id AS deal_id, CAST(d.closed_at AS TIMESTAMP) AS conv_at,
               d.amount_minor / {scale} * CASE WHEN d.currency = '{currency}' THEN 1.0
                   ELSE CAST(x.rate_to_reporting AS DOUBLE) END{margin} AS value,
               r.lead_at, r.opportunity_at AS opp_at
        FROM store.deals d
        LEFT JOIN reach r ON r.lead_id = d.lead_id
        LEFT JOIN rates x ON x.deal_id = d.id
        {"LEFT JOIN store.products p ON p.id = d.product_id" if margin else ""}
        WHERE {won} AND {filters.get("deal", "TRUE")} AND {period.replace("conv_at", "CAST(d.closed_at AS TIMESTAMP)")}
        UNION ALL
        SELECT r.lead_id, NULL, NULL, 0.0, r.lead_at, NULL FROM reach r
        WHERE {lead_ok} AND NOT EXISTS (SELECT 1 FROM store.deals d WHERE d.lead_id = r.lead_id AND {won})"""


def build_journeys(
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
    converting_only: bool = False,
) -> Journeys:
    """The journeys of one conversion kind, keyed by `by`, from the store at `url`.

    The analytics layer narrows them: `start`/`end` (naive UTC, closed-open) keep the conversions
    in a period (journeys that never converted stay: the data-driven models need them), `as_of`
    (naive UTC) drops everything that happened later, `value="margin"` values won deals at their
    gross margin, `scope` (an analytics `Scope`) keeps the caller's leads and deals, and a tuple
    `by` keys each touch by several dimensions joined by KEY_SEP. `customer` (reaching the
    customer stage) is a conversion for the analytics layer's new-customer credit.
    `converting_only` leaves out the journeys that never converted: the rule-based models credit
    nothing to them (only the data-driven models and journey-resampling bootstraps need them).
    """
    question = prepare(
        url, conversion=conversion, by=by, lookback_days=lookback_days, start=start, end=end,
        as_of=as_of, value=value, scope=scope, converting_only=converting_only,
    )  # fmt: skip
    return cached(url, question, ("journeys",), lambda: _journeys(question))


@dataclass(frozen=True)
class Question:
    """One journey question, resolved against the store's current snapshot (`ctes` ends with `journeys`)."""

    url: str
    schema: str  # the snapshot (or `live`) the SQL reads
    conversion: str
    dims: tuple[str, ...]
    lookback: int
    start: datetime | None
    end: datetime | None
    as_of: datetime | None
    value: str
    scope: Any
    converting_only: bool
    ctes: str
    params: dict[str, Any]


def prepare(
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
    converting_only: bool = False,
) -> Question:
    """Check a question and write its SQL: `touches`, `keys` and `journeys` CTEs over the snapshot."""
    from closedloop.analytics import snapshot

    dims = (by,) if isinstance(by, str) else tuple(by)
    if conversion not in (*CONVERSIONS, "customer") or not dims or any(d not in DIMENSIONS for d in dims):
        raise ValidationFailed(
            f"unknown conversion {conversion!r} or dimension {by!r}", detail={"field": "conversion"}
        )
    if value not in ("amount", "margin"):
        raise ValueError(f"unknown journey value {value!r}")
    lookback = DEFAULT_LOOKBACK.get(conversion, 365) if lookback_days is None else int(lookback_days)
    if lookback <= 0:
        raise ValidationFailed(translate("attribution.error.lookback"), detail={"field": "lookback"})
    from closedloop.analytics import engine

    name, latest = snapshot.current(url)
    if snapshot.keeps(name) and as_of is not None and (latest is None or as_of >= latest):
        as_of = None  # the snapshot holds nothing later: the same journeys as "now"
    currency = reporting_currency(url)
    if conversion == "won":
        _check_rates(url, currency)
    params: dict[str, Any] = {}
    filters = _filters(params, start=start, end=end, as_of=as_of, scope=scope)
    key = " || chr(31) || ".join(f"COALESCE(CAST({_KEY_SQL[d]} AS VARCHAR), '{NOT_SET}')" for d in dims)
    sql = f"""
    WITH ev AS (
        SELECT e.lead_id, CAST(e.occurred_at AS TIMESTAMP) AS occurred_at, {_STAGE_RANK} AS rank
        FROM store.lifecycle_events e
        WHERE {filters["event"]} AND NOT EXISTS (
            SELECT 1 FROM store.lifecycle_events v WHERE v.voids_id = e.id AND {filters["void"]})
    ),
    reach AS (
        SELECT l.id AS lead_id, l.owner_id, l.team_id,
               COALESCE(MIN(ev.occurred_at) FILTER (WHERE ev.rank >= 0),
                        CAST(l.created_at AS TIMESTAMP)) AS lead_at,
               MIN(ev.occurred_at) FILTER (WHERE ev.rank >= 1) AS mql_at,
               MIN(ev.occurred_at) FILTER (WHERE ev.rank >= 3) AS sql_at,
               MIN(ev.occurred_at) FILTER (WHERE ev.rank >= 4) AS opportunity_at,
               MIN(ev.occurred_at) FILTER (WHERE ev.rank >= 5) AS customer_at
        FROM store.leads l LEFT JOIN ev ON ev.lead_id = l.id
        WHERE l.merged_into_id IS NULL AND {filters["created"]}
        GROUP BY l.id, l.created_at, l.owner_id, l.team_id
    ),
    rates AS ({_rates_sql(currency)}),
    touches AS (
        SELECT t.id, COALESCE(t.lead_id, v.lead_id) AS lead_id,
               CAST(t.occurred_at AS TIMESTAMP) AS occurred_at, {key} AS key
        FROM store.touchpoints t
        LEFT JOIN store.visitors v ON v.id = t.visitor_id
        LEFT JOIN store.campaigns c ON c.id = t.campaign_id
        WHERE COALESCE(t.lead_id, v.lead_id) IS NOT NULL AND {filters["touch"]}
    ),
    last_touch AS (SELECT lead_id, MAX(occurred_at) AS last_at FROM touches GROUP BY lead_id),
    conv AS ({_conversions_sql(conversion, currency, value, filters)}),
    journeys AS (
        SELECT ROW_NUMBER() OVER (ORDER BY c.lead_id NULLS LAST, c.deal_id, c.conv_at) - 1 AS jid,
               c.lead_id, c.conv_at IS NOT NULL AS converted, CAST(COALESCE(c.value, 0.0) AS DOUBLE) AS value,
               COALESCE(c.conv_at, lt.last_at) AS end_at, c.lead_at,
               CASE WHEN c.opp_at <= c.conv_at THEN c.opp_at END AS opp_at
        FROM conv c LEFT JOIN last_touch lt ON lt.lead_id = c.lead_id
        {"WHERE c.conv_at IS NOT NULL" if converting_only else ""}
    )"""
    return Question(
        url, name, conversion, dims, lookback, start, end, as_of, value, scope, converting_only,
        sql.replace(f"{engine.STORE}.", f"{name}."), params,
    )  # fmt: skip


def window_join(question: Question) -> str:
    """SQL joining each journey `j` to its touches `t` (at or before its end, within the lookback)."""
    return f"""FROM journeys j
    LEFT JOIN touches t ON t.lead_id = j.lead_id AND t.occurred_at <= j.end_at
        AND t.occurred_at >= j.end_at - INTERVAL {question.lookback} DAY"""


def cached(url: str, question: Question, form: tuple[Any, ...], build: Callable[[], Journeys]) -> Journeys:
    """Journeys of a question kept while its snapshot is current (live and other engines' reads never are)."""
    from closedloop.analytics import snapshot

    q = question
    cache_key = (url, q.schema, q.conversion, q.dims, q.lookback, q.start, q.end, q.as_of, q.value, q.scope,
                 q.converting_only, form)  # fmt: skip
    if snapshot.keeps(q.schema):
        with _cache_lock:
            if cache_key in _cache:
                return _cache[cache_key]
    journeys = build()
    if snapshot.keeps(q.schema):
        with _cache_lock:
            for old in [k for k in _cache if k[0] == url and k[1] != q.schema]:
                del _cache[old]  # an older snapshot's journeys are never asked again
            while len(_cache) >= _CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
            for array in (journeys.offsets, journeys.touches, journeys.conversions, journeys.values,
                          journeys.nulls, journeys.ages, journeys.lead_touch, journeys.opportunity_touch):  # fmt: skip
                if array is not None:
                    array.flags.writeable = False  # shared by every later caller: nobody may change it
            _cache[cache_key] = journeys
    return journeys


def _journeys(question: Question) -> Journeys:
    from closedloop.analytics import engine

    sql = f"""{question.ctes}
    SELECT j.jid, j.converted, j.value, j.opp_at IS NOT NULL AS has_opp,
           COALESCE(t.key, '{NONE_KEY}') AS key,
           COALESCE(epoch(j.end_at) - epoch(t.occurred_at), 0) / 86400.0 AS age_days,
           COALESCE(t.occurred_at <= j.lead_at, FALSE) AS before_lead,
           COALESCE(t.occurred_at <= j.opp_at, FALSE) AS before_opp
    {window_join(question)}
    ORDER BY j.jid, t.occurred_at, t.id
    """
    return _from_rows(engine.query(question.url, sql, question.params))


def _filters(
    params: dict[str, Any],
    *,
    start: datetime | None,
    end: datetime | None,
    as_of: datetime | None,
    scope: Any,
) -> dict[str, str]:
    """SQL conditions (their values bound in `params`) narrowing journeys to a question."""

    def bind(value: Any) -> str:
        name = f"j{len(params)}"
        params[name] = value
        return f"${name}"

    found = {k: "TRUE" for k in ("event", "void", "created", "touch", "won")}
    if as_of is not None:
        moment = bind(as_of)
        found["event"] = f"CAST(e.occurred_at AS TIMESTAMP) <= {moment}"
        found["void"] = f"CAST(v.occurred_at AS TIMESTAMP) <= {moment}"
        found["created"] = f"CAST(l.created_at AS TIMESTAMP) <= {moment}"
        found["touch"] = f"CAST(t.occurred_at AS TIMESTAMP) <= {moment}"
        found["won"] = (
            f"CAST(d.closed_at AS TIMESTAMP) <= {moment} AND CAST(d.created_at AS TIMESTAMP) <= {moment}"
        )
    period = []
    if start is not None:
        period.append(f"conv_at >= {bind(start)}")
    if end is not None:
        period.append(f"conv_at < {bind(end)}")
    found["period"] = " AND ".join(period) or "TRUE"
    if scope is not None:
        found["lead"] = _scope_sql(bind, scope, "r.owner_id", "r.team_id")
        found["deal"] = _scope_sql(bind, scope, "d.owner_id", "d.team_id")
    return found


def _scope_sql(bind: Any, scope: Any, owner: str, team: str) -> str:
    parts = []
    if scope.owner_ids:
        parts.append(f"{owner} IN ({', '.join(bind(int(i)) for i in sorted(scope.owner_ids))})")
    if scope.team_ids:
        parts.append(f"{team} IN ({', '.join(bind(int(i)) for i in sorted(scope.team_ids))})")
    return "(" + (" OR ".join(parts) or "FALSE") + ")"


def _rates_sql(currency: str) -> str:
    """Per won deal in another currency, the latest rate dated on or before its close (UTC date)."""
    return f"""
        SELECT DISTINCT ON (d.id) d.id AS deal_id, r.rate_to_reporting
        FROM store.deals d JOIN store.exchange_rates r
          ON r.currency = d.currency
         AND CAST(r.rate_date AS DATE) <= CAST(CAST(d.closed_at AS TIMESTAMP) AS DATE)
        WHERE d.status = 'won' AND d.closed_at IS NOT NULL AND d.currency <> '{currency}'
        ORDER BY d.id, CAST(r.rate_date AS DATE) DESC"""


def _check_rates(url: str, currency: str) -> None:
    from closedloop.analytics import snapshot

    missing = snapshot.query(
        url,
        f"""
        WITH rates AS ({_rates_sql(currency)})
        SELECT COALESCE(d.external_id, CAST(d.id AS VARCHAR)) AS deal, d.currency,
               CAST(CAST(d.closed_at AS TIMESTAMP) AS DATE) AS day
        FROM store.deals d LEFT JOIN rates x ON x.deal_id = d.id
        WHERE d.status = 'won' AND d.closed_at IS NOT NULL AND d.currency <> '{currency}'
          AND x.deal_id IS NULL
        ORDER BY d.id LIMIT 1""",
    ).to_pylist()
    if missing:
        row = missing[0]
        raise ValidationFailed(
            translate(
                "attribution.error.missing_rate", deal=row["deal"], currency=row["currency"], date=row["day"]
            ),
            detail={"field": "currency", "deal": row["deal"]},
        )


def _from_rows(table: object) -> Journeys:
    import pyarrow as pa

    assert isinstance(table, pa.Table)
    jid = table.column("jid").to_numpy().astype(np.int64)
    if len(jid) == 0:
        empty = np.zeros(0)
        return Journeys(
            [], np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64), empty, empty, empty, empty
        )
    encoded = table.column("key").combine_chunks().dictionary_encode()
    keys = [str(k) for k in encoded.dictionary.to_pylist()]
    touches = encoded.indices.to_numpy().astype(np.int64)
    n = int(jid[-1]) + 1
    lengths = np.bincount(jid, minlength=n)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    firsts = offsets[:-1]
    converted = table.column("converted").to_numpy(zero_copy_only=False).astype(bool)[firsts]
    values = table.column("value").to_numpy(zero_copy_only=False).astype(np.float64)[firsts]
    has_opp = table.column("has_opp").to_numpy(zero_copy_only=False).astype(bool)[firsts]
    before_lead = table.column("before_lead").to_numpy(zero_copy_only=False).astype(np.float64)
    before_opp = table.column("before_opp").to_numpy(zero_copy_only=False).astype(np.float64)
    lead_touch = np.bincount(jid, weights=before_lead, minlength=n).astype(np.int64) - 1
    opp_count = np.bincount(jid, weights=before_opp, minlength=n).astype(np.int64)
    # the last touch at or before each event; with none before it, the first touch
    opportunity_touch = np.where(has_opp, np.maximum(opp_count - 1, 0), -1)
    conversions = converted.astype(np.float64)
    return Journeys(
        keys=keys,
        offsets=offsets,
        touches=touches,
        conversions=conversions,
        values=np.where(converted, values, 0.0),
        nulls=1.0 - conversions,
        ages=table.column("age_days").to_numpy(zero_copy_only=False).astype(np.float64),
        lead_touch=np.maximum(lead_touch, 0),
        opportunity_touch=opportunity_touch,
    )
