"""What an import did or would do: counts, row-level errors, unknown columns and owners, stage mapping."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from closedloop.i18n import translate

MAX_ERRORS_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class RowError:
    """One reason a row was rejected: its file row number, the column, the value and why."""

    row: int
    column: str | None
    value: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class ImportReport:
    """The outcome of one import (or dry run)."""

    kind: str
    filename: str
    sha256: str
    preset: str = "generic"
    encoding: str | None = None
    delimiter: str | None = None
    dry_run: bool = False
    skip_invalid: bool = False
    job_id: int | None = None
    status: str = "running"  # done | failed | dry_run | unchanged
    rows_total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped_total_rows: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejected_rows: set[int] = field(default_factory=set)
    column_mapping: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    duplicate_columns: dict[str, list[str]] = field(default_factory=dict)
    unknown_owners: set[str] = field(default_factory=set)
    stage_mapping: dict[str, str] = field(default_factory=dict)
    skipped_erased: int = 0
    title_lines: list[str] = field(default_factory=list)
    period: tuple[str, str] | None = None
    warnings: list[str] = field(default_factory=list)
    changed: dict[str, int] = field(default_factory=dict)

    def add_error(self, error: RowError) -> None:
        """Record a row error (the row counts once as rejected, however many errors it has)."""
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(error)
        self.rejected_rows.add(error.row)

    def count_change(self, table: str, n: int = 1) -> None:
        """Note `n` rows written to `table` (named in the job's audit entry)."""
        if n:
            self.changed[table] = self.changed.get(table, 0) + n

    @property
    def failed(self) -> bool:
        return self.error_count > 0 and not self.skip_invalid

    def first_error(self) -> RowError | None:
        return min(self.errors, key=lambda e: e.row) if self.errors else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe summary (errors included, capped)."""
        return {
            "kind": self.kind,
            "file": self.filename,
            "sha256": self.sha256,
            "preset": self.preset,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "dry_run": self.dry_run,
            "status": self.status,
            "job_id": self.job_id,
            "rows": self.rows_total,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected_rows),
            "skipped_total_rows": self.skipped_total_rows,
            "skipped_erased": self.skipped_erased,
            "column_mapping": self.column_mapping,
            "unknown_columns": self.unknown_columns,
            "duplicate_columns": self.duplicate_columns,
            "unknown_owners": sorted(self.unknown_owners),
            "stage_mapping": self.stage_mapping,
            "period": list(self.period) if self.period else None,
            "warnings": self.warnings,
            "errors": [e.as_dict() for e in sorted(self.errors, key=lambda e: (e.row, e.column or ""))],
        }


def errors_csv(errors: list[RowError]) -> str:
    """The row-level report as CSV (row, column, value, reason)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["row", "column", "value", "reason"])
    for e in sorted(errors, key=lambda e: (e.row, e.column or "")):
        writer.writerow([e.row, e.column or "", _safe(e.value or ""), e.reason])
    return out.getvalue()


def _safe(value: str) -> str:
    # A value starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def render_table(report: ImportReport, lang: str = "en") -> str:
    """A person-readable summary of the report, in `lang`."""
    t = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    lines = [
        t(
            "imports.summary",
            kind=report.kind,
            file=report.filename,
            preset=report.preset,
            status=t(f"imports.status.{report.status}"),
        ),
        t(
            "imports.counts",
            rows=report.rows_total,
            inserted=report.inserted,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=len(report.rejected_rows),
        ),
    ]
    if report.encoding:
        lines.append(t("imports.encoding", encoding=report.encoding, delimiter=repr(report.delimiter)))
    if report.skipped_total_rows:
        lines.append(t("imports.total_rows_skipped", n=report.skipped_total_rows))
    if report.duplicate_columns:
        dup = "; ".join(f"{k} -> {', '.join(v)}" for k, v in report.duplicate_columns.items())
        lines.append(t("imports.duplicate_columns", columns=dup))
    if report.unknown_columns:
        lines.append(t("imports.unknown_columns", columns=", ".join(report.unknown_columns)))
    if report.unknown_owners:
        lines.append(t("imports.unknown_owners", emails=", ".join(sorted(report.unknown_owners))))
    if report.stage_mapping:
        lines.append(t("imports.stage_mapping"))
        lines.extend(f"  {src} -> {dst}" for src, dst in sorted(report.stage_mapping.items()))
    if report.period:
        lines.append(t("imports.period", start=report.period[0], end=report.period[1]))
    if report.skipped_erased:
        lines.append(t("imports.skipped_erased", n=report.skipped_erased))
    lines.extend(report.warnings)
    if report.errors:
        from closedloop.imports.reasons import translate_reason

        lines.append(t("imports.errors_header"))
        for e in sorted(report.errors, key=lambda e: (e.row, e.column or "")):
            reason = translate_reason(e.reason, lang)
            lines.append(f"  {e.row}\t{e.column or '-'}\t{e.value if e.value is not None else ''}\t{reason}")
        if report.error_count > len(report.errors):
            lines.append(t("imports.errors_truncated", n=report.error_count - len(report.errors)))
    return "\n".join(lines)
