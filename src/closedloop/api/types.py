"""Input types shared by every API shape: bounded ids, safe text, money, paging."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from closedloop.errors import ValidationFailed

# Ids fit every store's integer column (INTEGER on PostgreSQL for small tables).
MAX_ID = 2_147_483_647
MAX_MINOR = 2_147_483_647


def _clean_text(value: str) -> str:
    """Refuse what no store can keep: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text is not valid Unicode") from exc
    return value


def Text(max_length: int, min_length: int = 0) -> Any:
    """A string type bounded to its column's length, free of NUL and lone surrogates."""
    return Annotated[
        str, StringConstraints(max_length=max_length, min_length=min_length), AfterValidator(_clean_text)
    ]


def _bounded_moment(value: datetime) -> datetime:
    """An aware moment between 1900 and 2200 (naive input is read as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not 1900 <= value.year <= 2200 or not 1900 <= value.astimezone(UTC).year <= 2200:
        raise ValueError("time out of range (1900-2200)")
    return value


def _bounded_day(value: date) -> date:
    if not 1900 <= value.year <= 2200:
        raise ValueError("date out of range (1900-2200)")
    return value


Moment = Annotated[datetime, AfterValidator(_bounded_moment)]
Day = Annotated[date, AfterValidator(_bounded_day)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[Decimal, Field(ge=Decimal("-21474836.47"), le=Decimal("21474836.47"), decimal_places=2)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]

# Minor-unit digits of ISO 4217 currencies that differ from the usual 2.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "PYG"})


def to_minor(amount: Decimal, currency: str) -> int:
    """Major units to integer minor units, refusing fractions the currency cannot hold."""
    digits = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    scaled = amount * (10**digits)
    if scaled != scaled.to_integral_value():
        raise ValidationFailed(f"{currency} amounts have {digits} decimal places")
    return int(scaled)


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Integer minor units to a decimal in major units."""
    digits = 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
    return Decimal(amount_minor).scaleb(-digits)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: its items and the total the caller may see."""

    items: list[T]
    total: int
    limit: int
    offset: int


class Out(BaseModel):
    """Base of response shapes read from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    """Base of request shapes: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# Bounded text types, named by their column length.
Str32 = Text(32)
Str64 = Text(64)
Str100 = Text(100)
Str200 = Text(200)
Str255 = Text(255)
Str300 = Text(300)
Str2000 = Text(2000)
LongText = Text(20_000)
Name200 = Text(200, 1)
Name300 = Text(300, 1)
Email = Text(320, 3)
Password = Text(200, 10)
