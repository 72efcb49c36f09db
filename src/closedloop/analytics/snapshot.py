"""A columnar snapshot of the store inside DuckDB, refreshed whenever the store changed.

Reading SQLite or PostgreSQL through a scanner costs most of a report's time, so the columns
the scorecard reads are copied once into DuckDB tables (timestamps already cast) and reused
until the store changes. Freshness is exact, never time-based: SQLite's `PRAGMA data_version`
changes on every commit by another connection; PostgreSQL's WAL position moves on every
write. The token is read before copying, so a write racing the copy only causes one more
refresh, never a stale answer. Queries written against `store.<table>` run unchanged.

The PostgreSQL token is cluster-wide: a write to any database of the cluster (or a checkpoint)
moves it, so a shared cluster makes queries read live more often than needed; that costs speed,
never correctness. Per-database alternatives were weighed and refused because none is provably
fresh: `pg_stat_database` counters (`xact_commit`, `tup_inserted + tup_updated + tup_deleted`)
are flushed by each backend lazily (PostgreSQL 15+: at most once a second, deferred up to 60 s
when the stats lock is busy), so a committed write can be invisible to them for seconds and a
snapshot would be reused stale; `pg_stat_reset()` or a crash restart sets them back, so an old
value (the token of an older copy) can come back; `xact_commit` also moves on every read-only
transaction, including the analytics layer's own. A change counter bumped by statement-level triggers is
transactional and would be exact, but it needs a migration on every table the scorecard reads,
costs every write statement an extra update (a single counter row serialises concurrent writers;
a row per backend pid avoids that), and is skipped by `session_replication_role = replica`
(`pg_restore --disable-triggers`, logical replication), so it stays out until the store owns it.

Bounded staleness (opt-in, PostgreSQL only): with `CLOSEDLOOP_ANALYTICS_MAX_STALENESS=<seconds>`
a query after a write may still read the latest finished snapshot, as long as its copy started no
more than that many seconds ago, while a new copy runs in the background (one at a time). Older
snapshots are never read after a write: the query reads live. The moment a copy starts is taken
just before its token is read, so a snapshot holds every write committed before it: every answer
reflects every write committed before (now - bound). Each answer's "data as of" moment (the copy's
start, or now when the answer is fresh) is collected inside a `freshness()` block: Python callers
open one around their calls, and every page request runs in its own (web/pages/common.py).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from closedloop.analytics import engine
from closedloop.analytics import relations as rel

# Only the columns the scorecard reads; `*_at` become TIMESTAMP (UTC), flags BOOLEAN, days DATE.
TABLES: dict[str, str] = {
    "lifecycle_events": "id, lead_id, to_stage, occurred_at, implied, voids_id",
    "leads": "id, merged_into_id, created_at, owner_id, team_id, account_id, first_channel, first_utm_source,"
    " first_utm_medium, first_utm_campaign, first_utm_content, first_campaign_id, first_landing_page,"
    " source_type, lead_type, score_band, region, country, industry, company_size,"
    " (email IS NOT NULL OR phone IS NOT NULL OR line_user_id IS NOT NULL OR wechat_unionid IS NOT NULL"
    " OR external_id IS NOT NULL) AS has_identity",
    "deals": "id, external_id, lead_id, account_id, product_id, owner_id, team_id, stage, status, currency, amount_minor,"
    " created_at, closed_at, expected_close_date, lost_reason",
    "deal_stage_events": "deal_id, to_stage, occurred_at, expected_close_date",
    "activities": "deal_id, occurred_at",
    # attribution journeys: every touch with the keys credit can go to
    "touchpoints": "id, lead_id, visitor_id, occurred_at, channel, utm_source, utm_content, campaign_id",
    "visitors": "id, lead_id",
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
    " default_margin_pct, fiscal_year_start_month",
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
    building: threading.Thread | None = None  # the background copy under way
    stale_build: bool = False  # the last copy finished after the store had changed again
    installed: list[str] = field(default_factory=list)  # snapshots in use, oldest first
    copied_at: datetime | None = None  # when the copy of `schema` started (before its token was read)


@dataclass
class Freshness:
    """How fresh the answers read in one context are.

    `as_of`: every write committed before it is in every answer (the oldest answer's moment:
    a snapshot's copy start when the store changed since, else the moment of the query); `stale`:
    some answer came from a snapshot the store has moved past (bounded staleness).
    """

    as_of: datetime | None = None
    stale: bool = False

    def note(self, moment: datetime, *, stale: bool) -> None:
        with _note_lock:  # a page's calls run in a thread pool and note into one record
            if self.as_of is None or moment < self.as_of:
                self.as_of = moment
            self.stale = self.stale or stale


_note_lock = threading.Lock()


LIVE = "live"
REACH_TABLE = "reach_full"
REACH_MARK = "/*reach:"
_REACH_BLOCK = re.compile(r"/\*reach:([0-9T:.\-]+)\*/(.*?)" + re.escape(rel.REACH_END), re.DOTALL)
_reach_from: dict[str, Any] = {}  # snapshot schema -> its last event moment (reach table valid from it on)
_latest: dict[str, Any] = {}  # snapshot schema -> its last event, touch, lead or deal moment
_lock = threading.RLock()  # held by a SQLite copy made in the querying thread
_BACKGROUND = {"postgresql": True, "sqlite": False}  # copy in a background thread?
# Snapshot numbers never repeat in a process, so a name identifies one copy (attribution caches by it).
_generations = itertools.count(1)
_states: dict[str, _State] = {}
_sqlite_watchers: dict[str, sqlite3.Connection] = {}
_seen: ContextVar[Freshness | None] = ContextVar("closedloop_analytics_freshness", default=None)
log = logging.getLogger(__name__)


def clock() -> datetime:
    """Now (UTC); tests replace it to move past the staleness bound without waiting."""
    return datetime.now(UTC)


def max_staleness(url: str) -> float:
    """Seconds a snapshot may lag the store (CLOSEDLOOP_ANALYTICS_MAX_STALENESS); 0 on SQLite."""
    from closedloop.config import get_settings

    if not _BACKGROUND.get(make_url(url).get_backend_name(), False):
        return 0.0  # SQLite copies in the querying thread only: keep exact freshness there
    return float(get_settings().analytics_max_staleness)


@contextmanager
def freshness() -> Iterator[Freshness]:
    """Collect how fresh the answers read inside the block are (Python callers of the analytics API).

    >>> with snapshot.freshness() as fresh:
    ...     result = api.funnel(url, by=["channel"])
    >>> fresh.as_of, fresh.stale
    """
    found = Freshness()
    token = _seen.set(found)
    try:
        yield found
    finally:
        _seen.reset(token)


def seen() -> Freshness | None:
    """How fresh the answers read so far inside the innermost `freshness()` block are (None outside one)."""
    return _seen.get()


def _note(moment: datetime, *, stale: bool) -> None:
    found = _seen.get()
    if found is not None:  # only inside `freshness()` (a page request opens one)
        found.note(moment, stale=stale)


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


def derived_columns(table: str) -> list[tuple[str, str]]:
    """(name, DuckDB expression) of each column the scorecard reads from `table` that the store
    does not have (e.g. leads' `has_identity`): another engine adds them to its copy."""
    found = []
    for part in _split(TABLES.get(table, "")):
        expression, _, name = part.strip().rpartition(" AS ")
        if expression and name not in expression:
            found.append((name, expression))
    return found


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

    With a staleness bound (`max_staleness`), a snapshot whose copy started within the bound is
    read even after the store changed; the answer's "data as of" is then the copy's start.

    A snapshot is used only while the store's token equals the one read before it was built, so
    an answer is never stale. When the token has changed, the query reads the store live (same
    columns, through views). On PostgreSQL a new snapshot is then copied in a background thread,
    so no request waits for the copy; a store written to all the time is not copied again and
    again: after a copy that the store outran, the next copy waits until the store was quiet
    between two queries. On SQLite the copy is made by the next query that finds the store quiet
    (in its own thread): DuckDB's bundled SQLite reading the file while this process's sqlite3
    writes it from another thread crashed the process (SIGBUS) in tests, so SQLite copies never
    overlap this process's own requests more than the requests themselves do.
    """
    connection = engine.connect(url)
    bound = max_staleness(url)
    with _lock:
        started = clock()  # before the token: a copy made from this token holds every write until now
        token = _token(url)
        state = _states.get(url)
        if state is None or state.connection is not connection:
            state = _State(connection, "", LIVE, 0)
            _states[url] = state
            _create_live(connection)
        if state.schema != LIVE and state.token == token:
            _note(started, stale=False)
            return state.schema
        quiet = state.last_seen == token
        state.last_seen = token
        if not _BACKGROUND[make_url(url).get_backend_name()]:
            if not quiet:
                _note(started, stale=False)
                return LIVE
            state.generation = generation = next(_generations)
            _install(state, token, _copy(connection, generation), generation, started)
            _note(started, stale=False)
            return state.schema
        # Bounded staleness: copy whenever none is under way, so the snapshot keeps within the bound.
        if state.building is None and (bound > 0 or quiet or not state.stale_build):
            state.generation = next(_generations)
            thread = threading.Thread(
                target=_build_in_background,
                args=(url, state, token, state.generation, started),
                name=f"snapshot-{state.generation}",
                daemon=True,
            )
            state.building = thread
            thread.start()
        copied = state.copied_at
        if (
            bound > 0
            and state.schema != LIVE
            and copied is not None
            and started - copied <= timedelta(seconds=bound)
        ):
            _note(copied, stale=True)
            return state.schema
        _note(started, stale=False)
        return LIVE


def _build_in_background(url: str, state: _State, token: str, generation: int, started: datetime) -> None:
    try:
        name = _copy(state.connection, generation)
    except Exception:  # the store went away, or the connection closed under us: queries stay live
        log.warning("analytics snapshot %s of %s failed", generation, url, exc_info=True)
        with _lock:
            state.building = None
        return
    with _lock:
        state.building = None
        if _states.get(url) is not state:  # forgotten meanwhile (connection closed)
            return
        _install(state, token, name, generation, started)
        try:
            state.stale_build = _token(url) != token
        except Exception:  # a failed check only means the next query decides
            state.stale_build = True


def wait(url: str, timeout: float | None = None) -> None:
    """Wait for the background copy of `url`'s snapshot, if one is under way (tests, benchmarks)."""
    with _lock:
        state = _states.get(url)
        thread = state.building if state else None
    if thread is not None:
        thread.join(timeout)


def rebuild(url: str) -> str:
    """Copy the store into a new snapshot now and use it (benchmarks, and after a bulk load)."""
    schema(url)
    wait(url)
    with _lock:
        state = _states[url]
        started = clock()
        token = _token(url)
        state.generation = generation = next(_generations)
    name = _copy(state.connection, generation)
    with _lock:
        _install(state, token, name, generation, started)
        return name


def _copy(connection: Any, generation: int) -> str:
    """Copy the read columns into `snapshot_<generation>` (no lock held: queries go on meanwhile)."""
    name = f"snapshot_{generation}"
    cursor = connection.cursor()
    try:
        cursor.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        cursor.execute(f"CREATE SCHEMA {name}")
        for table in TABLES:
            cursor.execute(f"CREATE TABLE {name}.{table} AS {_select(table)}")
        # Every lead's reaches, computed once: the funnel and lead metrics read it whenever their
        # as-of lies at or after the last event the snapshot holds (the usual "now").
        reach = rel.reach_table_sql().replace(f"{engine.STORE}.", f"{name}.")
        cursor.execute(f"CREATE TABLE {name}.{REACH_TABLE} AS {reach}")
        found = cursor.execute(f"SELECT max(occurred_at) FROM {name}.lifecycle_events").fetchone()
        moments = [
            f"(SELECT max({c}) FROM {name}.{t})"
            for t, c in (("lifecycle_events", "occurred_at"), ("touchpoints", "occurred_at"), ("leads", "created_at"),
                         ("deals", "created_at"), ("deals", "closed_at"))
        ]  # fmt: skip
        latest = cursor.execute(f"SELECT greatest({', '.join(moments)})").fetchone()
        with _lock:
            _reach_from[name] = found[0] if found else None
            _latest[name] = latest[0] if latest else None
    finally:
        cursor.close()
    return name


def _install(state: _State, token: str, name: str, generation: int, started: datetime) -> None:
    """Make a finished copy the snapshot (unless a newer one is in place); the caller holds the lock.

    The previous snapshot stays for readers still using it; older ones are dropped.
    """
    current = int(state.schema.rsplit("_", 1)[1]) if state.schema != LIVE else 0
    cursor = state.connection.cursor()
    try:
        if generation < current:
            _drop(cursor, name)
            return
        state.token, state.schema, state.copied_at = token, name, started
        state.installed.append(name)
        while len(state.installed) > 2:
            _drop(cursor, state.installed.pop(0))
    finally:
        cursor.close()


def _drop(cursor: Any, name: str) -> None:
    cursor.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    _reach_from.pop(name, None)
    _latest.pop(name, None)


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
    name = schema(url)
    sql = sql.replace(f"{engine.STORE}.", f"{name}.")
    if name != LIVE and REACH_MARK in sql:
        sql = _with_reach_table(sql, name)
        if params:  # drop the parameters only the replaced CTEs used
            params = {k: v for k, v in params.items() if re.search(rf"\${k}(?!\w)", sql)}
    return engine.rows(url, sql, params)


def current(url: str) -> tuple[str, Any]:
    """(schema to read, its latest event moment or None): a snapshot name, or `live` and None.

    An as-of at or after that moment sees everything the snapshot holds, so results keyed by the
    snapshot can treat such an as-of as "now" (attribution journeys are cached that way).
    """
    if engine.routed():  # another engine (Spark) reads its own copy through `store.` names
        return engine.STORE, None
    name = schema(url)
    with _lock:
        return name, _latest.get(name)


def keeps(name: str) -> bool:
    """Whether results read from schema `name` may be kept for later calls: only a snapshot's
    (the live store changes under them, and another engine's copy is not this snapshot)."""
    return name not in (LIVE, engine.STORE)


def query(url: str, sql: str, params: dict[str, Any] | None = None) -> Any:
    """Run SQL written against `store.<table>` on the fresh snapshot; an Arrow table (journeys)."""
    if engine.routed():
        return engine.query(url, sql, params)
    return engine.query(url, sql.replace(f"{engine.STORE}.", f"{schema(url)}."), params)


def _with_reach_table(sql: str, name: str) -> str:
    """Swap each computed `reach` block for the snapshot's reach table when it holds every event up to its as-of."""
    with _lock:
        known = name in _reach_from
        last = _reach_from.get(name)

    def swap(match: re.Match[str]) -> str:
        as_of = datetime.fromisoformat(match.group(1))
        if known and (last is None or as_of >= last):
            return f"reach AS (SELECT * FROM {name}.{REACH_TABLE})"
        return match.group(0)

    return _REACH_BLOCK.sub(swap, sql)


def forget(url: str | None = None) -> None:
    """Drop what is kept for one store (or all): called when its connection closes."""
    with _lock:
        keys = [url] if url else list(_states)
        threads = [t for k in keys if (st := _states.get(k)) is not None and (t := st.building) is not None]
    for thread in threads:  # a copy under way finishes first (it uses the connection about to close)
        thread.join()
    with _lock:
        for key in keys:
            _states.pop(key, None)
            watcher = _sqlite_watchers.pop(key, None)
            if watcher is not None:
                watcher.close()
