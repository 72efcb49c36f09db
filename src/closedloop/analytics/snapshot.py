"""A columnar snapshot of the store inside DuckDB, refreshed whenever the store changed.

Reading SQLite or PostgreSQL through a scanner costs most of a report's time, so the columns
the scorecard reads are copied once into DuckDB tables (timestamps already cast) and reused
until the store changes. Freshness is exact, never time-based: SQLite's `PRAGMA data_version`
changes on every commit by another connection; PostgreSQL's WAL position moves on every
write. The token is read before copying, so a write racing the copy only causes one more
refresh, never a stale answer. Queries written against `store.<table>` run unchanged.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from closedloop.analytics import engine

# Only the columns the scorecard reads; `*_at` become TIMESTAMP (UTC), flags BOOLEAN, days DATE.
TABLES: dict[str, str] = {
    "lifecycle_events": "id, lead_id, to_stage, occurred_at, implied, voids_id",
    "leads": "id, merged_into_id, created_at, owner_id, team_id, account_id, first_channel, first_utm_source,"
    " first_utm_medium, first_utm_campaign, first_utm_content, first_campaign_id, first_landing_page,"
    " source_type, lead_type, score_band, region, country, industry, company_size,"
    " (email IS NOT NULL OR phone IS NOT NULL OR line_user_id IS NOT NULL OR wechat_unionid IS NOT NULL"
    " OR external_id IS NOT NULL) AS has_identity",
    "deals": "id, lead_id, account_id, product_id, owner_id, team_id, stage, status, currency, amount_minor,"
    " created_at, closed_at, expected_close_date, lost_reason",
    "deal_stage_events": "deal_id, to_stage, occurred_at, expected_close_date",
    "activities": "deal_id, occurred_at",
    "users": "id, email",
    "teams": "id, name",
    "campaigns": "id, name, channel",
    "products": "id, name, margin_pct",
    "accounts": "id, owner_id, region, country, industry, company_size, became_customer_at",
    "exchange_rates": "currency, rate_date, rate_to_reporting",
    "pipeline_stages": "key, probability, outcome, forecast_category",
    "handoffs": "id, lead_id, owner_id, team_id, assigned_at, first_response_at, breached_at, sla_met,"
    " response_business_hours, rejected_at, rejection_reason",
    "campaign_spend": "id, campaign_id, channel, spend_date, amount_minor, currency",
    "cost_entries": "id, period_start, period_end, amount_minor, currency",
    "customer_feedback": "id, account_id, lead_id, occurred_at, score, scale_max",
    "workspace_settings": "id, reporting_time_zone, reporting_currency, conversion_window_days, stale_deal_days,"
    " default_margin_pct",
    "revenue_events": "id, account_id, deal_id, lead_id, product_id, occurred_at, amount_minor, currency",
    "quotas": "id, user_id, team_id, period_start, period_end, amount_minor, currency",
    "account_churn_scores": "id, account_id, scored_at, probability",
    "policy_versions": "id, kind, version, status, effective_from, approved_at, CAST(payload AS VARCHAR) AS payload",
    "goals": "id, name, metric, target, period_start, period_end, owner_id, team_id, CAST(filters AS VARCHAR) AS filters",
}
BOOLEANS = {"implied", "sla_met"}
DATES = {"rate_date", "spend_date", "period_start", "period_end", "expected_close_date"}
DOUBLES = {
    "rate_to_reporting",
    "probability",
    "score",
    "response_business_hours",
    "margin_pct",
    "default_margin_pct",
}


@dataclass
class _State:
    connection: Any
    token: str  # the store's token when `schema` was built
    schema: str
    generation: int
    last_seen: str = ""  # the token seen by the previous query


LIVE = "live"
_lock = threading.Lock()
_states: dict[str, _State] = {}
_sqlite_watchers: dict[str, sqlite3.Connection] = {}


def _column(name: str) -> str:
    if " AS " in name:  # a derived column (identities never leave the store, only whether one exists)
        return name
    if name.endswith("_at"):
        return f"CAST({name} AS TIMESTAMP) AS {name}"
    if name in BOOLEANS:
        return f"CAST({name} AS BOOLEAN) AS {name}"
    if name in DATES:
        return f"CAST({name} AS DATE) AS {name}"
    if name in DOUBLES:
        return f"CAST({name} AS DOUBLE) AS {name}"
    return name


def _split(columns: str) -> list[str]:
    """Split a column list on top-level commas (derived columns hold parentheses)."""
    parts, depth, current = [], 0, ""
    for ch in columns:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [*parts, current]


def _token(url: str) -> str:
    """A value that changes whenever the store's data may have changed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = str(Path(parsed.database or "").resolve())
        watcher = _sqlite_watchers.get(url)
        if watcher is None:
            watcher = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
            _sqlite_watchers[url] = watcher
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        stat = os.stat(path)  # a restored (replaced) file is a new store
        return f"{stat.st_dev}:{stat.st_ino}:{version}"
    cursor = engine.connect(url).cursor()
    try:
        sql = "SELECT * FROM postgres_query('store', 'SELECT pg_current_wal_lsn()::text')"
        found = cursor.execute(sql).fetchone()
        return str(found[0] if found else "")
    finally:
        cursor.close()


def _select(table: str) -> str:
    columns = ", ".join(_column(c.strip()) for c in _split(TABLES[table]))
    return f"SELECT {columns} FROM {engine.STORE}.{table}"


def schema(url: str) -> str:
    """The DuckDB schema to read the store at `url` from: a fresh snapshot, or `live` views.

    A snapshot is used only while the store's token equals the one read before it was built.
    When the token has changed, the query reads the store live (same columns, through views),
    and the snapshot is rebuilt only once the store has been quiet between two queries, so a
    store written to all the time is scanned rather than copied again and again.
    """
    connection = engine.connect(url)
    with _lock:
        token = _token(url)
        state = _states.get(url)
        if state is None or state.connection is not connection:
            state = _State(connection, "", LIVE, 0)
            _states[url] = state
            _create_live(connection)
        if state.schema != LIVE and state.token == token:
            return state.schema
        if state.last_seen != token:
            state.last_seen = token
            return LIVE
        return _build(state, token)


def rebuild(url: str) -> str:
    """Copy the store into a new snapshot now (benchmarks, and after a bulk load)."""
    schema(url)
    with _lock:
        state = _states[url]
        return _build(state, _token(url))


def _build(state: _State, token: str) -> str:
    """Copy the read columns into `snapshot_<n>`; the caller holds the lock and read `token` first."""
    connection = state.connection
    generation = state.generation + 1
    name = f"snapshot_{generation}"
    cursor = connection.cursor()
    try:
        cursor.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        cursor.execute(f"CREATE SCHEMA {name}")
        for table in TABLES:
            cursor.execute(f"CREATE TABLE {name}.{table} AS {_select(table)}")
        # Keep the previous generation for readers still using it; drop the one before.
        if generation > 2:
            cursor.execute(f"DROP SCHEMA IF EXISTS snapshot_{generation - 2} CASCADE")
    finally:
        cursor.close()
    state.token, state.schema, state.generation = token, name, generation
    return name


def _create_live(connection: Any) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {LIVE}")
        for table in TABLES:
            cursor.execute(f"CREATE OR REPLACE VIEW {LIVE}.{table} AS {_select(table)}")
    finally:
        cursor.close()


def rows(url: str, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run scorecard SQL written against `store.<table>` on the fresh snapshot."""
    if engine.routed():  # another engine (Spark) reads its own copy of the store
        return engine.rows(url, sql, params)
    return engine.rows(url, sql.replace(f"{engine.STORE}.", f"{schema(url)}."), params)


def forget(url: str | None = None) -> None:
    """Drop what is kept for one store (or all): called when its connection closes."""
    with _lock:
        for key in [url] if url else list(_states):
            _states.pop(key, None)
            watcher = _sqlite_watchers.pop(key, None)
            if watcher is not None:
                watcher.close()
