"""`closedloop export parquet DIR`: every table as Parquet, partitioned by month, incremental.

Append-only tables (events, touches, audit, revenue) are exported incrementally: each run
writes only the rows with an id above the last run's watermark, in new files. Tables whose rows
change (leads, deals, hand-offs...) are rewritten whole each run. The layout is
DIR/<table>/month=YYYY-MM/*.parquet, which Spark, DuckDB and pandas read as one dataset.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import closedloop.models  # noqa: F401  (every table registered: the CLI imports no models itself)
from closedloop.analytics import engine
from closedloop.db import Base

# Append-only tables and the time column that decides the partition month.
APPEND_ONLY = {
    "touchpoints": "occurred_at",
    "lifecycle_events": "occurred_at",
    "deal_stage_events": "occurred_at",
    "audit_log": "occurred_at",
    "revenue_events": "occurred_at",
    "lead_scores": "scored_at",
    "activities": "occurred_at",
}
# Mutable tables partitioned by their creation time; the rest are small and written unpartitioned.
MUTABLE_PARTITIONED = {"leads": "created_at", "deals": "created_at", "handoffs": "assigned_at"}
STATE_FILE = "_closedloop_export.json"


@dataclass(frozen=True)
class ExportedTable:
    table: str
    rows: int
    mode: str  # incremental | full


def export_parquet(url: str, directory: Path) -> list[ExportedTable]:
    """Export the store at `url` into `directory`; safe to run again (only new rows are added)."""
    directory.mkdir(parents=True, exist_ok=True)
    state_path = directory / STATE_FILE
    state: dict[str, int] = json.loads(state_path.read_text()) if state_path.exists() else {}
    con = engine.connect(url).cursor()
    reports = []
    try:
        for table in Base.metadata.sorted_tables:
            name = table.name
            target = directory / name
            if name in APPEND_ONLY:
                watermark = state.get(name, 0)
                select_sql = (
                    f"SELECT *, strftime({APPEND_ONLY[name]}, '%Y-%m') AS month "
                    f"FROM {engine.STORE}.{name} WHERE id > {int(watermark)}"
                )
                rows = con.execute(f"SELECT count(*), max(id) FROM ({select_sql})").fetchone()
                if rows[0]:
                    con.execute(
                        f"COPY ({select_sql}) TO '{_quote(target)}' (FORMAT parquet, PARTITION_BY (month), "
                        f"FILENAME_PATTERN 'part_{uuid.uuid4().hex}_{{i}}', OVERWRITE_OR_IGNORE)"
                    )
                    state[name] = int(rows[1])
                reports.append(ExportedTable(name, int(rows[0]), "incremental"))
                continue
            if target.exists():
                shutil.rmtree(target)
            count = con.execute(f"SELECT count(*) FROM {engine.STORE}.{name}").fetchone()[0]
            if name in MUTABLE_PARTITIONED:
                month = f"strftime({MUTABLE_PARTITIONED[name]}, '%Y-%m')"
                select_sql = f"SELECT *, {month} AS month FROM {engine.STORE}.{name}"
                if count:
                    con.execute(
                        f"COPY ({select_sql}) TO '{_quote(target)}' (FORMAT parquet, PARTITION_BY (month))"
                    )
            else:
                target.mkdir(parents=True)
                data = _quote(target / "data.parquet")
                con.execute(f"COPY (SELECT * FROM {engine.STORE}.{name}) TO '{data}' (FORMAT parquet)")
            reports.append(ExportedTable(name, int(count), "full"))
    finally:
        con.close()
    state_path.write_text(json.dumps(state, indent=2, sort_keys=True))
    return reports


def _quote(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")
