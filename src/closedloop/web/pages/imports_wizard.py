"""The import wizard: upload a file, pick its kind and preset, see the column mapping and every row
error of a dry run, then commit it (all rows or none, or the valid rows with the rest in quarantine).

Both the dry run and the import run in a background thread through `imports.service.import_file`
(the CLI's and the API's path); the job page shows the rows read so far and reloads itself (an HTTP
`Refresh` header, no script) until the work is done. Jobs live in this process's memory and the
uploaded file in a private temporary folder, both bound to the user who uploaded it.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from closedloop.access import policy
from closedloop.errors import Forbidden, UserError, ValidationFailed
from closedloop.imports.presets import CUSTOM, GENERIC, KINDS, PRESET_NAMES, known_columns
from closedloop.imports.report import ImportReport
from closedloop.imports.router import KIND_PERMISSION, MAX_UPLOAD_BYTES, _safe_name, _save
from closedloop.quarantine.models import ImportJob
from closedloop.users.actor import Actor
from closedloop.web.pages.common import Page, PageDep, PageRoute, check_csrf, not_found, render
from closedloop.web.pages.tables import Table, csv_response

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)
FOLDER = Path(tempfile.gettempdir()) / "closedloop-wizard"
KEEP_SECONDS = 6 * 3600
SHOWN_ERRORS = 200
SAMPLE_ROWS = 5
Csrf = Annotated[str, Form(max_length=200)]


@dataclass
class Job:
    """One upload going through the wizard."""

    token: str
    user_id: int
    kind: str
    preset: str
    filename: str
    path: Path
    phase: str = "preview"  # preview | commit
    state: str = "running"  # running | ready | error
    rows: int = 0
    total: int | None = None  # rows the dry run read: the commit's progress bar runs up to it
    skip_invalid: bool = False
    overrides: dict[str, str] = field(default_factory=dict)  # file column -> generic column or "custom"
    report: ImportReport | None = None
    columns: list[str] = field(default_factory=list)
    sample: list[list[str]] = field(default_factory=list)
    message: str | None = None
    created: float = field(default_factory=time.monotonic)


JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def may_quality(actor: Actor) -> bool:
    """The data stewards: admins, managers and marketing (the quality page and this wizard)."""
    return policy.allowed(actor, "quality", "read")


def kinds_for(actor: Actor) -> list[str]:
    """Import kinds whose records the actor may write (the API's rule, imports.router)."""
    return [k for k in KINDS if k in KIND_PERMISSION and policy.allowed(actor, *KIND_PERMISSION[k])]


def may_import(actor: Actor) -> bool:
    return may_quality(actor) and bool(kinds_for(actor))


def _require(page: Page, kind: str | None = None) -> None:
    if not may_import(page.actor) or (kind is not None and kind not in kinds_for(page.actor)):
        raise Forbidden(page.t("web.error.forbidden"))


def _job(page: Page, token: str) -> Job:
    """The caller's own job (anyone else's, or a finished and forgotten one: 404)."""
    with _LOCK:
        job = JOBS.get(token)
    if job is None or job.user_id != page.user.id:
        raise not_found(page)
    return job


def _forget_old() -> None:
    now = time.monotonic()
    with _LOCK:
        old = [t for t, j in JOBS.items() if now - j.created > KEEP_SECONDS and j.state != "running"]
        for token in old:
            shutil.rmtree(JOBS.pop(token).path.parent, ignore_errors=True)


def _start(job: Job, factory: Any, actor: Actor, *, dry_run: bool) -> None:
    """Run the dry run or the import in a thread; the job page follows its progress."""
    with _LOCK:  # the job page reads state, phase and report together under the same lock
        job.phase, job.state, job.rows, job.message = ("preview" if dry_run else "commit"), "running", 0, None

    def rows(n: int) -> None:
        job.rows = n

    def run() -> None:
        from closedloop.imports.readers import open_table
        from closedloop.imports.service import import_file

        try:
            if dry_run:
                table = open_table(job.path, known_columns=known_columns(job.kind))
                job.columns = list(table.columns)
                first = next(iter(table.chunks(SAMPLE_ROWS)), None)
                job.sample = (
                    [] if first is None else first[job.columns].head(SAMPLE_ROWS).astype(str).values.tolist()
                )
            report = import_file(session_factory=factory, kind=job.kind, path=job.path, actor=actor,
                                 preset=job.preset, dry_run=dry_run, skip_invalid=job.skip_invalid and not dry_run,
                                 on_rows=rows, columns=dict(job.overrides))  # fmt: skip
            if not dry_run:
                shutil.rmtree(job.path.parent, ignore_errors=True)
            with _LOCK:
                job.report, job.state = report, "ready"
                if dry_run:
                    job.total = report.rows_total
        except UserError as exc:
            with _LOCK:
                job.message, job.state = exc.message, "error"
        except Exception:  # the page says it failed; the log keeps why
            log.exception("import wizard job %s failed", job.token)
            with _LOCK:
                job.message, job.state = None, "error"

    threading.Thread(target=run, name=f"import-wizard-{job.token[:6]}", daemon=True).start()


def _recent(page: Page) -> Table:
    db = page.request.state.db
    table = Table("imports", page.t("web.import.recent"),
                  [page.t("web.import.file"), page.t("web.import.kind"), page.t("web.import.status"),
                   page.t("web.import.rows"), page.t("web.import.inserted"), page.t("web.import.updated"),
                   page.t("web.import.rejected"), page.t("web.col.created")], numeric={3, 4, 5, 6}, data={0})  # fmt: skip
    stmt = (
        select(ImportJob)
        .where(ImportJob.kind.in_(kinds_for(page.actor)))
        .order_by(ImportJob.id.desc())
        .limit(10)
    )
    for j in db.scalars(stmt):
        table.add([j.filename, page.t(f"web.import.kind.{j.kind}"), page.t(f"imports.status.{j.status}"),
                   page.num(j.rows_total), page.num(j.rows_inserted), page.num(j.rows_updated),
                   page.num(j.rows_rejected), page.when(j.started_at)],
                  [j.filename, j.kind, j.status, j.rows_total, j.rows_inserted, j.rows_updated, j.rows_rejected,
                   j.started_at])  # fmt: skip
    return table


@router.get("/quality/import")
def wizard(page: PageDep) -> Response:
    """Step 1: choose a file, its kind and preset."""
    _require(page)
    recent = _recent(page)
    csv = csv_response(page, [recent])
    if csv is not None:
        return csv
    return render(page, "quality_import.html", kinds=kinds_for(page.actor), presets=PRESET_NAMES, recent=recent,
                  limit=MAX_UPLOAD_BYTES // 1024**2)  # fmt: skip


@router.post("/quality/import")
async def upload(request: Request, page: PageDep) -> Response:
    """Save the upload and start its dry run."""
    form = await request.form(max_files=1, max_fields=10)
    token_field = form.get("csrf_token")
    check_csrf(page, token_field if isinstance(token_field, str) else None)
    kind = form.get("kind")
    kind = kind.strip() if isinstance(kind, str) else ""
    _require(page, kind)
    preset = form.get("preset")
    preset = preset if isinstance(preset, str) and preset in PRESET_NAMES else "auto"
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise ValidationFailed(page.t("web.import.no_file"))
    _forget_old()
    token = secrets.token_urlsafe(18)
    folder = FOLDER / token
    folder.mkdir(parents=True, mode=0o700)
    path = folder / _safe_name(file.filename)
    try:
        size = await anyio.to_thread.run_sync(_save, file, path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        await file.close()
    if size == 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise ValidationFailed(page.t("web.import.no_file"))
    job = Job(token, page.user.id, kind, preset, path.name, path)
    with _LOCK:
        JOBS[token] = job
    page.request.state.db.commit()  # the session's own writes end first: on SQLite the import is the one writer
    _start(job, request.app.state.session_factory, page.actor, dry_run=True)
    return RedirectResponse(f"/quality/import/{token}", status_code=303)


@router.get("/quality/import/{token}")
def job_page(page: PageDep, token: str) -> Response:
    """Steps 2-4: progress, then the mapping and the row errors, then the outcome."""
    job = _job(page, token)
    _require(page, job.kind)
    with _LOCK:  # one consistent view: a thread finishing now sets report and state together
        state, phase, report = job.state, job.phase, job.report
    errors = Table("errors", page.t("web.import.errors"),
                   [page.t("web.import.row"), page.t("web.import.column"), page.t("web.import.value"),
                    page.t("web.import.why")], numeric={0}, data={1, 2, 3})  # fmt: skip
    if report is not None and state == "ready":
        for e in sorted(report.errors, key=lambda e: (e.row, e.column or "")):
            errors.add(
                [page.num(e.row), e.column or "—", e.value or "", e.reason],
                [e.row, e.column, e.value, e.reason],
            )
    csv = csv_response(page, [errors])
    if csv is not None:
        return csv
    shown = Table(errors.id, errors.caption, errors.header, errors.rows[:SHOWN_ERRORS], errors.raw, errors.numeric,
                  errors.data)  # fmt: skip
    response = render(page, "quality_import_job.html", job=job, state=state, phase=phase, report=report, errors=shown,
                      error_total=report.error_count if report else 0, kinds=kinds_for(page.actor),
                      presets=PRESET_NAMES, shown_limit=SHOWN_ERRORS, generic=GENERIC[job.kind], custom=CUSTOM)  # fmt: skip
    if state == "running":
        response.headers["Refresh"] = "1"
    return response


@router.post("/quality/import/{token}/preview")
def preview(request: Request, page: PageDep, token: str, csrf_token: Csrf = "",
            kind: Annotated[str, Form(max_length=32)] = "",
            preset: Annotated[str, Form(max_length=32)] = "auto",
            col: Annotated[list[str] | None, Form(max_length=300)] = None,
            as_: Annotated[list[str] | None, Form(alias="as", max_length=64)] = None) -> Response:  # fmt: skip
    """Change the kind, the preset or how single columns are read, and run the dry run again."""
    check_csrf(page, csrf_token)
    job = _job(page, token)
    _require(page, kind)
    if job.state == "running" or (job.phase == "commit" and job.report is not None):
        raise ValidationFailed(page.t("web.import.busy"))
    chosen = {c: a for c, a in zip(col or [], as_ or [], strict=False) if a and c in job.columns}
    if kind != job.kind or any(a != CUSTOM and a not in GENERIC[kind] for a in chosen.values()):
        chosen = {}  # another kind has other columns: start from its automatic reading
    targets = [a for a in chosen.values() if a != CUSTOM]
    if len(targets) != len(set(targets)):
        raise ValidationFailed(page.t("web.import.same_target"))
    job.overrides = chosen
    job.kind, job.preset, job.report, job.total = (
        kind,
        preset if preset in PRESET_NAMES else "auto",
        None,
        None,
    )
    page.request.state.db.commit()
    _start(job, request.app.state.session_factory, page.actor, dry_run=True)
    return RedirectResponse(f"/quality/import/{token}", status_code=303)


@router.post("/quality/import/{token}/commit")
def commit(request: Request, page: PageDep, token: str, csrf_token: Csrf = "",
           mode: Annotated[str, Form(pattern="^(all|skip)$")] = "all") -> Response:  # fmt: skip
    """Import for real: all rows or none, or the valid rows with the invalid ones in quarantine."""
    check_csrf(page, csrf_token)
    job = _job(page, token)
    _require(page, job.kind)
    if job.state != "ready" or job.phase != "preview":
        raise ValidationFailed(page.t("web.import.busy"))
    job.skip_invalid = mode == "skip"
    page.request.state.db.commit()
    _start(job, request.app.state.session_factory, page.actor, dry_run=False)
    return RedirectResponse(f"/quality/import/{token}", status_code=303)
