"""DuckDB SQL to Spark SQL (no Spark needed): what must never reach Spark, and the CLI's refusals."""

from __future__ import annotations

from datetime import date, datetime

from closedloop.analytics.spark import to_spark_sql
from closedloop.cli.main import main


def test_parameters_store_tables_and_duckdb_only_syntax_are_rewritten() -> None:
    sql = (
        "WITH raw AS MATERIALIZED (SELECT * FROM store.deals d WHERE d.created_at <= $asof AND d.stage IN ($w1)),"
        " fx AS (SELECT currency, rate_date, rate FROM store.exchange_rates)"
        " SELECT r.id, fx.rate, x / 86400.0 AS days, to_days(CAST($win AS INTEGER)) AS span"
        " FROM raw r ASOF LEFT JOIN fx ON r.currency = fx.currency AND r.day >= fx.rate_date"
    )
    out = to_spark_sql(sql, {"asof": datetime(2026, 6, 30, 12), "w1": "won", "win": 90})
    assert "$" not in out and "ASOF LEFT" not in out.upper() and "MATERIALIZED" not in out.upper()
    assert "store__deals AS d" in out and "store__exchange_rates AS exchange_rates" in out
    assert "CAST('2026-06-30 12:00:00' AS TIMESTAMP" in out and "'won'" in out
    assert "LEAD(rate_date) OVER (PARTITION BY currency ORDER BY rate_date" in out.replace("`", "")
    assert "r.day >= fx.rate_date AND (fx.__asof_next IS NULL OR r.day < fx.__asof_next)" in out
    assert "CAST(86400.0 AS DOUBLE)" in out and "MAKE_DT_INTERVAL(" in out.upper()


def test_positional_parameters_and_dates() -> None:
    out = to_spark_sql(
        "SELECT * FROM store.spend s WHERE s.day BETWEEN ? AND ?", [date(2026, 1, 1), date(2026, 1, 31)]
    )
    assert "BETWEEN CAST('2026-01-01' AS DATE) AND CAST('2026-01-31' AS DATE)" in out


def test_cli_refuses_source_without_spark_and_spark_without_source(capsys) -> None:
    for args in (["funnel", "--source", "/tmp/x"], ["metrics", "win_rate", "--engine", "spark"]):
        try:
            main(args)
        except SystemExit as exc:
            assert exc.code == 1
        err = capsys.readouterr().err
        assert "--engine spark" in err or "--source" in err
