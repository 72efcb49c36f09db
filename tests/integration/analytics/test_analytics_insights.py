"""Cohort table, mix-versus-rate and root cause on the hand-built scenario (both stores)."""

from __future__ import annotations

import pytest

from closedloop.analytics import insights

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-06-30", "as_of": "2026-06-30"}


def test_cohort_table(store, scenario) -> None:
    result = insights.cohorts(store.url, months=6, **PERIOD)
    rows = {r["cohort"]: r for r in result["rows"]}
    assert {k: r["leads"] for k, r in rows.items()} == {
        "2026-01": 4,
        "2026-02": 1,
        "2026-03": 1,
        "2026-05": 1,
    }
    # January: A customer, B sql, D lead, F lead (its mql voided).
    assert rows["2026-01"]["now"] == {"customer": 1, "sql": 1, "lead": 2}
    # A became a customer on March 1: two months after its January creation; June is month 5.
    values = [c["value"] for c in rows["2026-01"]["conversion"]]
    assert values == [0.0, 0.0, 0.25, 0.25, 0.25, 0.25, None]
    assert [c["value"] for c in rows["2026-05"]["conversion"]][:3] == [0.0, 0.0, None]


def test_mix_versus_rate(store, scenario) -> None:
    # January mql cohort: Email 2/2; February-March: Ads 0/1 (sql 128 days later), Events 1/1.
    result = insights.mix_vs_rate(store.url, dimension="channel", before=("2026-01-01", "2026-01-31"),
                                  after=("2026-02-01", "2026-03-31"), as_of="2026-06-30")  # fmt: skip
    assert (result["rate_before"], result["rate_after"]) == (1.0, 0.5)
    assert result["mix"] == pytest.approx(-0.5) and result["rate"] == pytest.approx(0.0)
    assert result["segments"][0]["segment"] == "Email" and result["segments"][0]["mix"] == pytest.approx(-1.0)


def test_root_cause_sentences(store, scenario) -> None:
    result = insights.root_cause(store.url, from_stage="lead", to_stage="mql", dimensions=("channel",), min_n=1,
                                 alpha=1.0, **PERIOD)  # fmt: skip
    # Mature lead cohort: Email 2/3 reach mql (A, B), Ads 1/2 (C), Events 1/1 (G): 4 of 6.
    assert result["cohort"] == {"n": 6, "x": 4}
    email = next(f for f in result["findings"] if f["group"] == {"channel": "Email"})
    assert (email["n"], email["rate"], email["rest_rate"]) == (3, 2 / 3, 2 / 3)
    assert email["sentences"]["en"].startswith("Leads from channel Email converted Lead→MQL at 66.7% (n=3)")
    assert "管道 Email" in email["sentences"]["zh-TW"] and "渠道 Email" in email["sentences"]["zh-CN"]
