"""Closing the loop with the ad platforms: SQL, opportunity and won conversions sent back with their
click ids and values, so Google Ads and Meta optimise bids for deals, not form fills.

- Google Ads: an offline-conversion import file (the click-id template: `Google Click ID`, `GBRAID`
  and `WBRAID` columns, exactly one filled per row, the lead's latest Google click before the
  conversion; times in the workspace's reporting time zone, named once in `Parameters:TimeZone=`).
- Meta: Conversions API requests (`POST https://graph.facebook.com/<version>/<pixel>/events`) as a dry
  run: URL, headers and JSON bodies of at most 1,000 events; customer data normalised and SHA-256
  hashed as Meta's customer-information parameters ask; `fbc` built from the fbclid and its click time.
  The access token is never written: the URL carries the placeholder `<ACCESS_TOKEN>`.

One SQL statement gathers every conversion in the period with the latest click id of each kind at or
before it; Python only shapes the rows into the platform's format.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from closedloop.access import policy
from closedloop.access.scope import lead_condition
from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.deals.models import Deal
from closedloop.errors import ValidationFailed
from closedloop.i18n import translate
from closedloop.leads.models import Lead, LifecycleEvent
from closedloop.marketing.models import Touchpoint
from closedloop.users.actor import Actor
from closedloop.workspace.models import WorkspaceSettings

KINDS = ("sql", "opportunity", "won")
GOOGLE_NAMES = {
    "sql": "closedloop SQL",
    "opportunity": "closedloop opportunity",
    "won": "closedloop won deal",
}
META_EVENTS = {"sql": "QualifiedLead", "opportunity": "Opportunity", "won": "Purchase"}
GOOGLE_HEADER = (
    "Google Click ID",
    "GBRAID",  # iOS app-campaign clicks
    "WBRAID",  # iOS web clicks
    "Conversion Name",
    "Conversion Time",
    "Conversion Value",
    "Conversion Currency",
)
GOOGLE_CLICK_WINDOW = timedelta(days=90)  # Google refuses conversions more than 90 days after the click
META_MAX_AGE = timedelta(days=7)  # Meta refuses a whole request holding an event older than 7 days
META_BATCH = 1000  # events per Conversions API request
META_API = "https://graph.facebook.com/{version}/{pixel}/events?access_token=<ACCESS_TOKEN>"
META_VERSION = "v21.0"
# Click ids are URL-safe tokens; anything else is not a click id (and could be a spreadsheet formula).
CLICK_ID = re.compile(r"^[A-Za-z0-9_\-.~]{8,255}$")
PIXEL = re.compile(r"^[0-9]{5,32}$")
EXPONENTS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "BHD": 3,
    "KWD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}


@dataclass(frozen=True)
class Conversion:
    """One lead reaching SQL or opportunity, or one won deal, with what the platforms match it on."""

    kind: str
    ref_id: int  # the lead (sql, opportunity) or the deal (won)
    lead_id: int
    occurred_at: datetime
    amount_minor: int | None
    currency: str | None
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    country: str | None
    external_id: str | None
    gclid: str | None
    gclid_at: datetime | None
    fbclid: str | None
    fbclid_at: datetime | None
    gbraid: str | None = None
    gbraid_at: datetime | None = None
    wbraid: str | None = None
    wbraid_at: datetime | None = None

    def google_click(self) -> tuple[int, str, datetime | None] | None:
        """The latest valid Google click id as (column 0..2 of the file, id, click time); gclid wins ties."""
        found = [(column, value, when) for column, (value, when) in
                 enumerate(((self.gclid, self.gclid_at), (self.gbraid, self.gbraid_at), (self.wbraid, self.wbraid_at)))
                 if value and CLICK_ID.match(value)]  # fmt: skip
        if not found:
            return None
        floor = datetime.min.replace(tzinfo=self.occurred_at.tzinfo)
        return max(found, key=lambda f: (f[2] or floor, -f[0]))

    @property
    def event_id(self) -> str:
        """Stable across exports, so the platforms de-duplicate a conversion sent twice."""
        return f"closedloop-{self.kind}-{self.ref_id}"

    def value(self) -> Decimal | None:
        if self.amount_minor is None or self.currency is None:
            return None
        return Decimal(self.amount_minor).scaleb(-EXPONENTS.get(self.currency.upper(), 2))


def _time_zone(session: Session) -> str:
    return (
        session.scalar(select(WorkspaceSettings.reporting_time_zone).where(WorkspaceSettings.id == 1))
        or "Asia/Taipei"
    )


def _bounds(session: Session, date_from: date, date_to: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(_time_zone(session))
    start = datetime.combine(date_from, datetime.min.time(), zone)
    return start, datetime.combine(date_to + timedelta(days=1), datetime.min.time(), zone)


def _stage_reached(kind: str, start: datetime, end: datetime) -> Any:
    """Each lead's first (not voided) event into `kind`, when that first time falls in [start, end)."""
    voiding = aliased(LifecycleEvent)
    first = (
        select(LifecycleEvent.lead_id.label("lead_id"), func.min(LifecycleEvent.occurred_at).label("at"))
        .where(
            LifecycleEvent.to_stage == kind,
            LifecycleEvent.voids_id.is_(None),
            ~select(voiding.id).where(voiding.voids_id == LifecycleEvent.id).exists(),
        )
        .group_by(LifecycleEvent.lead_id)
        .subquery()
    )
    if kind == "opportunity":  # the value of an opportunity: its lead's first deal
        first_deal = (
            select(Deal.amount_minor)
            .where(Deal.lead_id == first.c.lead_id)
            .order_by(Deal.created_at, Deal.id)
        )
        amount: Any = first_deal.limit(1).scalar_subquery()
        currency: Any = select(Deal.currency).where(Deal.lead_id == first.c.lead_id).order_by(
            Deal.created_at, Deal.id).limit(1).scalar_subquery()  # fmt: skip
    else:
        amount, currency = literal(None), literal(None)
    return select(literal(kind).label("kind"), first.c.lead_id.label("ref_id"), first.c.lead_id.label("lead_id"),
                  first.c.at.label("occurred_at"), amount.label("amount_minor"), currency.label("currency")).where(
        first.c.at >= start, first.c.at < end)  # fmt: skip


def _won(start: datetime, end: datetime) -> Any:
    return select(literal("won").label("kind"), Deal.id.label("ref_id"), Deal.lead_id.label("lead_id"),
                  Deal.closed_at.label("occurred_at"), Deal.amount_minor.label("amount_minor"),
                  Deal.currency.label("currency")).where(
        Deal.status == "won", Deal.lead_id.is_not(None), Deal.closed_at >= start, Deal.closed_at < end)  # fmt: skip


def _latest_click(column: Any, conv: Any) -> tuple[Any, Any]:
    """The lead's latest touch carrying `column`, at or before the conversion: (click id, its time)."""

    def pick(what: Any) -> Any:
        return (select(what).where(Touchpoint.lead_id == conv.c.lead_id, column.is_not(None), column != "",
                                   Touchpoint.occurred_at <= conv.c.occurred_at)
                .order_by(Touchpoint.occurred_at.desc(), Touchpoint.id.desc()).limit(1).scalar_subquery())  # fmt: skip

    return pick(column), pick(Touchpoint.occurred_at)


def conversions(
    session: Session, *, actor: Actor, date_from: date, date_to: date, kinds: tuple[str, ...] = KINDS,
) -> list[Conversion]:  # fmt: skip
    """Every conversion of `kinds` in the period (local dates, inclusive) of leads the actor may see."""
    policy.require(actor, "conversions", "export")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValidationFailed(translate("integrations.conversions.bad_kind", kind=", ".join(unknown),
                                         kinds=", ".join(KINDS)), detail={"field": "kinds"})  # fmt: skip
    start, end = _bounds(session, date_from, date_to)
    parts = [_won(start, end) if k == "won" else _stage_reached(k, start, end) for k in kinds]
    conv = union_all(*parts).subquery("conv")
    gclid, gclid_at = _latest_click(Touchpoint.gclid, conv)
    fbclid, fbclid_at = _latest_click(Touchpoint.fbclid, conv)
    gbraid, gbraid_at = _latest_click(Touchpoint.gbraid, conv)
    wbraid, wbraid_at = _latest_click(Touchpoint.wbraid, conv)
    visible: ColumnElement[bool] = lead_condition(actor)
    rows = session.execute(
        select(conv.c.kind, conv.c.ref_id, conv.c.lead_id, conv.c.occurred_at, conv.c.amount_minor, conv.c.currency,
               Lead.email, Lead.phone, Lead.first_name, Lead.last_name, Lead.country, Lead.external_id,
               gclid, gclid_at, fbclid, fbclid_at, gbraid, gbraid_at, wbraid, wbraid_at)
        .join(Lead, and_(Lead.id == conv.c.lead_id))
        .where(visible, Lead.is_spam.is_(False))
        .order_by(conv.c.occurred_at, conv.c.kind, conv.c.ref_id)
    ).all()  # fmt: skip
    return [Conversion(*(_aware(v) for v in row)) for row in rows]


def _aware(value: Any) -> Any:
    """SQLite hands union columns back as text or naive datetimes: read them as UTC moments."""
    from datetime import UTC

    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}", value):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


def google_ads_rows(
    found: list[Conversion], *, time_zone: str, names: dict[str, str] | None = None
) -> tuple[list[list[Any]], dict[str, int]]:
    """The import file's rows (after the Parameters line and header), and how many were left out and why."""
    names = {**GOOGLE_NAMES, **(names or {})}
    zone = ZoneInfo(time_zone)
    rows: list[list[Any]] = []
    skipped = {"no_click_id": 0, "click_too_old": 0}
    for c in found:
        click = c.google_click()
        if click is None:
            skipped["no_click_id"] += 1
            continue
        column, click_id, clicked_at = click
        if clicked_at is not None and c.occurred_at - clicked_at > GOOGLE_CLICK_WINDOW:
            skipped["click_too_old"] += 1
            continue
        value = c.value()
        ids = ["", "", ""]
        ids[column] = click_id
        rows.append([*ids, names[c.kind], c.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                     "" if value is None else f"{value:f}", c.currency or ""])  # fmt: skip
    return rows, skipped


def google_ads_csv(
    found: list[Conversion], *, time_zone: str, names: dict[str, str] | None = None
) -> tuple[str, dict[str, int]]:
    """The Google Ads offline-conversion import file as text, and the rows left out.

    The click id columns are written as is (validated as URL-safe tokens above, so they can be no
    formula); the other text cells go through safe_csv. No BOM: the first line must be `Parameters:`.
    """
    import csv
    import io

    from closedloop import safe_csv

    rows, skipped = google_ads_rows(found, time_zone=time_zone, names=names)
    out = io.StringIO()
    out.write(f"Parameters:TimeZone={time_zone}\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(GOOGLE_HEADER)
    for row in rows:
        writer.writerow([*row[:3], *(safe_csv.neutralise(v) for v in row[3:])])
    return out.getvalue(), skipped


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def meta_user_data(c: Conversion) -> dict[str, Any]:
    """Customer information as Meta asks: trimmed, lower-cased (phones digits only with country code), hashed.

    `fbc` is not hashed: `fb.1.<click time in ms>.<fbclid>`.
    """
    data: dict[str, Any] = {}
    if c.email and c.email.strip():
        data["em"] = [sha256(c.email.strip().lower())]
    digits = re.sub(r"\D", "", c.phone or "")
    if digits:
        data["ph"] = [sha256(digits.lstrip("0") if not (c.phone or "").startswith("+") else digits)]
    for key, value in (("fn", c.first_name), ("ln", c.last_name)):
        if value and value.strip():
            data[key] = [sha256(value.strip().lower())]
    if c.country and c.country.strip():
        data["country"] = [sha256(c.country.strip().lower())]
    data["external_id"] = [sha256(c.external_id or f"closedloop-lead-{c.lead_id}")]
    if c.fbclid and CLICK_ID.match(c.fbclid) and c.fbclid_at is not None:
        data["fbc"] = f"fb.1.{int(c.fbclid_at.timestamp() * 1000)}.{c.fbclid}"
    return data


def meta_event(c: Conversion, *, event_names: dict[str, str] | None = None) -> dict[str, Any]:
    """One Conversions API server event for a CRM conversion (action_source `system_generated`)."""
    names = {**META_EVENTS, **(event_names or {})}
    custom: dict[str, Any] = {"event_source": "crm", "lead_event_source": "closedloop", "stage": c.kind}
    value = c.value()
    if value is not None:
        custom["value"] = float(value)
        custom["currency"] = (c.currency or "").upper()
    return {"event_name": names[c.kind], "event_time": int(c.occurred_at.timestamp()), "event_id": c.event_id,
            "action_source": "system_generated", "user_data": meta_user_data(c), "custom_data": custom}  # fmt: skip


def meta_requests(
    found: list[Conversion], *, pixel_id: str, now: datetime, version: str = META_VERSION,
    test_event_code: str | None = None, event_names: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, int]]:  # fmt: skip
    """The dry run: each request's method, URL, headers and JSON body; and the events left out and why."""
    if not PIXEL.match(pixel_id or ""):
        raise ValidationFailed(translate("integrations.conversions.bad_pixel"), detail={"field": "pixel_id"})
    skipped = {"too_old": 0, "in_future": 0}
    events = []
    for c in found:
        if now - c.occurred_at > META_MAX_AGE:
            skipped["too_old"] += 1
        elif c.occurred_at > now:
            skipped["in_future"] += 1
        else:
            events.append(meta_event(c, event_names=event_names))
    url = META_API.format(version=version, pixel=pixel_id)
    requests = []
    for start in range(0, len(events), META_BATCH):
        body: dict[str, Any] = {"data": events[start : start + META_BATCH]}
        if test_event_code:
            body["test_event_code"] = test_event_code
        requests.append({"method": "POST", "url": url,
                         "headers": {"Content-Type": "application/json"},
                         "body": body})  # fmt: skip
    return requests, skipped


def record_export(
    session: Session, *, actor: Actor, platform: str, date_from: date, date_to: date, exported: int,
    skipped: dict[str, int], clock: Clock = system_clock,
) -> None:  # fmt: skip
    """Exports of personal data (hashed or not) are audited."""
    audit_service.record(session, actor=actor, action="conversions.exported", entity_type="conversions",
                         entity_id=platform, after={"from": date_from.isoformat(), "to": date_to.isoformat(),
                                                    "exported": exported, "skipped": skipped}, clock=clock)  # fmt: skip


def time_zone(session: Session) -> str:
    """The workspace's reporting time zone (the Google file's TimeZone parameter)."""
    return _time_zone(session)


PLATFORMS = ("google_ads", "meta")


@dataclass(frozen=True)
class Export:
    """A finished export: the file's text, its media type, and what went in and what was left out."""

    platform: str
    content: str
    media_type: str
    exported: int
    skipped: dict[str, int]
    requests: list[dict[str, Any]] | None = None  # Meta's dry-run requests


def export(
    session: Session, *, actor: Actor, platform: str, date_from: date, date_to: date,
    kinds: tuple[str, ...] = KINDS, pixel_id: str | None = None, test_event_code: str | None = None,
    clock: Clock = system_clock,
) -> Export:  # fmt: skip
    """Gather the period's conversions and shape them for `platform`, audited (the CLI and the API call this)."""
    import json

    if platform not in PLATFORMS:
        raise ValidationFailed(translate("integrations.conversions.bad_kind", kind=platform, kinds=", ".join(PLATFORMS)),
                               detail={"field": "platform"})  # fmt: skip
    if platform == "meta" and not pixel_id:
        raise ValidationFailed(translate("integrations.conversions.need_pixel"), detail={"field": "pixel_id"})
    found = conversions(session, actor=actor, date_from=date_from, date_to=date_to, kinds=kinds)
    if platform == "google_ads":
        text, skipped = google_ads_csv(found, time_zone=time_zone(session))
        result = Export(
            platform, text, "text/csv; charset=utf-8", len(found) - sum(skipped.values()), skipped
        )
    else:
        requests, skipped = meta_requests(
            found, pixel_id=str(pixel_id), now=clock(), test_event_code=test_event_code
        )
        exported = sum(len(r["body"]["data"]) for r in requests)
        text = json.dumps({"requests": requests, "skipped": skipped}, ensure_ascii=False, indent=2)
        result = Export(platform, text, "application/json", exported, skipped, requests)
    record_export(session, actor=actor, platform=platform, date_from=date_from, date_to=date_to,
                  exported=result.exported, skipped=skipped, clock=clock)  # fmt: skip
    return result
