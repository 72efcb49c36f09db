"""The vectorised column helpers of the touchpoint import agree with one-value-at-a-time versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from closedloop.imports import columns as columns_ops
from closedloop.imports import parsing, touches
from closedloop.imports.readers import ROW_COLUMN, _drop_blank
from closedloop.imports.service import _total_rows

moments = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2090, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
    ),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=30))
def test_hex_ids_match_python_formatting(values: list[int]) -> None:
    hashes = np.array(values, dtype="uint64")
    assert columns_ops.hex_ids("import:", hashes) == [f"import:{v:016x}" for v in values]


@settings(max_examples=50, deadline=None)
@given(st.lists(moments, min_size=1, max_size=20))
def test_sqlite_stamps_match_strftime(values: list[datetime]) -> None:
    series = pd.Series(pd.to_datetime(values, utc=True))
    expected = [v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") for v in values]
    assert columns_ops.sqlite_stamps(series).tolist() == expected


def test_object_and_id_columns_give_none_for_blank() -> None:
    assert columns_ops.object_column(pd.Series(["a", "", "b"])) == ["a", None, "b"]
    assert columns_ops.id_column(pd.Series([3.0, np.nan, 12.0])) == [3, None, 12]
    # Or the blank SQLite's insert binds instead (NaN too).
    assert columns_ops.object_column(pd.Series(["a", "", None], dtype="str"), blank="") == ["a", "", ""]
    assert columns_ops.id_column(pd.Series([3.0, np.nan]), blank=0) == [3, 0]
    assert all(type(v) is int for v in columns_ops.id_column(pd.Series([3.0, np.nan]), blank=0))


blank_text = st.lists(st.sampled_from(["", "a", "0", " ", "NULL"]), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(text=blank_text, ids=st.lists(st.sampled_from([0, 1, 7]), min_size=1, max_size=8), flag=st.booleans())
def test_sqlite_slots_store_what_binding_none_would(text: list[str], ids: list[int], flag: bool) -> None:
    """Rows bound through `sqlite_slots` (blanks as "" or 0 under NULLIF, left-out columns at their
    default, a column of one int as a literal) store exactly what binding None for each blank
    stores; a flag's 0 stays 0."""
    import sqlite3

    rows = len(min(text, ids, key=len))
    columns = {"t": text[:rows], "i": ids[:rows], "flag": [int(flag)] * rows}
    slots = columns_ops.sqlite_slots(columns, {"t": "", "i": 0})
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE bound (t TEXT, i INTEGER, flag INTEGER NOT NULL)")
        db.execute("CREATE TABLE plain (t TEXT, i INTEGER, flag INTEGER NOT NULL)")
        db.executemany(
            f"INSERT INTO bound ({', '.join(slots)}) VALUES ({', '.join(slots.values())})",
            zip(*(columns[n] for n in columns_ops.bound(slots)), strict=True),
        )
        db.executemany(
            "INSERT INTO plain VALUES (?, ?, ?)",
            [(t or None, i or None, f) for t, i, f in zip(*columns.values(), strict=True)],
        )
        assert db.execute("SELECT * FROM bound").fetchall() == db.execute("SELECT * FROM plain").fetchall()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", " ", "Total", " grand total", "總計", "Subtotal:", "©2025", "Copyright x",
                             "tom", "sales", "c@x.com", "報表產生", "lead1@example.com", "Totally"]),
            st.sampled_from(["", "Total", "x", " 合計"]),
            st.sampled_from(["", "y"]),
        ),
        min_size=1,
        max_size=12,
    )
)  # fmt: skip
def test_total_rows_agree_with_the_row_rule(cells: list[tuple[str, str, str]]) -> None:
    frame = pd.DataFrame(cells, columns=["a", "b", "c"])
    found = _total_rows(frame, ["a", "b", "c"]).tolist()

    def by_hand(row: tuple[str, str, str]) -> bool:
        first = next((c for c in row if c.strip()), row[-1])
        return bool(parsing.TOTAL_RE.match(first) or parsing.FOOTER_RE.match(first))

    assert found == [by_hand(row) for row in cells]


def test_drop_blank_keeps_rows_with_any_cell() -> None:
    frame = pd.DataFrame({"a": ["", "x", " ", ""], "b": ["", "", " ", "y"], ROW_COLUMN: [2, 3, 4, 5]})
    assert _drop_blank(frame, ["a", "b"])[ROW_COLUMN].tolist() == [3, 5]


def test_sqlite_stamps_pad_years_as_sqlalchemy_stores_them() -> None:
    values = [
        datetime(212, 3, 4, 5, 6, 7, 89, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    series = pd.Series(values, dtype="datetime64[us, UTC]")
    # SQLAlchemy's SQLite DATETIME storage format: a four-digit year, six decimals.
    expected = ["0212-03-04 05:06:07.000089", "2024-02-29 23:59:59.999999"]
    assert columns_ops.sqlite_stamps(series).tolist() == expected


GROUP_VALUES = st.sampled_from(
    ["", " ", "google", "Google ", "facebook", "line", "cpc", "CPC", "email", "organic", "social", "event",
     "display", "referral", "(direct)", "Paid_Social", "newsletter", "Expo 2025", "x"]
)  # fmt: skip
GROUP_REFERRERS = st.sampled_from(
    ["", "https://www.google.com/", "https://google.com/search?q=1", "http://WWW.Google.com", "https://line.me/x",
     "https://ptt.cc/b", "ptt.cc", "https://a.b/c", " https://m.facebook.com/x ", "https://search.yahoo.co.jp/"]
)  # fmt: skip
GROUP_CLICKS = st.sampled_from(["", " ", "id1", "id2"])
CUSTOM_RULES = [
    {"channel": "Events", "when": [{"campaign_regex": "expo"}]},
    {"channel": "Paid Search", "when": [{"click_id": ["gclid"]}, {"referrer_domain_in": ["google.com"]}]},
    {"channel": "Referral", "when": [{"blank": ["source"], "referrer_present": True}]},
]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries({
            "utm_source": GROUP_VALUES, "utm_medium": GROUP_VALUES, "utm_campaign": GROUP_VALUES,
            "referrer": GROUP_REFERRERS, "gclid": GROUP_CLICKS, "fbclid": GROUP_CLICKS,
            "line_click_id": GROUP_CLICKS, "ttclid": GROUP_CLICKS,
        }),
        min_size=1,
        max_size=60,
    ),
    st.booleans(),
)  # fmt: skip
def test_grouped_channel_derivation_equals_row_by_row(touches: list[dict[str, str]], custom: bool) -> None:
    from closedloop.marketing.channels import derive_channel, derive_channels

    frame = pd.DataFrame(touches, dtype="str")
    frame.index = frame.index * 3 + 7  # a filtered chunk's index is not 0..n-1
    rules = CUSTOM_RULES if custom else None
    grouped = columns_ops.derive_channels_grouped(frame, rules)
    assert grouped.index.equals(frame.index)
    assert grouped.tolist() == derive_channels(frame, rules).tolist()
    assert grouped.tolist() == [derive_channel(t, rules) for t in touches]
    # In two chunks sharing what they learnt: the second derives only combinations the first lacked.
    known: dict = {}
    half = len(frame) // 2
    parts = [
        columns_ops.derive_channels_grouped(part, rules, known)
        for part in (frame.iloc[:half], frame.iloc[half:])
    ]
    assert pd.concat(parts).tolist() == grouped.tolist()


@given(
    st.lists(
        st.tuples(st.one_of(st.none(), st.text(max_size=5)), st.text(max_size=5), st.text(max_size=5)),
        max_size=30,
    )
)
def test_joined_is_chained_concatenation(rows: list[tuple[str | None, str, str]]) -> None:
    """One Arrow join gives what `a + "|" + b + "|" + c` gives, a missing part included."""
    a, b, c = (pd.Series([r[i] for r in rows], dtype="str") for i in range(3))
    expected = a + "|" + b + "|" + c
    got = columns_ops.joined([a, b, c], "|")
    assert str(got.dtype) == "str"
    pd.testing.assert_series_equal(got, expected)


@pytest.mark.parametrize("dtype", [object, "str"])
def test_overflowing_rows_are_those_with_a_non_blank_cell_beyond_the_header(dtype: Any) -> None:
    extras = ["__extra_0", "__extra_1"]
    frame = pd.DataFrame(
        {"name": ["a", "b", "c", "d"], "__extra_0": ["", "  ", "", "x"], "__extra_1": ["", "", " y ", ""]},
        dtype=dtype,
    )
    assert touches.overflowing(frame, extras).tolist() == [False, False, True, True]


def test_grouped_channel_derivation_derives_each_combination_once_across_chunks(monkeypatch) -> None:
    from closedloop.marketing import channels

    derived_rows: list[int] = []
    original = channels.derive_channels

    def counting(frame: pd.DataFrame, rules: Any) -> pd.Series:
        derived_rows.append(len(frame))
        return original(frame, rules)

    monkeypatch.setattr(channels, "derive_channels", counting)
    rows = [("google", "cpc", ""), ("facebook", "paid_social", ""), ("google", "cpc", "g1")]
    chunk = pd.DataFrame(rows * 3, columns=["utm_source", "utm_medium", "gclid"], dtype="str")
    known: dict = {}
    first = columns_ops.derive_channels_grouped(chunk, None, known)
    again = columns_ops.derive_channels_grouped(chunk.iloc[::-1], None, known)
    assert derived_rows == [3]  # three combinations, derived in the first chunk only
    assert again.tolist() == first.tolist()[::-1]
    newcomer = pd.DataFrame([("newsletter", "email", "")], columns=chunk.columns, dtype="str")
    assert columns_ops.derive_channels_grouped(newcomer, None, known).tolist() == ["Email"]
    assert derived_rows == [3, 1]


def test_parallel_sorts_build_the_same_index_and_put_the_settings_back() -> None:
    """200,000 keys (about 4 MB) are more than one 2 MB run: the worker thread sorts some."""
    import sqlite3

    with sqlite3.connect(":memory:") as db:
        db.execute("PRAGMA cache_size = -65536")
        db.execute("CREATE TABLE t (k TEXT)")
        db.executemany(
            "INSERT INTO t VALUES (?)", [(f"key-{(i * 7919) % 200_000:06d}",) for i in range(200_000)]
        )
        with touches.parallel_sorts(db):
            assert db.execute("PRAGMA threads").fetchone()[0] == touches.SORT_THREADS
            db.execute("CREATE UNIQUE INDEX ix_k ON t (k)")
        assert db.execute("PRAGMA cache_size").fetchone()[0] == -65536
        assert db.execute("PRAGMA threads").fetchone()[0] == 0
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        keys = [r[0] for r in db.execute("SELECT k FROM t INDEXED BY ix_k ORDER BY k")]
        assert keys == [f"key-{i:06d}" for i in range(200_000)]
        with pytest.raises(sqlite3.IntegrityError), touches.parallel_sorts(db):
            db.execute("CREATE UNIQUE INDEX ix_again ON t (substr(k, 1, 5))")  # repeated: refused
        assert db.execute("PRAGMA cache_size").fetchone()[0] == -65536
        assert db.execute("PRAGMA threads").fetchone()[0] == 0
