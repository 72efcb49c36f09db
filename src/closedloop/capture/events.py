"""Parsing public capture batches: every event checked field by field, errors naming index and field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from closedloop.marketing.models import CLICK_ID_FIELDS

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
# Touch types a browser may report; form_submit comes only through /t/form, email_* from email tools.
PUBLIC_TYPES = ("page_view", "ad_click", "event", "content_download", "chat", "webinar", "other")
VISITOR_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
EVENT_ID = re.compile(r"^[\x21-\x7e]{1,64}$")
TOUCH_KEYS = frozenset((*UTM_FIELDS, *CLICK_ID_FIELDS))
MAX_SHORT = 255
MAX_URL = 2000
# A custom event: a name (`closedloop.track(name, props)`) and a small flat object of properties.
MAX_EVENT_NAME = 100
MAX_PROPERTIES = 25
MAX_PROPERTY_VALUE = 500
PROPERTY_KEY = re.compile(r"^[A-Za-z0-9_.:$-]{1,64}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Clock skew we forgive (a client a little ahead), and the oldest queued event we accept.
FUTURE_TOLERANCE = timedelta(minutes=10)
MAX_AGE = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of one event (index None: the batch itself)."""

    index: int | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


@dataclass(slots=True)
class CaptureEvent:
    """One valid event, normalised, ready to become a touchpoint."""

    index: int
    event_id: str
    visitor_key: str
    type: str
    occurred_at: datetime
    landing_page: str | None = None
    referrer: str | None = None
    values: dict[str, str | None] = field(default_factory=dict)  # utm_* and click ids
    name: str | None = None  # a custom event's name
    properties: dict[str, Any] | None = None  # a custom event's properties


@dataclass(slots=True)
class ParsedBatch:
    """The valid events of a batch and, for each rejected one, its raw payload and errors."""

    events: list[CaptureEvent]
    rejected: list[tuple[int, dict[str, Any], list[FieldError]]]


class BatchError(ValueError):
    """The batch as a whole is unusable (not an object, no events list, too many events)."""

    def __init__(self, error: FieldError) -> None:
        super().__init__(f"{error.field}: {error.reason}")
        self.error = error


def clean_url(value: str) -> str:
    """An http(s) URL without its query string and fragment (landing pages group by path)."""
    return _clean(urlsplit(value))


def _clean(parts: SplitResult) -> str:
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", "", ""))


def url_params(value: str | None) -> dict[str, str]:
    """The UTM and click-id parameters found in a URL's query string (first occurrence wins)."""
    if not value:
        return {}
    return _params(urlsplit(value).query)


def _params(query: str) -> dict[str, str]:
    found: dict[str, str] = {}
    if not query:
        return found
    for key, val in parse_qsl(query, keep_blank_values=False):
        name = key.strip().lower()
        if name in TOUCH_KEYS:
            found.setdefault(name, val.strip()[:MAX_SHORT])
    return found


def parse_timestamp(value: Any, *, now: datetime) -> datetime:
    """A client timestamp (ISO 8601 with zone, or epoch milliseconds) as aware UTC; ValueError if bad."""
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, int | float):
        if not 0 < value < 1e14:
            raise ValueError("epoch milliseconds out of range")
        moment = datetime.fromtimestamp(value / 1000, UTC)
    elif isinstance(value, str) and 10 <= len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError as exc:
            raise ValueError("not an ISO 8601 timestamp") from exc
        if moment.tzinfo is None:
            raise ValueError("timestamp without a time zone")
        moment = moment.astimezone(UTC)
    else:
        raise ValueError("not an ISO 8601 timestamp or epoch milliseconds")
    if moment < now - MAX_AGE:
        raise ValueError("older than 365 days")
    # A client clock running ahead: the server's receive time is the better guess.
    return now if moment > now + FUTURE_TOLERANCE else moment


def _text(raw: dict[str, Any], name: str, limit: int, errors: list[FieldError], index: int) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(FieldError(index, name, "must be a string"))
        return None
    value = value.strip()
    if len(value) > limit:
        errors.append(FieldError(index, name, f"longer than {limit} characters"))
        return None
    return value or None


def _url(
    raw: dict[str, Any], names: tuple[str, str], errors: list[FieldError], index: int
) -> SplitResult | None:
    name = names[0] if raw.get(names[0]) is not None else names[1]
    value = _text(raw, name, MAX_URL, errors, index)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https", "android-app") or not parts.netloc:
        errors.append(FieldError(index, name, "must be an absolute http(s) URL"))
        return None
    return parts


def _event_name(raw: dict[str, Any], errors: list[FieldError], index: int) -> str | None:
    field_name = "name" if "name" in raw else "event_name"
    value = _text(raw, field_name, MAX_EVENT_NAME, errors, index)
    if value is not None and CONTROL.search(value):
        errors.append(FieldError(index, field_name, "must not hold control characters"))
        return None
    return value


def parse_properties(value: Any) -> dict[str, Any] | str | None:
    """A custom event's properties: the checked flat object, None when absent, else the reason."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return "must be a JSON object"
    if len(value) > MAX_PROPERTIES:
        return f"at most {MAX_PROPERTIES} properties"
    checked: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not PROPERTY_KEY.match(key):
            return f"property names are 1-64 characters of A-Z a-z 0-9 _ . : $ - ({str(key)[:40]!r})"
        if isinstance(item, str):
            if len(item) > MAX_PROPERTY_VALUE:
                return f"{key}: longer than {MAX_PROPERTY_VALUE} characters"
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                return f"{key}: not a finite number"
        elif item is not None and not isinstance(item, bool | int):
            return f"{key}: must be a string, number, true/false or null"
        checked[key] = item
    return checked or None


def parse_event(
    raw: Any, *, index: int, visitor_key: str | None, now: datetime
) -> CaptureEvent | list[FieldError]:
    """One event of a batch: a CaptureEvent, or the list of its field errors."""
    if not isinstance(raw, dict):
        return [FieldError(index, "(event)", "must be a JSON object")]
    errors: list[FieldError] = []
    event_id = raw.get("id", raw.get("event_id"))
    if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
        errors.append(FieldError(index, "id", "required: 1-64 printable characters without spaces"))
    vid = raw.get("vid", raw.get("visitor_id", visitor_key))
    if not isinstance(vid, str) or not VISITOR_ID.match(vid):
        errors.append(FieldError(index, "vid", "required: 8-64 characters of A-Z a-z 0-9 _ . : -"))
    kind = raw.get("type", "page_view")
    if kind not in PUBLIC_TYPES:
        errors.append(FieldError(index, "type", f"must be one of {', '.join(PUBLIC_TYPES)}"))
    occurred_at = now
    stamp = raw.get("ts", raw.get("occurred_at"))
    if stamp is not None:
        try:
            occurred_at = parse_timestamp(stamp, now=now)
        except ValueError as exc:
            errors.append(FieldError(index, "ts", str(exc)))
    page = _url(raw, ("url", "landing_page"), errors, index)
    referrer = _url(raw, ("ref", "referrer"), errors, index)
    values: dict[str, str | None] = dict(_params(page.query)) if page is not None else {}
    for name in TOUCH_KEYS.intersection(raw):
        explicit = _text(raw, name, MAX_SHORT, errors, index)
        if explicit is not None:
            values[name] = explicit
    event_name = _event_name(raw, errors, index)
    props_field = "props" if "props" in raw else "properties"
    properties = parse_properties(raw.get(props_field))
    if isinstance(properties, str):
        errors.append(FieldError(index, props_field, properties))
        properties = None
    if errors:
        return errors
    return CaptureEvent(
        index=index,
        event_id=str(event_id),
        visitor_key=str(vid),
        type=str(kind),
        occurred_at=occurred_at,
        landing_page=_clean(page) if page is not None else None,
        referrer=_clean(referrer) if referrer is not None else None,
        values=values,
        name=event_name,
        properties=properties,
    )


def parse_batch(body: Any, *, now: datetime, max_events: int) -> ParsedBatch:
    """A batch `{"vid": ..., "events": [...]}`; BatchError if the batch as a whole is unusable."""
    if not isinstance(body, dict):
        raise BatchError(FieldError(None, "(body)", "must be a JSON object"))
    raw_events = body.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        raise BatchError(FieldError(None, "events", "required: a non-empty list"))
    if len(raw_events) > max_events:
        raise BatchError(FieldError(None, "events", f"at most {max_events} events per batch"))
    batch_vid = body.get("vid") if isinstance(body.get("vid"), str) else None
    parsed = ParsedBatch(events=[], rejected=[])
    for index, raw in enumerate(raw_events):
        result = parse_event(raw, index=index, visitor_key=batch_vid, now=now)
        if isinstance(result, CaptureEvent):
            parsed.events.append(result)
        else:
            payload = raw if isinstance(raw, dict) else {"value": raw}
            if batch_vid and isinstance(raw, dict) and "vid" not in raw:
                payload = {**raw, "vid": batch_vid}
            parsed.rejected.append((index, payload, result))
    return parsed
