"""Cell parsing as real exports write it: ROC dates, 上午/下午, decimal commas, money, spreading."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from closedloop.imports import parsing
from closedloop.imports.money import period_from_titles, spread

TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("114/03/05", datetime(2025, 3, 4, 16, 0, tzinfo=UTC)),  # ROC 114 = 2025, midnight Taipei
        ("114/3/5 上午 9:05", datetime(2025, 3, 5, 1, 5, tzinfo=UTC)),
        ("114/3/5 下午 12:00", datetime(2025, 3, 5, 4, 0, tzinfo=UTC)),  # 下午 12 is noon
        ("2025/3/5 上午 12:30", datetime(2025, 3, 4, 16, 30, tzinfo=UTC)),  # 上午 12:30 is 00:30
        ("2025/3/5 下午 02:30:00", datetime(2025, 3, 5, 6, 30, tzinfo=UTC)),
        ("民國114年3月5日 下午3時20分", datetime(2025, 3, 5, 7, 20, tzinfo=UTC)),
        ("2025-03-05 10:00", datetime(2025, 3, 5, 2, 0, tzinfo=UTC)),
        ("2025-03-05T10:00:00Z", datetime(2025, 3, 5, 10, 0, tzinfo=UTC)),
        ("2025-03-05T10:00:00-05:00", datetime(2025, 3, 5, 15, 0, tzinfo=UTC)),
        ("3/5/2025 2:30 PM", datetime(2025, 3, 5, 6, 30, tzinfo=UTC)),
        ("15/3/2025", datetime(2025, 3, 14, 16, 0, tzinfo=UTC)),  # day > 12: day first
    ],
)
def test_timestamps_in_the_reporting_zone(text: str, expected: datetime) -> None:
    assert parsing.parse_datetime(text, TAIPEI) == expected


@pytest.mark.parametrize("text", ["2025-13-01", "114/02/30", "yesterday", "2025/3/5 下午 25:00"])
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(parsing.ParseError):
        parsing.parse_datetime(text, TAIPEI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.50", Decimal("1234.50")),
        ("1.234,50", Decimal("1234.50")),
        ("1 234,5", Decimal("1234.5")),
        ("12,5", Decimal("12.5")),
        ("1,234,567", Decimal("1234567")),
        ("1.234.567", Decimal("1234567")),
        ("(1,000)", Decimal("-1000")),
        ("NT$ 3,000", Decimal("3000")),
        ("-7.5", Decimal("-7.5")),
        ("", None),
        ("--", None),
    ],
)
def test_numbers_with_separators(text: str, expected: Decimal | None) -> None:
    assert parsing.parse_decimal(text) == expected


def test_money_minor_units_and_tax_removal() -> None:
    assert parsing.to_minor(Decimal("1050"), "TWD") == 105000
    assert parsing.to_minor(Decimal("1050"), "JPY") == 1050
    assert parsing.to_minor(Decimal("0.005"), "USD") == 1  # half up
    # 105,000 minor units including 5% tax: net 100,000, tax 5,000.
    assert parsing.remove_tax(105000, Decimal("0.05")) == (100000, 5000)
    # 1,000 including 5%: 952.38 -> 95238 net, 4762 tax; they add back to the gross.
    assert parsing.remove_tax(100000, Decimal("0.05")) == (95238, 4762)
    assert parsing.parse_rate("5%") == Decimal("0.05")
    assert parsing.parse_rate("0.06") == Decimal("0.06")


def test_tags_company_size_and_totals() -> None:
    assert parsing.parse_tags("vip; 台北 ；vip;;b2b") == ["vip", "台北", "b2b"]
    assert parsing.parse_company_size("51-200") == ("51-200", None)
    assert parsing.parse_company_size("1,200") == ("1200", 1200)
    assert parsing.parse_company_size("200人") == ("200", 200)
    with pytest.raises(parsing.ParseError):
        parsing.parse_company_size("200-51")
    assert parsing.is_total_row(["Total: Account", "", "1,000"])
    assert parsing.is_total_row(["", "總計", "1,000"])
    assert not parsing.is_total_row(["Brand campaign", "1,000"])


def test_spread_worked_example() -> None:
    # NT$100.00 over 3 days: 3333, 3333, 3334 would be a rounding guess; largest remainder gives
    # every day 3333 and the one leftover unit to the first day.
    assert spread(10000, 3) == [3334, 3333, 3333]
    assert spread(-10, 4) == [-2, -2, -3, -3]  # floor -3 each, the 2 leftover units to the first days


@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(min_value=1, max_value=400))
def test_spread_adds_up_exactly(total: int, days: int) -> None:
    parts = spread(total, days)
    assert sum(parts) == total
    assert max(parts) - min(parts) <= 1


def test_period_from_title_lines() -> None:
    assert period_from_titles(["Campaign report", "March 1, 2025 - March 31, 2025"]) == (
        date(2025, 3, 1),
        date(2025, 3, 31),
    )
    assert period_from_titles(["廣告活動報表", "2025年3月1日 - 2025年3月31日"]) == (
        date(2025, 3, 1),
        date(2025, 3, 31),
    )
    assert period_from_titles(["Campaign report", "All time"]) == "all_time"
    assert period_from_titles(["Campaign report"]) is None
