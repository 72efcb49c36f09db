"""Touchpoint imports, vectorised per chunk (pandas) with bulk inserts: the 1M-row path."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.orm import Session

from closedloop.audit.models import AuditLog
from closedloop.imports import columns as columns_ops
from closedloop.imports import parsing
from closedloop.imports.context import ImportContext
from closedloop.imports.readers import ROW_COLUMN, Table
from closedloop.imports.report import RowError
from closedloop.marketing import channels as channel_rules
from closedloop.marketing import service as marketing_service
from closedloop.marketing.models import CLICK_ID_FIELDS, TOUCH_TYPES, Touchpoint, Visitor

TEXT_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", *CLICK_ID_FIELDS)
URL_FIELDS = ("landing_page", "referrer")
MAX_EVENT_NAME = 100
# Fields compared to decide inserted / updated / unchanged.
COMPARED = (
    "lead_id",
    "visitor_id",
    "occurred_at",
    "type",
    *TEXT_FIELDS,
    *URL_FIELDS,
    "channel",
    "campaign_id",
    "event_name",
    "properties",
)
ID_FIELDS = frozenset({"lead_id", "visitor_id", "campaign_id"})
# Checked chunks' columns the writing side never reads (their values are in other attributes).
READER_ONLY = ("occurred_at", "campaign", "campaign_id")
NULLABLE_TEXT = (*TEXT_FIELDS, *URL_FIELDS, "event_name", "properties")
# What SQLite's insert binds for a blank cell (see `columns_ops.sqlite_slots`).
SQLITE_BLANKS: dict[str, str | int] = {
    **dict.fromkeys(NULLABLE_TEXT, ""),
    **dict.fromkeys(("lead_id", "visitor_id", "campaign_id", "channel_policy_version_id"), 0),
}
FIRST_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")
FIRST_TOUCH_COLUMNS = (
    "lead_id",
    "occurred_at",
    "stamp",
    "channel",
    *FIRST_FIELDS,
    "campaign_id",
    "landing_page",
)
CHANNEL_NAMES = {c.casefold(): c for c in channel_rules.CHANNELS}
_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"
# Deferring the touch table's indexes (see `_defer_indexes`) pays from this many rows, counted
# as a file's bytes over more bytes than any touch row we have seen takes (an estimate on the low side).
DEFER_MIN_ROWS = 100_000
ROW_BYTES_HIGH = 250
EXTERNAL_ID_INDEX = "uq_touchpoints_external_id"
# How `parallel_sorts` builds indexes: a worker thread, and runs of 2 MB for it to sort.
SORT_THREADS = 2
SORT_CACHE_KIB = 2048


class CheckedChunk:
    """One chunk after the database-free checks: its columns, errors so far and rejected rows."""

    def __init__(self, frame: pd.DataFrame, df: pd.DataFrame, reverse: dict[str, str]) -> None:
        self.frame, self.df, self.reverse = frame, df, reverse
        self.rows = frame[ROW_COLUMN].to_numpy()
        self.bad = np.zeros(len(df), dtype=bool)
        self.errors: list[RowError] = []
        self.occurred: pd.Series
        self.lead_keys: dict[str, tuple[np.ndarray, list[str]]] = {}
        self.campaign_pairs: tuple[np.ndarray, list[tuple[str, str]]]
        self.lead_ids: pd.Series | None = None  # resolved by the reader from `prepare`'s lead maps
        # True once the reader has made `df`'s external ids the touches' keys, hashed in `key_hash`.
        self.keyed = False

    def __getstate__(self) -> dict[str, Any]:
        """What the importing process needs of the chunk, pickled by the forked reader (see
        `service._read_in_child`): not the columns only the reader reads, and, once every
        rejection is known (the reader resolved the leads), the raw cells of rejected rows alone.
        """
        state = self.__dict__.copy()
        unread = list(READER_ONLY)
        if self.lead_ids is not None:  # else the writer resolves them, failing rows by their cells
            state["frame"] = self.frame.loc[self.bad]
            state["lead_keys"] = {}
            unread += ["lead_external_id", "lead_email"]
        if self.keyed:
            unread.append("natural_tail")
        state["df"] = self.df.drop(columns=unread)
        return state

    def fail(self, mask: Any, column: str | None, reason: str, values: pd.Series | None = None) -> None:
        """Reject the rows of `mask` for `reason` (one error per row, showing the cell of `column`)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        shown = values if values is not None else (self.df[column] if column else None)
        label = self.reverse.get(column, column) if column else None
        for i in np.flatnonzero(mask):
            value = None if shown is None else str(shown.iloc[i])
            self.errors.append(RowError(int(self.rows[i]), label, value, reason))
        self.bad[mask] = True


class TouchpointsProcessor:
    """Validates a chunk with column operations, resolves leads/visitors/campaigns, bulk-writes."""

    def prepare(self, ctx: ImportContext, table: Table) -> None:
        version = channel_rules.rules_in_force(ctx.session, at=ctx.now)
        ctx.cache["rules"] = channel_rules.rules_of(version)
        ctx.cache["rules_version"] = version.id
        ctx.cache["channel_combinations"] = {}  # the reader's alone (see `derive_channels_grouped`)
        ctx.cache["leads_by_email"] = {}
        ctx.cache["leads_by_external"] = {}
        ctx.cache["visitors"] = {}
        ctx.cache["visitor_first_seen"] = {}  # the earliest touch this import has set per visitor key
        ctx.cache["campaigns"] = {}
        ctx.cache["first_touch"] = None
        # SQLite's insert binds no None or bool (see `columns_ops.sqlite_slots`); PostgreSQL's COPY takes None.
        ctx.cache["binds"] = ctx.session.get_bind().dialect.name == "sqlite"
        # Columns neither in the file nor given a constant: nothing to check, NULL to write.
        m = ctx.mapping
        optional = (*TEXT_FIELDS, *URL_FIELDS, "event_name")
        blank = {g for g in optional if g not in m.mapped.values()}
        ctx.cache["blank"] = blank - {g for g, constant in m.constants.items() if constant}
        ctx.cache["written"] = self._written_keys(ctx)
        estimate = self._estimated_rows(ctx, table)
        ctx.cache["deferred_indexes"] = self._defer_indexes(ctx, estimate)
        ctx.cache["lead_maps"] = self._lead_maps(ctx, estimate)

    @staticmethod
    def _written_keys(ctx: ImportContext) -> set[int] | None:
        """An empty set when no stored touch has an external id yet (SQLite), else None.

        The import job's row is flushed before `prepare`, so this transaction holds SQLite's write
        lock until it ends: no other writer can add a touch meanwhile. A key whose hash is not
        among the keys this import has written is then provably not stored, and the per-chunk
        probe of the external-id index is needed only for keys whose hash is (repeats across
        chunks, or a 64-bit collision). PostgreSQL always probes.
        """
        session = ctx.session
        if session.get_bind().dialect.name != "sqlite":
            return None
        raw = session.connection().connection.driver_connection
        if not raw.in_transaction:
            return None
        stored = raw.execute("SELECT max(external_id) FROM touchpoints").fetchone()[0]
        return set() if stored is None else None

    @staticmethod
    def _estimated_rows(ctx: ImportContext, table: Table) -> int:
        """A big file's rows into SQLite, estimated low from its size; 0 for a small file or PostgreSQL."""
        if ctx.session.get_bind().dialect.name != "sqlite":
            return 0
        estimate = table.path.stat().st_size // ROW_BYTES_HIGH
        return estimate if estimate >= DEFER_MIN_ROWS else 0

    @staticmethod
    def _lead_maps(ctx: ImportContext, estimate: int) -> dict[str, tuple[pd.Index, np.ndarray]] | None:
        """Every lead's id by external id and by email, for a big file (SQLite) into a store with
        no more leads than the file has rows: the reader then resolves each chunk's leads itself
        (a hash lookup in C) instead of the importing process querying and mapping them.

        Taken once the import holds SQLite's write lock (its job row is flushed), and a touch
        import writes no lead until `finish`: the maps stay what a per-chunk query would read.
        A key held by several leads maps to the last, as the per-chunk lookup does.
        """
        if not estimate:
            return None
        raw = ctx.session.connection().connection.driver_connection
        if raw.execute("SELECT coalesce(max(id), 0) FROM leads").fetchone()[0] > estimate:
            return None
        leads = pd.DataFrame(raw.execute("SELECT id, external_id, email FROM leads ORDER BY id").fetchall(),
                             columns=["id", "external_id", "email"])  # fmt: skip
        maps = {}
        for column, attr in (("lead_external_id", "external_id"), ("lead_email", "email")):
            keyed = leads[leads[attr].notna() & (leads[attr] != "")]
            # Object keys: looking up in an index of Arrow strings took three times as long.
            keys = pd.Index(keyed[attr].astype(str).to_numpy(dtype=object), dtype=object)
            last = ~keys.duplicated(keep="last")
            maps[column] = (keys[last], keyed["id"].to_numpy(dtype="float64")[last])
        return maps

    @staticmethod
    def _defer_indexes(ctx: ImportContext, estimate: int) -> dict[str, str]:
        """For a big file into a smaller touch table (SQLite), drop the table's indexes now and
        return their CREATE statements by name, for `finish` to build them again.

        Kept up row by row they cost more than the rest of a row's insert (inserts at random
        places in the B-trees, pages spilled to the WAL and read back); built once after the rows
        are in, a sort each. So building wins when the file holds at least as many rows as the
        table, its rows estimated low from its size. The DROP and the CREATE run in the import's
        transaction: a failed, dry or rolled-back import leaves the indexes as they were, and
        other connections read the committed table, with its indexes, throughout.

        The external-id index goes too when no stored touch has an external id (`_written_keys`):
        the chunks then probe it only for keys this import wrote before, and the first such probe
        builds it again (`_probe_ready`). Its final CREATE UNIQUE proves the keys unique: a
        duplicate would fail the import, not slip in. The capture's event-id index stays: it is
        partial, and no imported touch has an event id.
        """
        if not estimate:
            return {}
        raw = ctx.session.connection().connection.driver_connection
        stored = raw.execute("SELECT coalesce(max(id), 0) FROM touchpoints").fetchone()[0]
        if stored > estimate:
            return {}
        unique_too = EXTERNAL_ID_INDEX if ctx.cache.get("written") is not None else None
        indexes = raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'touchpoints'"
            " AND sql IS NOT NULL AND (sql NOT LIKE 'CREATE UNIQUE %' OR name = ?) ORDER BY name",
            (unique_too,),
        ).fetchall()
        for name, _ in indexes:
            raw.execute(f'DROP INDEX "{name}"')
        return dict(indexes)

    def process(self, ctx: ImportContext, frame: pd.DataFrame) -> None:
        self.write_checked(ctx, self.validate(ctx, frame))

    def validate(self, ctx: ImportContext, frame: pd.DataFrame) -> CheckedChunk:
        """The checks that need no database: safe on the reader thread (reads only the mapping,
        the time zone and the rules `prepare` put in the cache; writes nothing shared)."""
        m = ctx.mapping
        df = pd.DataFrame(index=frame.index)
        fill: dict[str, pd.Series] = {}
        for column, generic in m.mapped.items():
            df[generic] = frame[column].astype(str).str.strip()
        for generic in (
            "external_id",
            "lead_external_id",
            "lead_email",
            "visitor_id",
            "occurred_at",
            "type",
            "channel",
            "campaign",
            "campaign_id",
            *TEXT_FIELDS,
            *URL_FIELDS,
            "event_name",
        ):
            if generic not in df.columns:
                constant = m.constants.get(generic, "")
                if constant not in fill:  # one array per constant, shared by the columns that need it
                    fill[constant] = pd.Series(constant, index=df.index, dtype="str")
                df[generic] = fill[constant]
        blank = ctx.cache["blank"]
        chunk = CheckedChunk(frame, df, {generic: column for column, generic in m.mapped.items()})
        fail = chunk.fail
        extras = [c for c in frame.columns if c.startswith("__extra_")]
        if extras:
            fail(overflowing(frame, extras), None, "row has more fields than the header")
        occurred = chunk.occurred = columns_ops.parse_timestamps(df["occurred_at"], ctx.tz)
        fail((df["occurred_at"] == "").to_numpy(), "occurred_at", "required")
        fail((occurred.isna() & (df["occurred_at"] != "")).to_numpy(), "occurred_at", "not a date/time")
        df["type"] = df["type"].str.lower().replace("", "other")
        fail(~df["type"].isin(TOUCH_TYPES).to_numpy(), "type", f"not a touch type ({', '.join(TOUCH_TYPES)})")
        for name in [n for n in TEXT_FIELDS if n not in blank]:
            fail((df[name].str.len() > 255).to_numpy(), name, "longer than 255 characters")
        for name in [n for n in URL_FIELDS if n not in blank]:
            fail((df[name].str.len() > 2000).to_numpy(), name, "longer than 2000 characters")
        if "event_name" not in blank:
            long_name = (df["event_name"].str.len() > MAX_EVENT_NAME).to_numpy()
            fail(long_name, "event_name", f"longer than {MAX_EVENT_NAME} characters")
        # Columns no generic column names become the touch's properties (SPEC section 7: custom fields).
        df["properties"] = properties_column(frame, m.custom)
        explicit = df["channel"] != ""
        canonical = df["channel"].str.casefold().map(CHANNEL_NAMES)
        fail((explicit & canonical.isna()).to_numpy(), "channel", "not a channel of the channel rules")
        no_ref = (df["lead_external_id"] == "") & (df["lead_email"] == "") & (df["visitor_id"] == "")
        fail(
            no_ref.to_numpy(),
            None,
            "one of lead_external_id, lead_email or visitor_id is required",
            df["lead_email"],
        )
        # Every row's rule-derived channel (rows later rejected included: one pass per combination).
        rules, combinations = ctx.cache["rules"], ctx.cache.get("channel_combinations")
        derived = columns_ops.derive_channels_grouped(df, rules, combinations)
        df["channel"] = canonical.where(explicit, derived)
        df["channel_explicit"] = explicit
        # What the writes need that reads no table, done here so the importing thread only writes:
        # stored stamps, the natural key after the lead and visitor ids, lead and campaign keys.
        df["stamp"] = columns_ops.sqlite_stamps(occurred)
        tail = ("stamp", "type", "utm_source", "utm_medium", "utm_campaign", "landing_page")
        df["natural_tail"] = columns_ops.joined([df[name] for name in tail], "|")
        for column in ("lead_external_id", "lead_email"):
            keys = df[column].fillna("")
            codes, uniques = pd.factorize(keys.str.lower() if column == "lead_email" else keys)
            chunk.lead_keys[column] = (codes, uniques.to_numpy(dtype=object).tolist())  # str: NA filled
        names = df["campaign"].where(df["campaign"] != "", df["utm_campaign"]).fillna("")
        id_codes, id_values = pd.factorize(df["campaign_id"].fillna(""))
        name_codes, name_values = pd.factorize(names)
        width = max(len(name_values), 1)
        pair_codes, pair_values = pd.factorize(id_codes.astype("int64") * width + name_codes)
        chunk.campaign_pairs = (
            pair_codes,
            [(str(id_values[int(v) // width]), str(name_values[int(v) % width])) for v in pair_values],
        )
        maps = ctx.cache.get("lead_maps")
        if maps is not None:
            chunk.lead_ids = lead_ids(chunk, lambda column, keys: known_in(maps[column], keys))
            if not (df["visitor_id"] != "").any():  # no visitor to look up: every key is known here
                none = pd.Series(np.nan, index=df.index)
                df["external_id"] = touch_keys(df["external_id"], chunk.lead_ids, none, df["natural_tail"])
                df["key_hash"] = key_hashes(df["external_id"])
                chunk.keyed = True
        return chunk

    def write_checked(self, ctx: ImportContext, chunk: CheckedChunk) -> None:
        """The checks that read the store (leads), then the chunk's writes: on the importing thread."""
        frame, df = chunk.frame, chunk.df
        leads = chunk.lead_ids if chunk.lead_ids is not None else self._resolve_leads(ctx, chunk)
        ok = ~chunk.bad
        self._reject(ctx, frame, chunk.errors)
        if not ok.any():
            return
        every = bool(ok.all())  # the common case: no row filtering (a take over every column) at all

        def kept(series: pd.Series) -> pd.Series:
            return series if every else series[ok]

        good = df.copy() if every else df.loc[ok].copy()
        good["occurred_at"] = kept(chunk.occurred)
        good["lead_id"] = kept(leads)
        good["visitor_id"] = self._resolve_visitors(ctx, good["visitor_id"], good["occurred_at"])
        good["campaign_id"] = self._resolve_campaigns(ctx, chunk, None if every else ok, good.index)
        self._write(ctx, good, chunk)

    def _reject(self, ctx: ImportContext, frame: pd.DataFrame, errors: list[RowError]) -> None:
        if not errors:
            return
        by_row: dict[int, list[RowError]] = {}
        for error in errors:
            by_row.setdefault(error.row, []).append(error)
        raw_columns = [c for c in frame.columns if c != ROW_COLUMN and not c.startswith("__extra_")]
        subset = frame[frame[ROW_COLUMN].isin(list(by_row))]
        for record in subset.to_dict("records"):
            number = int(record[ROW_COLUMN])
            ctx.reject(number, by_row[number], {c: record[c] for c in raw_columns})

    def _resolve_leads(self, ctx: ImportContext, chunk: CheckedChunk) -> pd.Series:
        """Lead ids by lead_external_id, else by lead_email: each distinct key looked up once."""
        session = ctx.session
        stored = {
            "lead_external_id": ("external_id", "leads_by_external"),
            "lead_email": ("email", "leads_by_email"),
        }

        def known(column: str, keys: list[str]) -> np.ndarray:
            attr, cache_key = stored[column]
            cache: dict[str, int | None] = ctx.cache[cache_key]
            wanted = [k for k in keys if k and k not in cache]
            found = dict(columns_ops.lookup(session, "leads", attr, ["id"], wanted))
            cache.update({key: found.get(key) for key in wanted})
            # The chunk's distinct keys looked up one by one: Series.map(cache) would first turn
            # the whole cache (every key of the import so far) into a Series, once per chunk.
            return np.array([cache.get(key) for key in keys], dtype="float64")  # unknown or "" as NaN

        return lead_ids(chunk, known)

    def _resolve_visitors(self, ctx: ImportContext, keys: pd.Series, occurred: pd.Series) -> pd.Series:
        """Visitor ids by key: a new key becomes a visitor first seen at its earliest touch here;
        a known one first seen later than a touch of the file is moved back to it."""
        cache: dict[str, int] = ctx.cache["visitors"]
        given = keys != ""
        if given.any():
            earliest = occurred[given].groupby(keys[given]).min()
            wanted = [k for k in earliest.index.tolist() if k not in cache]
            session = ctx.session
            cache.update(dict(columns_ops.lookup(session, "visitors", "visitor_key", ["id"], wanted)))
            missing = [k for k in wanted if k not in cache]
            if missing:
                session.execute(
                    insert(Visitor),
                    [{"visitor_key": k, "first_seen_at": earliest[k].to_pydatetime()} for k in missing],
                )
                ctx.report.count_change("visitors", len(missing))
                cache.update(dict(columns_ops.lookup(session, "visitors", "visitor_key", ["id"], missing)))
            self._move_first_seen(ctx, earliest, set(missing))
        # Each distinct key looked up once ("" and unknown as NaN), then taken by code in C.
        codes, uniques = pd.factorize(keys)
        ids = np.array([cache.get(key, np.nan) for key in uniques.tolist()] + [np.nan], dtype="float64")
        return pd.Series(ids[codes], index=keys.index, dtype="float64")

    @staticmethod
    def _move_first_seen(ctx: ImportContext, earliest: pd.Series, created: set[str]) -> None:
        """Known visitors' first_seen_at moved back to an earlier touch of this chunk: one
        executemany for the keys whose earliest touch here beats every earlier chunk's (the
        store keeps the earlier of the two)."""
        seen: dict[str, pd.Timestamp] = ctx.cache["visitor_first_seen"]
        moved = [
            (key, at)
            for key, at in earliest.items()
            if key not in created and (key not in seen or at < seen[key])
        ]
        seen.update(moved)
        seen.update(earliest[list(created)].items())
        if not moved:
            return
        visitors = ctx.cache["visitors"]
        t = Visitor.__table__
        ctx.session.execute(
            update(t)
            .where(t.c.id == bindparam("b_id"), t.c.first_seen_at > bindparam("b_at"))
            .values(first_seen_at=bindparam("b_at")),
            [{"b_id": visitors[key], "b_at": at.to_pydatetime()} for key, at in moved],
        )

    def _resolve_campaigns(
        self, ctx: ImportContext, chunk: CheckedChunk, ok: np.ndarray | None, index: pd.Index
    ) -> pd.Series:
        """Campaign ids of the kept rows: each distinct (campaign_id, name) pair matched or created
        once, in the order the kept rows first name it (rejected rows create no campaign)."""
        codes, pairs = chunk.campaign_pairs
        kept = codes if ok is None else codes[ok]
        ids = np.full(len(pairs), np.nan)
        present, first = np.unique(kept, return_index=True)
        for code in present[np.argsort(first, kind="stable")]:
            external_id, name = pairs[int(code)]
            if not external_id and not name:
                continue
            campaign = marketing_service.match_or_create_campaign(
                session=ctx.session,
                name=name or None,
                external_id=external_id or None,
                cache=ctx.cache["campaigns"],
            )
            ids[int(code)] = float(campaign.id) if campaign else np.nan
        return pd.Series(ids[kept], index=index, dtype="float64")

    def _write(self, ctx: ImportContext, good: pd.DataFrame, chunk: CheckedChunk) -> None:
        session = ctx.session
        if not chunk.keyed:
            keys = touch_keys(good["external_id"], good["lead_id"], good["visitor_id"], good["natural_tail"])
            good["external_id"] = keys
            good["key_hash"] = key_hashes(keys)
        before = len(good)
        repeated = good["external_id"].duplicated(keep="last").to_numpy(dtype=bool)
        if repeated.any():
            good = good.loc[~repeated]
        ctx.report.unchanged += before - len(good)
        maybe = self._maybe_stored(ctx, good["external_id"], good["key_hash"])
        if maybe:
            self._probe_ready(ctx)
        existing = self._existing(session, maybe)
        is_new = ~good["external_id"].isin(existing.index)
        new = good if bool(is_new.all()) else good.loc[is_new]
        if len(new):
            self._insert(ctx, new, chunk)
            ctx.report.inserted += len(new)
            ctx.report.count_change("touchpoints", len(new))
        old = good.loc[~is_new]
        if len(old):
            self._update(ctx, old, existing)
        self._note_first_touches(ctx, good)

    def _maybe_stored(self, ctx: ImportContext, keys: pd.Series, key_hash: pd.Series) -> list[str]:
        """The keys that may already be stored: all of them, or (see `_written_keys`) only those
        whose hash (`key_hashes`) this import has written before."""
        written: set[int] | None = ctx.cache.get("written")
        if written is None:
            return keys.tolist()
        hashes = key_hash.tolist()
        if written.isdisjoint(hashes):  # the common case, decided in C
            maybe: list[str] = []
        else:
            maybe = [key for key, h in zip(keys.tolist(), hashes, strict=True) if h in written]
        written.update(hashes)  # every key of the chunk is stored once the chunk is written
        return maybe

    @staticmethod
    def _probe_ready(ctx: ImportContext) -> None:
        """The external-id index built again, if deferred, before its first probe (a key repeated
        across chunks): without it, each probing chunk would scan the whole table."""
        deferred: dict[str, str] = ctx.cache.get("deferred_indexes") or {}
        statement = deferred.pop(EXTERNAL_ID_INDEX, None)
        if statement is not None:
            ctx.session.connection().connection.driver_connection.execute(statement)

    def _existing(self, session: Session, keys: list[str]) -> pd.DataFrame:
        """The stored touches among `keys`: a cheap key probe first, full rows only for the matches."""
        rows = columns_ops.lookup(session, "touchpoints", "external_id", ["id", *COMPARED], keys)
        frame = pd.DataFrame(rows, columns=["external_id", "id", *COMPARED])
        # SQLite's raw rows carry the stored UTC text; PostgreSQL's aware datetimes.
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
        # Properties as the same canonical text the file's rows are compared in (SQLite: stored
        # text; PostgreSQL: a decoded jsonb object with its keys in its own order).
        frame["properties"] = [canonical_json(v) for v in frame["properties"].tolist()]
        return frame.set_index("external_id")

    @staticmethod
    def _plain_columns(
        ctx: ImportContext, frame: pd.DataFrame, *, binds: bool = False
    ) -> dict[str, list[Any]]:
        """The written columns that need no lookup, as lists: blank cells (and columns blank
        throughout the file) as None, or with `binds` (SQLite's insert) as "" and booleans as
        0 and 1: see `columns_ops.sqlite_slots`."""
        blank = ctx.cache.get("blank", set())
        empty = "" if binds else None
        columns = {
            name: [empty] * len(frame)
            if name in blank
            else columns_ops.object_column(frame[name], blank=empty)
            for name in NULLABLE_TEXT
        }
        explicit = frame["channel_explicit"].to_numpy(dtype=bool)
        columns.update(
            type=columns_ops.object_column(frame["type"]),  # never blank; shared strings pickle small
            channel=columns_ops.object_column(frame["channel"]),
            channel_explicit=explicit.astype("int64").tolist() if binds else explicit.tolist(),
        )
        return columns

    @staticmethod
    def _id_columns(frame: pd.DataFrame, *, binds: bool = False) -> dict[str, list[Any]]:
        """The written columns that come from lookups (and the external id after them), as lists:
        no id as None, or with `binds` (SQLite's insert) as 0."""
        empty = 0 if binds else None
        return {
            "external_id": frame["external_id"].tolist(),
            "lead_id": columns_ops.id_column(frame["lead_id"], blank=empty),
            "visitor_id": columns_ops.id_column(frame["visitor_id"], blank=empty),
            "campaign_id": columns_ops.id_column(frame["campaign_id"], blank=empty),
        }

    def _columns(self, ctx: ImportContext, frame: pd.DataFrame) -> dict[str, list[Any]]:
        return {**self._plain_columns(ctx, frame), **self._id_columns(frame)}

    def _insert(self, ctx: ImportContext, new: pd.DataFrame, chunk: CheckedChunk) -> None:
        """One executemany (SQLite, raw connection) or one COPY (PostgreSQL) for the chunk's new rows.

        The values are made lists here, from the chunk's columns: a forked reader that made them
        pickled every string one by one (its columns pickle as whole buffers), and unpickling
        them cost this process about what making them does.
        """
        sqlite = ctx.cache["binds"]
        columns = self._plain_columns(ctx, new, binds=sqlite)
        stamps = new["stamp"].tolist()
        columns.update(self._id_columns(new, binds=sqlite))
        version = ctx.cache["rules_version"]
        explicit = new["channel_explicit"].to_numpy(dtype=bool)
        policy = np.full(len(new), version, dtype=object)
        policy[explicit] = 0 if sqlite else None
        columns["channel_policy_version_id"] = policy.tolist()
        raw = ctx.session.connection().connection.driver_connection
        if sqlite:
            columns["occurred_at"] = stamps
            # Columns blank in the whole chunk are left to their NULL default: fewer values to bind.
            slots = columns_ops.sqlite_slots(columns, SQLITE_BLANKS)
            recorded = ctx.now.astimezone(parsing.UTC).strftime(_SQLITE_TS)
            sql = (
                f"INSERT INTO touchpoints (recorded_at, {', '.join(slots)}) "
                f"VALUES ('{recorded}', {', '.join(slots.values())})"
            )
            raw.executemany(sql, zip(*(columns[n] for n in columns_ops.bound(slots)), strict=True))
            return
        columns["occurred_at"] = list(new["occurred_at"].dt.to_pydatetime())
        columns["recorded_at"] = [ctx.now] * len(new)
        names = list(columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY touchpoints ({', '.join(names)}) FROM STDIN") as copy:
            for values in zip(*(columns[n] for n in names), strict=True):
                copy.write_row(values)

    def _update(self, ctx: ImportContext, old: pd.DataFrame, existing: pd.DataFrame) -> None:
        current_rows = existing.loc[old["external_id"]]
        same = np.ones(len(old), dtype=bool)
        for name in COMPARED:
            mine, theirs = old[name], current_rows[name].set_axis(old.index)
            if name == "occurred_at":
                theirs = pd.to_datetime(theirs, utc=True)
                same &= (mine.to_numpy() == theirs.to_numpy()) | (mine.isna() & theirs.isna()).to_numpy()
            elif name in ID_FIELDS:
                same &= (
                    mine.fillna(-1).astype("int64").to_numpy() == theirs.fillna(-1).astype("int64").to_numpy()
                )
            else:
                same &= mine.fillna("").astype(str).to_numpy() == theirs.fillna("").astype(str).to_numpy()
        ctx.report.unchanged += int(same.sum())
        old = old.loc[~same]
        if not len(old):
            return
        columns = self._columns(ctx, old)
        columns["occurred_at"] = list(old["occurred_at"].dt.to_pydatetime())
        changes, audits = [], []
        for i, key in enumerate(columns["external_id"]):
            current = existing.loc[key]
            diff = {}
            for name in COMPARED:
                new_value = columns[name][i]
                old_value = current[name]
                if old_value != old_value or old_value is pd.NaT:
                    old_value = None
                if name in ID_FIELDS and old_value is not None:
                    old_value = int(old_value)
                if name == "occurred_at" and old_value is not None:
                    old_value = pd.Timestamp(old_value).to_pydatetime()
                if new_value != old_value:
                    diff[name] = (old_value, new_value)
            if not diff:
                ctx.report.unchanged += 1
                continue
            record = {name: new for name, (_, new) in diff.items()}
            if "properties" in record:  # the JSON column takes the object, not its text
                record["properties"] = json.loads(record["properties"]) if record["properties"] else None
            record["b_id"] = int(current["id"])
            record["channel_explicit"] = bool(columns["channel_explicit"][i])
            changes.append(record)
            audits.append(
                {
                    "occurred_at": ctx.now,
                    "actor_user_id": ctx.actor.user_id,
                    "via": "import",
                    "action": "touchpoint.updated",
                    "entity_type": "touchpoint",
                    "entity_id": str(int(current["id"])),
                    "before": {k: columns_ops.json_value(v[0]) for k, v in diff.items()},
                    "after": {k: columns_ops.json_value(v[1]) for k, v in diff.items()},
                }
            )
        # One executemany per set of changed columns, not one statement per row.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for record in changes:
            groups.setdefault(tuple(sorted(record)), []).append(record)
        t = Touchpoint.__table__
        for records in groups.values():
            ctx.session.execute(update(t).where(t.c.id == bindparam("b_id")), records)
        if audits:
            ctx.session.execute(insert(AuditLog), audits)
        ctx.report.updated += len(changes)
        ctx.report.count_change("touchpoints", len(changes))

    def _note_first_touches(self, ctx: ImportContext, good: pd.DataFrame) -> None:
        """Keep each lead's earliest touch of the import so far (ties: the first in the file).

        Per chunk a stable numpy sort picks each lead's earliest row; the kept frame (one row per
        lead, indexed by lead id) changes only where a chunk has an earlier touch or a new lead.
        """
        lead = good["lead_id"].to_numpy(dtype="float64")
        linked = np.flatnonzero(~np.isnan(lead))
        if not len(linked):
            return
        moments = pd.DatetimeIndex(good["occurred_at"]).asi8
        order = linked[np.lexsort((moments[linked], lead[linked]))]
        starts = np.ones(len(order), dtype=bool)
        starts[1:] = lead[order][1:] != lead[order][:-1]
        keep = good.iloc[order[starts]][list(FIRST_TOUCH_COLUMNS)]
        keep.index = pd.Index(lead[order[starts]])
        current: pd.DataFrame | None = ctx.cache["first_touch"]
        if current is None:
            ctx.cache["first_touch"] = keep
            return
        known = current["occurred_at"].reindex(keep.index)
        earlier = (known.isna() | (keep["occurred_at"] < known)).to_numpy(dtype=bool)
        if not earlier.any():
            return
        changed = keep[earlier]
        stale = changed.index.intersection(current.index)
        if len(stale):
            current = current.drop(stale)
        ctx.cache["first_touch"] = pd.concat([current, changed])

    def finish(self, ctx: ImportContext) -> None:
        """The indexes `prepare` deferred, built again; then the leads' first-touch columns from
        the import's earliest touches: one set-based UPDATE."""
        deferred: dict[str, str] = ctx.cache.get("deferred_indexes") or {}
        if deferred:
            raw = ctx.session.connection().connection.driver_connection
            with parallel_sorts(raw):
                for statement in deferred.values():
                    raw.execute(statement)
        firsts = ctx.cache.get("first_touch")
        if firsts is None or not len(firsts):
            return
        # In lead id order: SQLite's updates then walk the leads' B-tree forwards (100k leads:
        # 0.45 s against 0.66 s in the order the chunks found them).
        firsts = firsts.sort_index()
        sqlite = ctx.cache["binds"]
        text_blank, id_blank = ("", 0) if sqlite else (None, None)  # see `columns_ops.sqlite_slots`
        values = {
            "id": columns_ops.id_column(firsts["lead_id"]),
            "at": firsts["stamp"].tolist(),
            "channel": firsts["channel"].tolist(),
            **{
                name: columns_ops.object_column(firsts[name], blank=text_blank)
                for name in FIRST_FIELDS
                if name.startswith("utm_")
            },
            "campaign_id": columns_ops.id_column(firsts["campaign_id"], blank=id_blank),
            "landing_page": columns_ops.object_column(firsts["landing_page"], blank=text_blank),
        }
        names = list(values)
        session = ctx.session
        if sqlite:
            # One executemany of numbered parameters: twice as fast as an UPDATE ... FROM json_each
            # (100k leads: 0.28 s against 0.58 s), whose every column re-reads the row's JSON.
            # Blanks bind as "" or 0 under NULLIF, not as None (sqlite3's slow adapter path).
            slots = {n: f"?{i + 1}" for i, n in enumerate(names)}
            for n in names[3:]:
                slots[n] = f"NULLIF({slots[n]}, {SQLITE_BLANKS[n]!r})"
            sql = (
                "UPDATE leads SET first_touch_at = ?2, "
                + ", ".join(f"first_{n} = {slots[n]}" for n in names[2:])
                + " WHERE id = ?1 AND (first_touch_at IS NULL OR first_touch_at > ?2)"
            )
            raw = session.connection().connection.driver_connection
            changed = raw.executemany(sql, zip(*values.values(), strict=True)).rowcount
        else:
            values["at"] = list(firsts["occurred_at"].dt.to_pydatetime())
            types = {"id": "BIGINT", "at": "TIMESTAMPTZ", "campaign_id": "BIGINT"}
            arrays = ", ".join(f"CAST(:{n} AS {types.get(n, 'VARCHAR')}[])" for n in names)
            assignments = ", ".join(f"first_{n} = f.{n}" for n in names[2:])
            sql = (
                f"UPDATE leads SET first_touch_at = f.at, {assignments} "
                f"FROM unnest({arrays}) AS f({', '.join(names)}) "
                "WHERE leads.id = f.id AND (leads.first_touch_at IS NULL OR leads.first_touch_at > f.at)"
            )
            changed = session.execute(text(sql), values).rowcount
        if changed:
            ctx.report.count_change("leads", changed)


@contextmanager
def parallel_sorts(raw: Any) -> Iterator[None]:
    """SQLite's CREATE INDEX sorts on a worker thread too, within the block.

    With `PRAGMA threads` the sorter hands each run of keys that fills its memory (the page
    cache's size) to a worker thread, which sorts it while this thread reads on through the
    table; then the runs are merged. With the usual cache a touch table's keys fit in one run,
    sorted at the end on this thread alone: a small cache makes several. Measured on 1M touches,
    the four deferred indexes: 1.3 s against 2.1 s. The cache and thread count come back after.
    """
    cache = int(raw.execute("PRAGMA cache_size").fetchone()[0])
    threads = int(raw.execute("PRAGMA threads").fetchone()[0])
    raw.execute(f"PRAGMA threads = {SORT_THREADS}")
    raw.execute(f"PRAGMA cache_size = -{SORT_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size = {cache}")
        raw.execute(f"PRAGMA threads = {threads}")


def touch_keys(external: pd.Series, leads: pd.Series, visitors: pd.Series, tail: pd.Series) -> pd.Series:
    """Each touch's key: the external id the file gives, else a synthetic one hashed from its
    natural key, lead|visitor|stamp|type|source|medium|campaign|landing page (`tail` is "stamp"
    onwards, from `validate`; ids as `columns_ops.id_text`)."""
    natural = columns_ops.joined([columns_ops.id_text(leads), columns_ops.id_text(visitors), tail], "|")
    # A rejected row's missing stamp leaves its natural key missing: hashed as "", never written.
    hashes = key_hashes(natural.fillna(""))
    synthetic = pd.Series(columns_ops.hex_ids("import:", hashes), index=external.index)
    return external.where(external != "", synthetic)


def key_hashes(keys: pd.Series) -> np.ndarray:
    """The 64-bit hashes of strings: of touch keys, the ones `_written_keys`' set holds."""
    return pd.util.hash_array(keys.to_numpy(dtype=object), categorize=False)


def lead_ids(chunk: CheckedChunk, known: Callable[[str, list[str]], np.ndarray]) -> pd.Series:
    """The chunk's lead ids: by lead_external_id, else by lead_email; `known(column, keys)` gives
    the id (NaN if none) of each distinct key of the column. A row naming a lead that does not
    exist is rejected for that column."""
    result = np.full(len(chunk.df), np.nan)
    for column in ("lead_external_id", "lead_email"):
        codes, keys = chunk.lead_keys[column]
        ids = known(column, keys)[codes] if len(keys) else np.full(len(codes), np.nan)
        given = np.array([key != "" for key in keys], dtype=bool)[codes] if len(keys) else ids > 0
        chunk.fail(given & np.isnan(ids), column, "no lead with this identity (import the leads first)")
        result = np.where(np.isnan(result), ids, result)
    return pd.Series(result, index=chunk.df.index, dtype="float64")


def known_in(lead_map: tuple[pd.Index, np.ndarray], keys: list[str]) -> np.ndarray:
    """The ids of `keys` in a map from `_lead_maps` (NaN for a key no lead has, and for "")."""
    index, ids = lead_map
    if not len(index):
        return np.full(len(keys), np.nan)
    positions = index.get_indexer(pd.Index(keys, dtype=object))
    return np.where(positions >= 0, ids[positions], np.nan)


def overflowing(frame: pd.DataFrame, extras: list[str]) -> np.ndarray:
    """Rows with a non-blank cell beyond the header: only rows with any cell there are stripped."""
    maybe = np.array((frame[extras] != "").any(axis=1), dtype=bool)  # a copy: written below
    if maybe.any():
        cells = frame.loc[maybe, extras].astype(str)
        maybe[maybe] = cells.apply(lambda c: c.str.strip() != "").any(axis=1).to_numpy(dtype=bool)
    return maybe


def properties_column(frame: pd.DataFrame, custom: list[str]) -> pd.Series:
    """Per row, the non-blank cells of the file's unknown columns as a JSON object text ("" if none)."""
    if not custom:
        return pd.Series("", index=frame.index, dtype="str")
    cells = frame[custom].astype(str).apply(lambda c: c.str.strip())
    texts = [
        json.dumps(
            {k: v for k, v in zip(custom, values, strict=True) if v}, ensure_ascii=False, sort_keys=True
        )
        for values in cells.itertuples(index=False, name=None)
    ]
    return pd.Series(texts, index=frame.index, dtype="str").replace("{}", "")


def canonical_json(value: Any) -> str | None:
    """A stored JSON object (text or decoded) as sorted-key text; None for none or empty."""
    if value is None or value == "" or value != value:  # None, blank or NaN
        return None
    data = json.loads(value) if isinstance(value, str) else value
    return json.dumps(data, ensure_ascii=False, sort_keys=True) if data else None
