"""Why the metrics are written as DuckDB SQL (ported by sqlglot) rather than as Ibis expressions.

Run after upgrading Ibis: `.venv/bin/python scripts/ibis_limits.py`. It builds, with the pinned
Ibis, the two constructs every metric of SPEC section 5 depends on and prints what Ibis makes of
them on DuckDB and on PySpark. While either prints a refusal or loses the zone, Ibis expressions
cannot carry the metrics (docs/ARCHITECTURE.md, "The analytics engine and Ibis").

1. Periods in the reporting time zone: a naive UTC event time read as local time in the
   workspace's zone, then bucketed (month, ISO week, hour of day).
2. The policy version in force at each event: an ASOF join of events on version start times.
"""

from __future__ import annotations

import warnings
from datetime import datetime

import ibis
import ibis.expr.datatypes as dt


def _attempt(label: str, build) -> None:
    try:
        print(f"{label}:\n    {' '.join(build().split())}")
    except Exception as exc:  # the refusal is the finding
        print(f"{label}: refused: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")


def main() -> None:
    warnings.simplefilter("ignore")
    print(f"ibis {ibis.__version__}\n")
    events = ibis.table({"lead_id": "int64", "at": "timestamp"}, name="events")
    versions = ibis.table({"effective_from": "timestamp", "version": "int64"}, name="policy_versions")
    local = events.at.cast(dt.Timestamp(timezone="UTC")).cast(dt.Timestamp(timezone="Asia/Taipei"))
    bucketed = events.select(month=local.truncate("M"), hour=local.hour())
    in_force = events.asof_join(versions, on=events.at >= versions.effective_from)
    # 2024-01-31 17:00 UTC is 2024-02-01 01:00 in Taipei: February, hour 1.
    moment = ibis.memtable({"at": [datetime(2024, 1, 31, 17)]})
    there = moment.at.cast(dt.Timestamp(timezone="UTC")).cast(dt.Timestamp(timezone="Asia/Taipei"))
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    _attempt(
        "[duckdb, run] month in Taipei (want 2024-02)",
        lambda: str(con.execute(moment.select(m=there.truncate("M"))).m[0]),
    )
    _attempt(
        "[duckdb, run] hour in Taipei (want 1)", lambda: str(con.execute(moment.select(h=there.hour())).h[0])
    )
    for dialect in ("duckdb", "pyspark"):
        _attempt(
            f"[{dialect}] UTC -> Asia/Taipei, month and hour",
            lambda d=dialect: ibis.to_sql(bucketed, dialect=d),
        )
        _attempt(
            f"[{dialect}] policy version in force (ASOF)", lambda d=dialect: ibis.to_sql(in_force, dialect=d)
        )
    print(
        "\nWhat the engine writes instead (analytics/relations.py, ported to Spark by analytics/spark.py):\n"
        "    timezone('Asia/Taipei', CAST(at AS TIMESTAMPTZ))  ->  Spark: from_utc_timestamp(at, 'Asia/Taipei')\n"
        "    ASOF LEFT JOIN ... ON at >= effective_from        ->  Spark: a range join on the next start"
    )


if __name__ == "__main__":
    main()
