"""Capture writes: sites, touches from public events (retries counted once), stitching, quarantine."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from closedloop.audit import service as audit_service
from closedloop.capture.events import CaptureEvent, FieldError
from closedloop.clock import Clock, system_clock
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate
from closedloop.leads.models import Lead
from closedloop.marketing import channels
from closedloop.marketing.models import CLICK_ID_FIELDS, Campaign, Site, Touchpoint, Visitor
from closedloop.marketing.service import normalise_campaign_name
from closedloop.quarantine.models import QuarantinedRecord
from closedloop.users.actor import system_actor

TOUCH_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", *CLICK_ID_FIELDS)
FIRST_TOUCH_COLUMNS = {
    "first_channel": "channel",
    "first_utm_source": "utm_source",
    "first_utm_medium": "utm_medium",
    "first_utm_campaign": "utm_campaign",
    "first_utm_content": "utm_content",
    "first_campaign_id": "campaign_id",
    "first_landing_page": "landing_page",
}
CAPTURE_ACTOR = system_actor("capture")


# ---------------------------------------------------------------- sites


def normalise_origin(value: str) -> str:
    """`scheme://host[:port]` of an http(s) URL, lower-case, default port dropped; ValidationFailed if bad."""
    parts = urlsplit(value.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValidationFailed(translate("capture.error.bad_origin", origin=value))
    port = parts.port
    default = 443 if parts.scheme.lower() == "https" else 80
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{parts.scheme.lower()}://{netloc}"


def create_site(*, session: Session, name: str, origins: Sequence[str], clock: Clock = system_clock) -> Site:
    """Register a website for capture with a fresh public key and its allowed origins; audited."""
    name = name.strip()
    if not name:
        raise ValidationFailed(translate("capture.error.site_name"))
    allowed = sorted({normalise_origin(o) for o in origins})
    if not allowed:
        raise ValidationFailed(translate("capture.error.no_origin"))
    site = Site(name=name, public_key="pk_" + secrets.token_urlsafe(24), origins=allowed, created_at=clock())
    session.add(site)
    session.flush()
    audit_service.record(
        session,
        actor=system_actor("cli"),
        action="site.created",
        entity_type="site",
        entity_id=site.id,
        after={"name": site.name, "origins": allowed},
        clock=clock,
    )
    return site


def list_sites(*, session: Session) -> list[Site]:
    """Every registered site, oldest first."""
    return list(session.scalars(select(Site).order_by(Site.id)))


def site_by_key(*, session: Session, public_key: str) -> Site | None:
    """The active site with this public key, if any."""
    site = session.scalar(select(Site).where(Site.public_key == public_key))
    return site if site is not None and site.is_active else None


def origin_allowed(origins: Iterable[str], origin: str | None) -> bool:
    """True when the request's Origin header is one of the site's allowed origins."""
    if not origin:
        return False
    wanted = _normalised_origin(origin)
    return wanted is not None and wanted in origins


@lru_cache(maxsize=4096)
def _normalised_origin(origin: str) -> str | None:
    try:
        return normalise_origin(origin)
    except ValidationFailed:
        return None


# ---------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Incoming:
    """One valid event of one site, on its way to the touchpoints table."""

    site_id: int
    event: CaptureEvent


def _dialect(session: Session) -> str:
    return "postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"


_CAMPAIGNS: Table = Campaign.__table__  # type: ignore[assignment]
_SELECT_CAMPAIGNS = select(_CAMPAIGNS.c.id, _CAMPAIGNS.c.normalised_name).where(
    _CAMPAIGNS.c.normalised_name.in_(bindparam("names", expanding=True))
)
# The visitor upsert touches the existing row: it waits for a concurrent stitch of the same
# visitor to commit and then returns the visitor's lead, so no touch is written anonymous after
# its visitor was identified (PostgreSQL row lock; SQLite has one writer at a time).


def ensure_visitors(
    *, session: Session, keys: dict[str, int], clock: Clock = system_clock
) -> dict[str, Seen]:
    """Visitors by key (created when new; `keys` maps each key to its site), with their lead if any."""
    if not keys:
        return {}
    now = clock()
    # In key order, so concurrent writers lock visitor rows in the same order (no deadlock).
    ordered = sorted(keys.items())
    if _dialect(session) == "postgresql":
        found = _pg_rows(session, _PG_UPSERT_VISITORS, _pg_visitors(ordered, now))
    else:
        stamp = _sqlite_stamp(now)
        found = _sqlite_rows(session, _sqlite_upsert_visitors, [(k, s, stamp) for k, s in ordered])
    return {key: Seen(vid, lead_id) for vid, key, lead_id in found}


# SQLite: the driver's own statements, VALUES lists of a few fixed lengths (64, 32, ... 1 rows)
# so its statement cache always hits; what SQLAlchemy would add per row is conversion we do once.
_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # how UTCDateTime stores a UTC moment on SQLite
_SQLITE_CHUNK = 64


def _sqlite_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_SQLITE_TS)


def _sqlite_rows(session: Session, sql_for: Any, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    raw = session.connection().connection.driver_connection
    found: list[tuple[Any, ...]] = []
    position = 0
    while position < len(rows):
        left = len(rows) - position
        size = _SQLITE_CHUNK if left >= _SQLITE_CHUNK else 1 << (left.bit_length() - 1)
        chunk = rows[position : position + size]
        position += size
        params = [value for row in chunk for value in row]
        found.extend(raw.execute(sql_for(size), params).fetchall())  # type: ignore[union-attr]
    return found


def _values(size: int, width: int) -> str:
    one = "(" + ", ".join("?" * width) + ")"
    return ", ".join([one] * size)


@lru_cache(maxsize=16)
def _sqlite_upsert_visitors(size: int) -> str:
    return (
        f"INSERT INTO visitors (visitor_key, site_id, first_seen_at) VALUES {_values(size, 3)} "
        "ON CONFLICT (visitor_key) DO UPDATE SET visitor_key = excluded.visitor_key "
        "RETURNING id, visitor_key, lead_id"
    )


@lru_cache(maxsize=64)
def _sqlite_insert_touches(names: tuple[str, ...], size: int) -> str:
    return (
        f"INSERT INTO touchpoints ({', '.join(names)}) VALUES {_values(size, len(names))} "
        "ON CONFLICT (site_id, event_id) WHERE event_id IS NOT NULL DO NOTHING "
        "RETURNING site_id, event_id, lead_id"
    )


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _sqlite_stamp(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict):
        return json.dumps(value)
    return value


# PostgreSQL: one statement text whatever the number of rows (arrays through unnest), so the
# driver parses it once and the server plans it once; insertmanyvalues' VALUES lists of every
# length cost more to prepare than to run.
_PG_UPSERT_VISITORS = (
    "INSERT INTO visitors (visitor_key, site_id, first_seen_at) "
    "SELECT * FROM unnest(%s::varchar[], %s::bigint[], %s::timestamptz[]) "
    "ON CONFLICT (visitor_key) DO UPDATE SET visitor_key = EXCLUDED.visitor_key "
    "RETURNING id, visitor_key, lead_id"
)
_PG_TYPES = {
    "site_id": "bigint",
    "visitor_id": "bigint",
    "lead_id": "bigint",
    "campaign_id": "bigint",
    "channel_policy_version_id": "bigint",
    "occurred_at": "timestamptz",
    "recorded_at": "timestamptz",
    "channel_explicit": "boolean",
    "properties": "jsonb",
}


def _pg_rows(session: Session, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(sql, params)
        return cursor.fetchall()


def _pg_visitors(ordered: list[tuple[str, int]], now: datetime) -> list[list[Any]]:
    """The parameters of _PG_UPSERT_VISITORS: keys, their sites, first seen now."""
    return [[k for k, _ in ordered], [s for _, s in ordered], [now] * len(ordered)]


def _insert_touches(session: Session, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """SQLite: insert the touch rows, skipping repeated event ids; (site_id, event_id, lead_id) of those inserted."""
    names = tuple(rows[0])
    values = [tuple(_sqlite_value(row[n]) for n in names) for row in rows]
    return _sqlite_rows(session, lambda size: _sqlite_insert_touches(names, size), values)


# PostgreSQL capture: a group's visitors, campaigns and touches in one statement (one round trip
# instead of three): the upsert returns each visitor's id and lead, the touches join them and
# their campaign by normalised name, in event order (concurrent writers lock rows alike). The
# touches travel as one JSON parameter: dumping one array per column cost more than the insert.
_PG_LINKS = ("visitor_id", "lead_id", "campaign_id")


@lru_cache(maxsize=8)
def _pg_record_events(names: tuple[str, ...]) -> str:
    columns = ", ".join(f"{n} {_PG_TYPES.get(n, 'varchar')}" for n in names)
    return (
        f"WITH v AS ({_PG_UPSERT_VISITORS}) "
        f"INSERT INTO touchpoints ({', '.join(names)}, {', '.join(_PG_LINKS)}) "
        f"SELECT {', '.join(f'u.{n}' for n in names)}, v.id, v.lead_id, c.id "
        f"FROM jsonb_to_recordset(%s::jsonb) AS u({columns}, visitor_key varchar, campaign_name varchar, "
        "position int) JOIN v ON v.visitor_key = u.visitor_key "
        "LEFT JOIN campaigns c ON c.normalised_name = u.campaign_name ORDER BY u.position "
        "ON CONFLICT (site_id, event_id) WHERE event_id IS NOT NULL DO NOTHING RETURNING site_id, event_id, lead_id"
    )


def _pg_record(
    session: Session,
    rows: list[dict[str, Any]],
    events: list[CaptureEvent],
    keys: dict[str, int],
    now: datetime,
) -> list[tuple[Any, ...]]:
    """Upsert the visitors and insert the touches (rows without their links) in one statement."""
    names = tuple(n for n in rows[0] if n not in _PG_LINKS)
    visitors = _pg_visitors(sorted(keys.items()), now)  # key order, as in ensure_visitors
    touches = [
        {**{n: row[n] for n in names}, "visitor_key": e.visitor_key, "campaign_name": _campaign_name(e),
         "position": position}
        for position, (row, e) in enumerate(zip(rows, events, strict=True))
    ]  # fmt: skip
    payload = json.dumps(touches, default=datetime.isoformat)
    return _pg_rows(session, _pg_record_events(names), [*visitors, payload])


def _campaign_name(event: CaptureEvent) -> str | None:
    name = event.values.get("utm_campaign")
    return normalise_campaign_name(name) if name and name.strip() else None


@dataclass(frozen=True, slots=True)
class Seen:
    """A visitor's row id and the lead it is tied to, if any."""

    id: int
    lead_id: int | None


def match_campaigns(*, session: Session, names: Iterable[str | None]) -> dict[str, int]:
    """Campaign ids by normalised utm_campaign name (public input never creates a campaign)."""
    wanted = {normalise_campaign_name(n) for n in names if n and n.strip()}
    if not wanted:
        return {}
    rows = session.connection().execute(_SELECT_CAMPAIGNS, {"names": sorted(wanted)}).all()
    return {name: cid for cid, name in rows}


@dataclass(frozen=True, slots=True)
class Rules:
    """The channel rules in force: the policy version id and its rule list."""

    version_id: int
    rules: list[dict[str, Any]]


def rules_in_force(*, session: Session, at: datetime) -> Rules:
    """The approved channel rules in force at `at` (marketing's versioned policy)."""
    version = channels.rules_in_force(session, at=at)
    return Rules(version.id, channels.rules_of(version))


def touch_row(
    event: CaptureEvent,
    *,
    rules: list[dict[str, Any]],
    campaigns: dict[str, int],
    memo: dict[tuple, str] | None = None,
) -> dict[str, Any]:
    """The touchpoint columns of one event: channel from the rules, campaign by utm_campaign name."""
    values = {name: event.values.get(name) for name in TOUCH_FIELDS}
    referrer = event.referrer
    # A referrer on the site's own host is internal navigation, not a source.
    if referrer and event.landing_page and urlsplit(referrer).netloc == urlsplit(event.landing_page).netloc:
        referrer = None
    touch = {**values, "referrer": referrer, "landing_page": event.landing_page}
    signature = (*values.values(), referrer)
    channel = memo.get(signature) if memo is not None else None
    if channel is None:
        channel = channels.derive_channel(touch, rules)
        if memo is not None:
            memo[signature] = channel
    campaign = values.get("utm_campaign")
    return {
        **touch,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "channel": channel,
        "channel_explicit": False,
        "campaign_id": campaigns.get(normalise_campaign_name(campaign)) if campaign else None,
        "event_name": event.name,
        "properties": event.properties,
    }


def record_events(
    *, session: Session, items: Sequence[Incoming], clock: Clock = system_clock, rules: Rules | None = None
) -> list[bool]:
    """Write the events as touchpoints; True for each one inserted, False for a repeat of a known event id.

    An event id already stored for the site (or repeated earlier in `items`) is a retry: it is
    counted once. Touches of a visitor already tied to a lead go to that lead, whose first touch
    is updated if one of them is earlier. `rules` may be given by a caller that caches them.
    """
    if not items:
        return []
    now = clock()
    rules = rules or rules_in_force(session=session, at=now)
    postgres = _dialect(session) == "postgresql"
    sites = {i.event.visitor_key: i.site_id for i in items}
    # On PostgreSQL the one statement of _pg_record links visitors and campaigns itself.
    visitors = {} if postgres else ensure_visitors(session=session, keys=sites, clock=clock)
    wanted = () if postgres else (i.event.values.get("utm_campaign") for i in items)
    campaigns = match_campaigns(session=session, names=wanted)
    seen: set[tuple[int, str]] = set()
    memo: dict[tuple, str] = {}
    rows: list[dict[str, Any]] = []
    events: list[CaptureEvent] = []
    for item in items:
        key = (item.site_id, item.event.event_id)
        if key in seen:
            continue
        seen.add(key)
        row = touch_row(item.event, rules=rules.rules, campaigns=campaigns, memo=memo)
        row.update(
            site_id=item.site_id,
            event_id=item.event.event_id,
            recorded_at=now,
            channel_policy_version_id=rules.version_id,
        )
        if not postgres:
            visitor = visitors[item.event.visitor_key]
            row.update(visitor_id=visitor.id, lead_id=visitor.lead_id)
        rows.append(row)
        events.append(item.event)
    inserted = _pg_record(session, rows, events, sites, now) if postgres else _insert_touches(session, rows)
    keys = {(site_id, event_id) for site_id, event_id, _ in inserted}
    leads = {lead_id for _, _, lead_id in inserted if lead_id is not None}
    for lead_id in sorted(leads):
        lead = session.get(Lead, lead_id)
        if lead is not None:
            refresh_first_touch(session=session, lead=lead)
    result: list[bool] = []
    for item in items:
        key = (item.site_id, item.event.event_id)
        result.append(key in keys)
        keys.discard(key)  # a second copy in the same call is a repeat
    return result


# ---------------------------------------------------------------- stitching


def refresh_first_touch(*, session: Session, lead: Lead) -> bool:
    """Set the lead's first-touch columns from its earliest touch (anonymous ones included) if earlier."""
    session.flush()
    earliest = session.scalar(
        select(Touchpoint)
        .where(Touchpoint.lead_id == lead.id)
        .order_by(Touchpoint.occurred_at, Touchpoint.id)
        .limit(1)
    )
    if earliest is None:
        return False
    if lead.first_touch_at is not None and lead.first_touch_at <= earliest.occurred_at:
        return False
    lead.first_touch_at = earliest.occurred_at
    for column, source in FIRST_TOUCH_COLUMNS.items():
        setattr(lead, column, getattr(earliest, source))
    return True


def stitch_visitor(*, session: Session, visitor: Visitor, lead: Lead, clock: Clock = system_clock) -> int:
    """Tie the visitor and its anonymous touches to the lead; returns how many touches were stitched."""
    if visitor.lead_id != lead.id:
        visitor.lead_id = lead.id
        visitor.identified_at = clock()
    session.flush()
    stitched = session.execute(  # type: ignore[attr-defined]
        update(Touchpoint)
        .where(Touchpoint.visitor_id == visitor.id, Touchpoint.lead_id.is_(None))
        .values(lead_id=lead.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    refresh_first_touch(session=session, lead=lead)
    return int(stitched or 0)


def visitor_for_key(*, session: Session, key: str, site_id: int, clock: Clock = system_clock) -> Visitor:
    """The visitor row for a key, created when new."""
    ensure_visitors(session=session, keys={key: site_id}, clock=clock)
    visitor = session.scalar(
        select(Visitor).where(Visitor.visitor_key == key).execution_options(populate_existing=True)
    )
    assert visitor is not None
    return visitor


# ---------------------------------------------------------------- quarantine


def quarantine(
    *,
    session: Session,
    kind: str,
    payload: dict[str, Any],
    errors: Sequence[FieldError],
    reason: str,
    clock: Clock = system_clock,
) -> QuarantinedRecord:
    """Keep one rejected capture input with its reason, to be fixed and replayed."""
    record = QuarantinedRecord(
        source="capture",
        kind=kind,
        payload=payload,
        errors=[e.as_dict() for e in errors],
        reason=reason[:2000],
        created_at=clock(),
    )
    session.add(record)
    return record


def describe(errors: Sequence[FieldError]) -> str:
    """A one-line reason naming each event index and field."""
    parts = []
    for e in errors:
        where = f"event {e.index}: " if e.index is not None else ""
        parts.append(f"{where}{e.field}: {e.reason}")
    return "; ".join(parts)


def quarantine_rejected(
    *,
    session: Session,
    site_id: int | None,
    rejected: Sequence[tuple[int, dict[str, Any], list[FieldError]]],
    received_at: datetime,
    clock: Clock = system_clock,
) -> int:
    """Quarantine each rejected event of a batch with its field errors; returns how many."""
    for index, payload, errors in rejected:
        quarantine(
            session=session,
            kind="event",
            payload={
                "site_id": site_id,
                "index": index,
                "received_at": received_at.isoformat(),
                "event": payload,
            },
            errors=errors,
            reason=describe(errors),
            clock=clock,
        )
    return len(rejected)
