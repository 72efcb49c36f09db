"""Touchpoint imports, vectorised per chunk (pandas) with bulk inserts: the 1M-row path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from closedloop.audit.models import AuditLog
from closedloop.imports import columns as columns_ops
from closedloop.imports import parsing
from closedloop.imports.context import ImportContext
from closedloop.imports.readers import ROW_COLUMN, Table
from closedloop.imports.report import RowError
from closedloop.leads.models import Lead
from closedloop.marketing import channels as channel_rules
from closedloop.marketing import service as marketing_service
from closedloop.marketing.models import CLICK_ID_FIELDS, TOUCH_TYPES, Touchpoint, Visitor

TEXT_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", *CLICK_ID_FIELDS)
URL_FIELDS = ("landing_page", "referrer")
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
)
ID_FIELDS = frozenset({"lead_id", "visitor_id", "campaign_id"})
LOOKUP_BATCH = 5_000
CHANNEL_NAMES = {c.casefold(): c for c in channel_rules.CHANNELS}
_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"


class TouchpointsProcessor:
    """Validates a chunk with column operations, resolves leads/visitors/campaigns, bulk-writes."""

    def prepare(self, ctx: ImportContext, table: Table) -> None:
        version = channel_rules.rules_in_force(ctx.session, at=ctx.now)
        ctx.cache["rules"] = channel_rules.rules_of(version)
        ctx.cache["rules_version"] = version.id
        ctx.cache["leads_by_email"] = {}
        ctx.cache["leads_by_external"] = {}
        ctx.cache["visitors"] = {}
        ctx.cache["campaigns"] = {}
        ctx.cache["first_touch"] = None

    def process(self, ctx: ImportContext, frame: pd.DataFrame) -> None:
        m = ctx.mapping
        df = pd.DataFrame(index=frame.index)
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
        ):
            if generic not in df.columns:
                df[generic] = m.constants.get(generic, "")
        rows = frame[ROW_COLUMN].to_numpy()
        bad = np.zeros(len(df), dtype=bool)
        reverse = {generic: column for column, generic in m.mapped.items()}
        errors: list[RowError] = []

        def fail(mask: Any, column: str | None, reason: str, values: pd.Series | None = None) -> None:
            mask = np.asarray(mask, dtype=bool)
            if not mask.any():
                return
            shown = values if values is not None else (df[column] if column else None)
            label = reverse.get(column, column) if column else None
            for i in np.flatnonzero(mask):
                value = None if shown is None else str(shown.iloc[i])
                errors.append(RowError(int(rows[i]), label, value, reason))
            bad[mask] = True

        extras = [c for c in frame.columns if c.startswith("__extra_")]
        if extras:
            overflow = (frame[extras].astype(str).apply(lambda c: c.str.strip() != "")).any(axis=1).to_numpy()
            fail(overflow, None, "row has more fields than the header")
        occurred = columns_ops.parse_timestamps(df["occurred_at"], ctx.tz)
        fail((df["occurred_at"] == "").to_numpy(), "occurred_at", "required")
        fail((occurred.isna() & (df["occurred_at"] != "")).to_numpy(), "occurred_at", "not a date/time")
        df["type"] = df["type"].str.lower().replace("", "other")
        fail(~df["type"].isin(TOUCH_TYPES).to_numpy(), "type", f"not a touch type ({', '.join(TOUCH_TYPES)})")
        for name in TEXT_FIELDS:
            fail((df[name].str.len() > 255).to_numpy(), name, "longer than 255 characters")
        for name in URL_FIELDS:
            fail((df[name].str.len() > 2000).to_numpy(), name, "longer than 2000 characters")
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
        lead_ids = self._resolve_leads(ctx, df, fail)
        ok = ~bad
        self._reject(ctx, frame, errors)
        if not ok.any():
            return
        good = df.loc[ok].copy()
        good["occurred_at"] = occurred[ok]
        good["lead_id"] = lead_ids[ok]
        good["visitor_id"] = self._resolve_visitors(ctx, good["visitor_id"], good["occurred_at"])
        good["campaign_id"] = self._resolve_campaigns(ctx, good)
        good["channel_explicit"] = explicit[ok]
        derived = channel_rules.derive_channels(good, ctx.cache["rules"])
        good["channel"] = canonical[ok].where(good["channel_explicit"], derived)
        self._write(ctx, good)

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

    def _resolve_leads(self, ctx: ImportContext, df: pd.DataFrame, fail: Any) -> pd.Series:
        session = ctx.session
        result = pd.Series(np.nan, index=df.index, dtype="float64")
        for column, attr, cache_key in (
            ("lead_external_id", Lead.external_id, "leads_by_external"),
            ("lead_email", Lead.email, "leads_by_email"),
        ):
            keys = df[column] if column == "lead_external_id" else df[column].str.lower()
            cache: dict[str, int | None] = ctx.cache[cache_key]
            wanted = [k for k in keys[keys != ""].unique() if k not in cache]
            for start in range(0, len(wanted), LOOKUP_BATCH):
                batch = wanted[start : start + LOOKUP_BATCH]
                found = dict(session.execute(select(attr, Lead.id).where(attr.in_(batch))).all())
                for key in batch:
                    cache[key] = found.get(key)
            ids = keys.map(cache)
            given = (keys != "").to_numpy()
            fail(given & ids.isna().to_numpy(), column, "no lead with this identity (import the leads first)")
            result = result.where(result.notna(), ids.astype("float64"))
        return result

    def _resolve_visitors(self, ctx: ImportContext, keys: pd.Series, occurred: pd.Series) -> pd.Series:
        cache: dict[str, int] = ctx.cache["visitors"]
        given = keys[keys != ""]
        wanted = [k for k in given.unique() if k not in cache]
        session = ctx.session
        for start in range(0, len(wanted), LOOKUP_BATCH):
            batch = wanted[start : start + LOOKUP_BATCH]
            cache.update(
                dict(
                    session.execute(
                        select(Visitor.visitor_key, Visitor.id).where(Visitor.visitor_key.in_(batch))
                    ).all()
                )
            )
        missing = [k for k in wanted if k not in cache]
        if missing:
            first_seen = occurred[keys.isin(missing)].groupby(keys[keys.isin(missing)]).min()
            session.execute(
                insert(Visitor),
                [{"visitor_key": k, "first_seen_at": first_seen[k].to_pydatetime()} for k in missing],
            )
            ctx.report.count_change("visitors", len(missing))
            for start in range(0, len(missing), LOOKUP_BATCH):
                batch = missing[start : start + LOOKUP_BATCH]
                cache.update(
                    dict(
                        session.execute(
                            select(Visitor.visitor_key, Visitor.id).where(Visitor.visitor_key.in_(batch))
                        ).all()
                    )
                )
        return keys.map(cache).astype("float64")

    def _resolve_campaigns(self, ctx: ImportContext, good: pd.DataFrame) -> pd.Series:
        names = good["campaign"].where(good["campaign"] != "", good["utm_campaign"])
        pairs = pd.DataFrame({"id": good["campaign_id"], "name": names})
        keys = pairs["id"] + "\x1f" + pairs["name"]
        ids: dict[str, float] = {}
        for key in pairs.drop_duplicates().itertuples(index=False):
            if not key.id and not key.name:
                continue
            campaign = marketing_service.match_or_create_campaign(
                session=ctx.session,
                name=key.name or None,
                external_id=key.id or None,
                cache=ctx.cache["campaigns"],
            )
            ids[f"{key.id}\x1f{key.name}"] = float(campaign.id) if campaign else np.nan
        return keys.map(ids).astype("float64")

    def _write(self, ctx: ImportContext, good: pd.DataFrame) -> None:
        session = ctx.session
        good["stamp"] = columns_ops.sqlite_stamps(good["occurred_at"])
        natural = (
            columns_ops.id_text(good["lead_id"]) + "|" + columns_ops.id_text(good["visitor_id"]) + "|"
            + good["stamp"] + "|" + good["type"] + "|" + good["utm_source"] + "|"
            + good["utm_medium"] + "|" + good["utm_campaign"] + "|" + good["landing_page"]
        )  # fmt: skip
        hashes = pd.util.hash_array(natural.to_numpy(dtype=object), categorize=False)
        synthetic = pd.Series([f"import:{h:016x}" for h in hashes], index=good.index)
        good["external_id"] = good["external_id"].where(good["external_id"] != "", synthetic)
        before = len(good)
        good = good.drop_duplicates("external_id", keep="last")
        ctx.report.unchanged += before - len(good)
        existing = self._existing(session, good["external_id"].tolist())
        is_new = ~good["external_id"].isin(existing.index)
        new = good.loc[is_new]
        if len(new):
            self._insert(ctx, new)
            ctx.report.inserted += len(new)
            ctx.report.count_change("touchpoints", len(new))
        old = good.loc[~is_new]
        if len(old):
            self._update(ctx, old, existing)
        self._note_first_touches(ctx, good)

    def _existing(self, session: Session, keys: list[str]) -> pd.DataFrame:
        """The stored touches among `keys`: a cheap key probe first, full rows only for the matches."""
        t = Touchpoint.__table__
        found: list[str] = []
        for start in range(0, len(keys), LOOKUP_BATCH):
            batch = keys[start : start + LOOKUP_BATCH]
            found.extend(session.scalars(select(t.c.external_id).where(t.c.external_id.in_(batch))).all())
        frames = []
        for start in range(0, len(found), LOOKUP_BATCH):
            batch = found[start : start + LOOKUP_BATCH]
            rows = session.execute(
                select(t.c.external_id, t.c.id, *(t.c[c] for c in COMPARED)).where(t.c.external_id.in_(batch))
            ).all()
            frames.append(pd.DataFrame([r._asdict() for r in rows]))
        if not frames:
            return pd.DataFrame(columns=["id", *COMPARED], index=pd.Index([], name="external_id"))
        return pd.concat(frames).set_index("external_id")

    def _columns(self, ctx: ImportContext, frame: pd.DataFrame) -> dict[str, list[Any]]:
        def text(name: str) -> list[Any]:
            return [v or None for v in frame[name].tolist()]

        def ids(name: str) -> list[Any]:
            return [None if v != v else int(v) for v in frame[name].tolist()]

        columns = {name: text(name) for name in (*TEXT_FIELDS, *URL_FIELDS)}
        columns.update(
            external_id=frame["external_id"].tolist(),
            lead_id=ids("lead_id"),
            visitor_id=ids("visitor_id"),
            campaign_id=ids("campaign_id"),
            type=frame["type"].tolist(),
            channel=frame["channel"].tolist(),
            channel_explicit=frame["channel_explicit"].tolist(),
        )
        return columns

    def _insert(self, ctx: ImportContext, new: pd.DataFrame) -> None:
        columns = self._columns(ctx, new)
        version = ctx.cache["rules_version"]
        explicit = columns["channel_explicit"]
        columns["channel_policy_version_id"] = [None if e else version for e in explicit]
        session = ctx.session
        if session.get_bind().dialect.name == "sqlite":
            columns["occurred_at"] = new["stamp"].tolist()
            columns["recorded_at"] = [ctx.now.astimezone(parsing.UTC).strftime(_SQLITE_TS)] * len(new)
            columns["channel_explicit"] = [int(bool(e)) for e in explicit]
            names = list(columns)
            sql = f"INSERT INTO touchpoints ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            raw = session.connection().connection.driver_connection
            raw.executemany(sql, zip(*(columns[n] for n in names), strict=True))
        else:
            columns["occurred_at"] = list(new["occurred_at"].dt.to_pydatetime())
            columns["recorded_at"] = [ctx.now] * len(new)
            columns["channel_explicit"] = [bool(e) for e in explicit]
            names = list(columns)
            session.execute(
                insert(Touchpoint),
                [
                    dict(zip(names, values, strict=True))
                    for values in zip(*(columns[n] for n in names), strict=True)
                ],
            )

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
        from sqlalchemy import bindparam

        t = Touchpoint.__table__
        for record in changes:
            values = {k: v for k, v in record.items() if k != "b_id"}
            ctx.session.execute(update(t).where(t.c.id == bindparam("b_id")).values(**values), [record])
        if audits:
            ctx.session.execute(insert(AuditLog), audits)
        ctx.report.updated += len(changes)
        ctx.report.count_change("touchpoints", len(changes))

    def _note_first_touches(self, ctx: ImportContext, good: pd.DataFrame) -> None:
        linked = good[good["lead_id"].notna()]
        if not len(linked):
            return
        earliest = linked.sort_values("occurred_at").drop_duplicates("lead_id", keep="first")
        keep = earliest[
            [
                "lead_id",
                "occurred_at",
                "channel",
                "utm_source",
                "utm_medium",
                "utm_campaign",
                "utm_content",
                "campaign_id",
                "landing_page",
            ]
        ]
        current = ctx.cache["first_touch"]
        merged = keep if current is None else pd.concat([current, keep])
        ctx.cache["first_touch"] = merged.sort_values("occurred_at").drop_duplicates("lead_id", keep="first")

    def finish(self, ctx: ImportContext) -> None:
        firsts = ctx.cache.get("first_touch")
        if firsts is None or not len(firsts):
            return
        session = ctx.session
        updates = []
        ids = [int(x) for x in firsts["lead_id"]]
        current: dict[int, Any] = {}
        for start in range(0, len(ids), LOOKUP_BATCH):
            batch = ids[start : start + LOOKUP_BATCH]
            current.update(
                dict(session.execute(select(Lead.id, Lead.first_touch_at).where(Lead.id.in_(batch))).all())
            )
        for row in firsts.itertuples(index=False):
            at = row.occurred_at.to_pydatetime()
            known = current.get(int(row.lead_id))
            if known is not None and known <= at:
                continue
            updates.append(
                {
                    "b_id": int(row.lead_id),
                    "first_touch_at": at,
                    "first_channel": row.channel,
                    "first_utm_source": row.utm_source or None,
                    "first_utm_medium": row.utm_medium or None,
                    "first_utm_campaign": row.utm_campaign or None,
                    "first_utm_content": row.utm_content or None,
                    "first_campaign_id": None if row.campaign_id != row.campaign_id else int(row.campaign_id),
                    "first_landing_page": row.landing_page or None,
                }
            )
        if updates:
            from sqlalchemy import bindparam

            t = Lead.__table__
            values = {k: bindparam(f"v_{k}") for k in updates[0] if k != "b_id"}
            params = [{("b_id" if k == "b_id" else f"v_{k}"): v for k, v in u.items()} for u in updates]
            session.execute(update(t).where(t.c.id == bindparam("b_id")).values(**values), params)
            ctx.report.count_change("leads", len(updates))
