"""Workspace-wide settings, exchange rates, products, regions and business calendars."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, BigId, JsonDoc, UTCDateTime, utcnow


class WorkspaceSettings(Base):
    """The one installation's settings (SPEC section 1): a single row with id 1."""

    __tablename__ = "workspace_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="closedloop")
    reporting_time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Taipei")
    reporting_currency: Mapped[str] = mapped_column(String(3), default="TWD")
    fiscal_year_start_month: Mapped[int] = mapped_column(default=1)
    default_tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), default=Decimal("0.05"))
    default_margin_pct: Mapped[Decimal] = mapped_column(Numeric(6, 4), default=Decimal("1.0"))
    default_language: Mapped[str] = mapped_column(String(8), default="zh-TW")
    conversion_window_days: Mapped[int] = mapped_column(default=90)
    stale_deal_days: Mapped[int] = mapped_column(default=30)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExchangeRate(Base):
    """One dated rate: 1 unit of `currency` = `rate_to_reporting` units of the reporting currency."""

    __tablename__ = "exchange_rates"
    __table_args__ = (UniqueConstraint("currency", "rate_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    rate_date: Mapped[date] = mapped_column(Date)
    rate_to_reporting: Mapped[Decimal] = mapped_column(Numeric(20, 10))


class Product(Base):
    """Something the company sells; its margin turns revenue into gross margin."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    margin_pct: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))
    list_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))


class Region(Base):
    """The workspace's own sales territories (a managed list: 北區, 華東, APAC...)."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)


class BusinessCalendar(Base):
    """Working hours and time zone of a team; SLA hours are counted in this calendar."""

    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Taipei")
    # {"0": [["09:00", "12:00"], ["13:00", "18:00"]], ...}: ISO weekday - 1 -> working intervals.
    working_hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JsonDoc, default=dict)


class CalendarDay(Base):
    """An exception to the weekly pattern: a holiday, or a make-up working day (補班 / 调休)."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # holiday | workday
    name: Mapped[str | None] = mapped_column(String(200))
