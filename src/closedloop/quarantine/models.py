"""Rejected input kept for fixing and replay, and the import jobs that produced it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from closedloop.db import Base, BigId, JsonDoc, UTCDateTime, utcnow


class ImportJob(Base):
    """One import of one file: all rows or none (or the valid rows with --skip-invalid)."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(1000))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    preset: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_inserted: Mapped[int] = mapped_column(default=0)
    rows_updated: Mapped[int] = mapped_column(default=0)
    rows_unchanged: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class QuarantinedRecord(Base):
    """A rejected row or event with its reason, to be fixed and replayed."""

    __tablename__ = "quarantined_records"
    __table_args__ = (Index("ix_quarantined_records_status", "status", "source"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # import | capture | webhook
    kind: Mapped[str] = mapped_column(String(32))
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id"))
    row_number: Mapped[int | None]
    payload: Mapped[dict[str, object]] = mapped_column(JsonDoc, default=dict)
    errors: Mapped[list[dict[str, object]]] = mapped_column(JsonDoc, default=list)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | replayed | discarded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
