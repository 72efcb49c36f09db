"""Replaying a quarantined import row through its kind's processor, exactly as the import would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from closedloop.clock import Clock
from closedloop.imports.context import ImportContext
from closedloop.imports.presets import map_columns, override_columns
from closedloop.imports.readers import ROW_COLUMN
from closedloop.imports.report import ImportReport, RowError
from closedloop.quarantine.models import QuarantinedRecord
from closedloop.users.actor import Actor
from closedloop.workspace.models import WorkspaceSettings


@dataclass
class _Layout:
    columns: list[str]
    title_lines: list[str] = field(default_factory=list)


def replay_import_row(
    *, session: Session, record: QuarantinedRecord, actor: Actor, clock: Clock
) -> tuple[str, list[RowError]]:
    """(outcome, errors): write the row if it now validates; nothing is written when it does not."""
    import pandas as pd

    from closedloop.imports.service import processor_for

    payload: dict[str, Any] = record.payload or {}
    values = {str(k): "" if v is None else str(v) for k, v in dict(payload.get("values") or {}).items()}
    columns = list(values)
    mapping = map_columns(record.kind, str(payload.get("preset") or "generic"), columns)
    chosen = payload.get("columns")
    if isinstance(chosen, dict) and chosen:  # read by hand in the import wizard
        mapping = override_columns(
            record.kind, mapping, {str(k): str(v) for k, v in chosen.items() if k in values}
        )
    frame = pd.DataFrame([values], columns=columns, dtype=str)
    frame[ROW_COLUMN] = [record.row_number or 0]
    period = payload.get("period")
    settings = session.get(WorkspaceSettings, 1)
    report = ImportReport(record.kind, f"quarantine:{record.id}", "")
    ctx = ImportContext(
        session=session,
        actor=actor,
        clock=clock,
        now=clock(),
        tz=ZoneInfo(settings.reporting_time_zone if settings else "Asia/Taipei"),
        currency=settings.reporting_currency if settings else "TWD",
        tax_rate=Decimal(settings.default_tax_rate) if settings else Decimal("0.05"),
        report=report,
        mapping=mapping,
        period=(date.fromisoformat(period[0]), date.fromisoformat(period[1])) if period else None,
    )
    processor = processor_for(record.kind)
    savepoint = session.begin_nested()
    try:
        processor.prepare(ctx, _Layout(columns))
        processor.process(ctx, frame)
        processor.finish(ctx)
        session.flush()
    except BaseException:
        savepoint.rollback()
        raise
    if report.errors:
        savepoint.rollback()
        return "invalid", report.errors
    savepoint.commit()
    outcome = "inserted" if report.inserted else "updated" if report.updated else "unchanged"
    return outcome, []
