"""What every kind's processor shares during one import: the session, settings, caches and the report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from closedloop.clock import Clock
from closedloop.imports import parsing
from closedloop.imports.presets import ColumnMapping
from closedloop.imports.readers import ROW_COLUMN
from closedloop.imports.report import ImportReport, RowError
from closedloop.leads.identity import IdentityError
from closedloop.quarantine.models import ImportJob, QuarantinedRecord
from closedloop.users.actor import Actor
from closedloop.users.models import User

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")


@dataclass
class ImportContext:
    """Shared state of one import job."""

    session: Session
    actor: Actor
    clock: Clock
    now: datetime
    tz: ZoneInfo
    currency: str
    tax_rate: Decimal
    report: ImportReport
    mapping: ColumnMapping
    job: ImportJob | None = None
    period: tuple[date, date] | None = None
    on_error: Callable[[RowError], None] | None = None
    _users: dict[str, int | None] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)

    def user_id(self, email: str | None) -> int | None:
        """The user with this email; an unknown one leaves the record unowned and is listed."""
        key = (email or "").strip().lower()
        if not key:
            return None
        if key not in self._users:
            self._users[key] = self.session.scalar(select(User.id).where(User.email == key))
            if self._users[key] is None:
                self.report.unknown_owners.add(key)
        return self._users[key]

    def reject(self, row: int, errors: list[RowError], raw: dict[str, str]) -> None:
        """Record a rejected row: in the report, the errors sink, and (with --skip-invalid) quarantine."""
        for error in errors:
            self.report.add_error(error)
            if self.on_error is not None:
                self.on_error(error)
        if self.report.skip_invalid and self.job is not None:
            self.session.add(
                QuarantinedRecord(
                    source="import",
                    kind=self.report.kind,
                    import_job_id=self.job.id,
                    row_number=row,
                    payload=self.payload(raw),
                    errors=[e.as_dict() for e in errors],
                    reason="; ".join(f"{e.column}: {e.reason}" if e.column else e.reason for e in errors),
                    created_at=self.now,
                )
            )

    def payload(self, raw: dict[str, str]) -> dict[str, Any]:
        """What replaying a row needs: its cells as in the file, the preset and the report period."""
        return {
            "values": raw,
            "preset": self.mapping.preset,
            **({"columns": dict(self.mapping.overrides)} if self.mapping.overrides else {}),
            "period": [d.isoformat() for d in self.period] if self.period else None,
        }


class RowInvalid(Exception):
    """A row failed validation; `errors` names each column at fault."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.reason for e in errors))
        self.errors = errors


class Row:
    """One mapped row: typed field access that collects every error before failing."""

    __slots__ = ("custom", "errors", "number", "raw", "reverse", "values")

    def __init__(
        self, number: int, values: dict[str, str], raw: dict[str, str], reverse: dict[str, str]
    ) -> None:
        self.number = number
        self.values = values
        self.raw = raw
        self.reverse = reverse  # generic column -> file column, to name the column the user sees
        self.errors: list[RowError] = []
        self.custom: dict[str, str] = {}

    def text(self, name: str) -> str | None:
        value = (self.values.get(name) or "").strip()
        return value or None

    def error(self, name: str | None, reason: str, value: str | None = None) -> None:
        column = self.reverse.get(name, name) if name else None
        shown = value if value is not None else (self.values.get(name) if name else None)
        self.errors.append(RowError(self.number, column, shown, reason))

    def parse(self, name: str, fn: Callable[[str | None], T]) -> T | None:
        """fn(cell), or None with an error recorded when the cell cannot be read."""
        try:
            return fn(self.text(name))
        except (parsing.ParseError, IdentityError, ValueError) as exc:
            self.error(name, str(exc))
            return None

    def required(self, name: str, value: T | None) -> T | None:
        if value is None and not any(e.column == self.reverse.get(name, name) for e in self.errors):
            self.error(name, "required", "")
        return value

    def check(self) -> None:
        if self.errors:
            raise RowInvalid(self.errors)


def iter_rows(frame: pd.DataFrame, mapping: ColumnMapping) -> Iterator[Row]:
    """The rows of a chunk as `Row`s: generic names, custom fields, the raw cells for quarantine."""
    columns = [c for c in frame.columns if c != ROW_COLUMN]
    extras = [c for c in columns if c.startswith("__extra_")]
    file_columns = [c for c in columns if not c.startswith("__extra_")]
    reverse = {generic: column for column, generic in mapping.mapped.items()}
    records = frame.to_dict("records")
    for record in records:
        number = int(record[ROW_COLUMN])
        raw = {c: record[c] for c in file_columns}
        values = {generic: record.get(column, "") for column, generic in mapping.mapped.items()}
        for key, constant in mapping.constants.items():
            values.setdefault(key, constant)
            if not values.get(key):
                values[key] = constant
        row = Row(number, values, raw, reverse)
        row.custom = {c: record[c] for c in mapping.custom if record.get(c, "").strip()}
        overflow = [record[c] for c in extras if str(record.get(c, "")).strip()]
        if overflow:
            row.error(None, f"row has {len(overflow)} more field(s) than the header", ",".join(overflow))
        yield row


class RowProcessor:
    """A processor that handles rows one at a time (kinds with few rows and many lookups)."""

    def prepare(self, ctx: ImportContext, table: Any) -> None:
        """File-level checks before the first row (none by default)."""

    def process(self, ctx: ImportContext, frame: pd.DataFrame) -> None:
        """Validate and write each row; rejected rows go to the report (and quarantine)."""
        for row in iter_rows(frame, ctx.mapping):
            try:
                row.check()
                outcome = self.handle(ctx, row)
            except RowInvalid as exc:
                ctx.reject(row.number, exc.errors, row.raw)
                continue
            if outcome == "inserted":
                ctx.report.inserted += 1
            elif outcome == "updated":
                ctx.report.updated += 1
            elif outcome == "unchanged":
                ctx.report.unchanged += 1

    def handle(self, ctx: ImportContext, row: Row) -> str:
        """Validate and write one row: inserted, updated, unchanged or skipped; RowInvalid if bad."""
        raise NotImplementedError

    def finish(self, ctx: ImportContext) -> None:
        """Work after the last chunk (none by default)."""


def apply_changes(ctx: ImportContext, obj: Any, values: dict[str, Any], entity_type: str) -> bool:
    """Set the fields that differ; audit the record's before/after. True when anything changed."""
    from closedloop.audit import service as audit_service

    diff = {k: v for k, v in values.items() if v is not None and getattr(obj, k) != v}
    if not diff:
        return False
    before = {k: getattr(obj, k) for k in diff}
    for key, value in diff.items():
        setattr(obj, key, value)
    ctx.session.flush()
    audit_service.record(
        ctx.session,
        actor=ctx.actor,
        action=f"{entity_type}.updated",
        entity_type=entity_type,
        entity_id=obj.id,
        before=before,
        after=diff,
        clock=ctx.clock,
    )
    return True


def account_for(
    ctx: ImportContext,
    *,
    name: str | None,
    tax_id: str | None = None,
    domain: str | None = None,
    **extra: Any,
) -> int | None:
    """The matching account's id (created when new), cached per company reference for the job."""
    from closedloop.accounts import service as account_service

    cache: dict[tuple[Any, ...], int | None] = ctx.cache.setdefault("accounts", {})
    key = (name, tax_id, domain)
    if key not in cache:
        account, created = account_service.match_or_create_account(
            session=ctx.session, name=name, tax_id=tax_id, domain=domain, **extra
        )
        if created:
            ctx.report.count_change("accounts")
        cache[key] = account.id if account else None
    return cache[key]
