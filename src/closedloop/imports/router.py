"""`POST /api/v1/imports`: the file import of `closedloop import KIND FILE`, through an upload.

The upload is streamed to a temporary file (never held whole in memory), then run by the same
`import_file` as the command line, so the answer is the CLI's report (`--format json`): all rows
or none, or with `skip_invalid` the valid rows plus every rejected one in quarantine; a re-upload
of the same file changes nothing. Who may import a kind follows the permission of its records.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.datastructures import UploadFile

from closedloop.access import policy
from closedloop.api.deps import CurrentActor, SessionDep
from closedloop.api.types import IdPath, Limit, Offset
from closedloop.errors import NotFound, ValidationFailed
from closedloop.i18n import normalise_language, translate
from closedloop.imports.presets import KINDS, PRESET_NAMES
from closedloop.imports.reasons import translate_reason
from closedloop.imports.report import ImportReport, render_table
from closedloop.quarantine.models import ImportJob
from closedloop.users.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["imports"])
# The permission each kind's records need (SPEC section 7 kinds onto the role table of issue 3).
KIND_PERMISSION: dict[str, tuple[str, str]] = {
    "leads": ("leads", "create"),
    "touchpoints": ("touchpoints", "create"),
    "deals": ("deals", "write"),
    "deal_stages": ("deals", "write"),
    "revenue": ("deals", "write"),
    "spend": ("spend", "write"),
    "costs": ("spend", "write"),
    "rates": ("spend", "write"),
    "activities": ("activities", "create"),
    "feedback": ("activities", "create"),
}
MAX_UPLOAD_BYTES = 2 * 1024**3
COPY_CHUNK = 1024 * 1024
TRUE = frozenset({"1", "true", "yes", "on"})


def require_import(actor: Actor, kind: str) -> None:
    """Forbidden unless the actor may write the records of `kind`."""
    if kind not in KIND_PERMISSION:
        raise ValidationFailed(
            translate("imports.error.kind", kinds=", ".join(KINDS)), detail={"field": "kind"}
        )
    policy.require(actor, *KIND_PERMISSION[kind])


def _flag(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in TRUE


def _day(form: Any, name: str) -> date | None:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationFailed(translate("imports.error.date", field=name), detail={"field": name}) from exc


def _safe_name(name: str | None) -> str:
    """The upload's base name, reduced to safe characters (the report names the file by it)."""
    base = Path(name or "upload.csv").name
    cleaned = re.sub(r"[^\w.\-]+", "_", base, flags=re.UNICODE).strip("._") or "upload.csv"
    return cleaned[:200]


def _save(upload: UploadFile, target: Path) -> int:
    """Copy the spooled upload to `target` in 1 MiB pieces; returns its size."""
    upload.file.seek(0)
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(COPY_CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise ValidationFailed(
                    translate("imports.error.too_large", limit=MAX_UPLOAD_BYTES), detail={"field": "file"}
                )
            out.write(chunk)
    return size


def report_body(report: ImportReport, lang: str) -> dict[str, Any]:
    """The CLI's JSON report plus its person-readable text and one-line summary in `lang`."""
    body = report.as_dict()
    for error in body["errors"]:
        error["reason"] = translate_reason(error["reason"], lang)
    body["text"] = render_table(report, lang)
    first = report.first_error()
    if first is not None:
        key = "imports.failed_summary" if report.failed else "imports.skipped_summary"
        body["summary"] = translate(
            key,
            lang,
            n=len(report.rejected_rows),
            row=first.row,
            column=first.column or "-",
            reason=translate_reason(first.reason, lang),
        )
    else:
        body["summary"] = translate(f"imports.status.{report.status}", lang)
    return body


@router.post(
    "/imports",
    responses={422: {"description": "Invalid rows: nothing imported; the report lists every row error"}},
)
async def upload_import(request: Request, session: SessionDep, actor: CurrentActor) -> Any:
    """Import an uploaded CSV/XLSX file (multipart: `kind`, `file`, `preset`, `dry_run`, `skip_invalid`...)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + COPY_CHUNK:
        raise ValidationFailed(
            translate("imports.error.too_large", limit=MAX_UPLOAD_BYTES), detail={"field": "file"}
        )
    form = await request.form(max_files=1, max_fields=20)
    kind = form.get("kind")
    kind = kind.strip() if isinstance(kind, str) else ""
    require_import(actor, kind)
    preset = form.get("preset") or "auto"
    if not isinstance(preset, str) or preset not in PRESET_NAMES:
        raise ValidationFailed(
            translate("imports.error.preset", presets=", ".join(PRESET_NAMES)), detail={"field": "preset"}
        )
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationFailed(translate("imports.error.no_file"), detail={"field": "file"})
    lang_value = form.get("lang")
    lang = normalise_language(
        lang_value
        if isinstance(lang_value, str) and lang_value
        else request.headers.get("accept-language", "en")
    )
    options = {
        "kind": kind,
        "actor": actor,
        "preset": preset,
        "dry_run": _flag(form.get("dry_run")),
        "skip_invalid": _flag(form.get("skip_invalid")),
        "period_start": _day(form, "period_start"),
        "period_end": _day(form, "period_end"),
        "force": _flag(form.get("force")),
    }
    # The caller's own transaction (key or session stamp) ends first: on SQLite the import is
    # the one writer.
    await anyio.to_thread.run_sync(session.commit)
    factory = request.app.state.session_factory

    def run() -> ImportReport:
        from closedloop.imports.service import import_file

        with tempfile.TemporaryDirectory(prefix="closedloop-upload-") as folder:
            path = Path(folder) / _safe_name(upload.filename)
            _save(upload, path)
            return import_file(session_factory=factory, path=path, **options)

    try:
        report = await anyio.to_thread.run_sync(run)
    finally:
        await upload.close()
    body = report_body(report, lang)
    if report.status == "failed":
        problem = {
            "type": "about:blank",
            "title": "Validation failed",
            "status": 422,
            "detail": body["summary"],
            "report": body,
        }
        return JSONResponse(problem, status_code=422, media_type="application/problem+json")
    return JSONResponse(body, status_code=200)


def _job(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "file": job.filename,
        "sha256": job.file_sha256,
        "preset": job.preset,
        "status": job.status,
        "rows": job.rows_total,
        "inserted": job.rows_inserted,
        "updated": job.rows_updated,
        "unchanged": job.rows_unchanged,
        "rejected": job.rows_rejected,
        "by_user_id": job.by_user_id,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _visible_kinds(actor: Actor) -> list[str]:
    return [k for k, (resource, action) in KIND_PERMISSION.items() if policy.allowed(actor, resource, action)]


@router.get("/imports")
def list_imports(
    session: SessionDep,
    actor: CurrentActor,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Import jobs, newest first, of the kinds the caller may import."""
    kinds = _visible_kinds(actor)
    if not kinds:
        policy.require(actor, "imports", "read")  # raises Forbidden
    stmt = select(ImportJob).where(ImportJob.kind.in_([kind] if kind in kinds else kinds))
    if kind and kind not in kinds:
        stmt = stmt.where(ImportJob.id.is_(None))
    jobs = session.scalars(stmt.order_by(ImportJob.id.desc()).limit(limit).offset(offset)).all()
    return {"items": [_job(j) for j in jobs], "limit": limit, "offset": offset}


@router.get("/imports/{job_id}")
def get_import(job_id: IdPath, session: SessionDep, actor: CurrentActor) -> Any:
    """One import job (404 when the caller may not import its kind)."""
    job = session.get(ImportJob, job_id)
    if job is None or job.kind not in _visible_kinds(actor):
        raise NotFound(translate("access.error.not_found", resource="imports", id=job_id))
    return _job(job)
