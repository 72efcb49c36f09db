"""Running one import job: read in chunks, validate at the edge, write all rows or none, audit once."""

from __future__ import annotations

import mmap
import multiprocessing
import os
import pickle
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from closedloop.audit import service as audit_service
from closedloop.clock import Clock, system_clock
from closedloop.db import unit_of_work
from closedloop.errors import ValidationFailed
from closedloop.imports import parsing
from closedloop.imports.context import ImportContext
from closedloop.imports.presets import KINDS, ColumnMapping, known_columns, map_columns, override_columns
from closedloop.imports.readers import ROW_COLUMN, Table, file_sha256, open_table
from closedloop.imports.report import ImportReport, RowError
from closedloop.quarantine.models import ImportJob
from closedloop.users.actor import Actor
from closedloop.workspace.models import WorkspaceSettings

CHUNK_ROWS = 50_000
# The forked reader's shared buffer (see `_hand_over`): a 50,000-row touch chunk pickles to about 25 MB.
HANDOFF_BYTES = 128 * 1024 * 1024
TOTAL_INITIALS = frozenset("tsgc©總总合小報报")  # first letters of parsing.TOTAL_RE / FOOTER_RE phrases


class Processor(Protocol):
    """What each kind provides: prepare (file-level checks), process one chunk, finish."""

    def prepare(self, ctx: ImportContext, table: Table) -> None: ...

    def process(self, ctx: ImportContext, frame: Any) -> None: ...

    def finish(self, ctx: ImportContext) -> None: ...


def processor_for(kind: str) -> Processor:
    """The processor of an import kind."""
    from closedloop.imports import deals, money, people, touches

    table: dict[str, Callable[[], Processor]] = {
        "leads": people.LeadsProcessor,
        "touchpoints": touches.TouchpointsProcessor,
        "deals": deals.DealsProcessor,
        "deal_stages": deals.DealStagesProcessor,
        "revenue": deals.RevenueProcessor,
        "spend": money.SpendProcessor,
        "costs": money.CostsProcessor,
        "rates": money.RatesProcessor,
        "activities": people.ActivitiesProcessor,
        "feedback": people.FeedbackProcessor,
    }
    if kind not in table:
        raise ValidationFailed(
            f"unknown import kind {kind!r}: one of {', '.join(KINDS)}", detail={"field": "kind"}
        )
    return table[kind]()


def run_import(
    *,
    session: Session,
    kind: str,
    path: Path | str,
    actor: Actor,
    preset: str = "auto",
    dry_run: bool = False,
    skip_invalid: bool = False,
    period_start: date | None = None,
    period_end: date | None = None,
    force: bool = False,
    progress: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    on_error: Callable[[RowError], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
    columns: dict[str, str] | None = None,
    use_savepoint: bool = True,
    clock: Clock = system_clock,
) -> ImportReport:
    """Import one file of `kind`. Flushes only; the caller's unit of work commits.

    With any invalid row and no `skip_invalid`, nothing is written but a failed job record; a
    dry run writes nothing. A file already imported (same SHA-256 and kind) changes nothing.
    `on_rows(n)` hears the rows read so far after each chunk (the web wizard's progress bar);
    `columns` reads file columns as chosen by hand ({file column: generic column or "custom"}).
    """
    path = Path(path)
    processor = processor_for(kind)
    if not path.exists():
        raise ValidationFailed(f"no such file: {path}", detail={"field": "file"})
    sha = file_sha256(path)
    report = ImportReport(kind, path.name, sha, dry_run=dry_run, skip_invalid=skip_invalid)
    if (period_start is None) != (period_end is None):
        raise ValidationFailed("give both --period-start and --period-end", detail={"field": "period"})
    if period_start and period_end and period_end < period_start:
        raise ValidationFailed("--period-end is before --period-start", detail={"field": "period_end"})
    if not force and not dry_run:
        prior = session.scalar(
            select(ImportJob)
            .where(ImportJob.file_sha256 == sha, ImportJob.kind == kind, ImportJob.status == "done")
            .order_by(ImportJob.id.desc())
            .limit(1)
        )
        if prior is not None:
            report.status, report.job_id, report.preset = "unchanged", prior.id, prior.preset or "generic"
            report.rows_total = report.unchanged = prior.rows_total - prior.rows_rejected
            return report
    table = open_table(path, known_columns=known_columns(kind))
    mapping = override_columns(kind, map_columns(kind, preset, table.columns), columns or {})
    _describe(report, table, mapping)
    settings = session.get(WorkspaceSettings, 1)
    now = clock()
    ctx = ImportContext(
        session=session,
        actor=actor,
        clock=clock,
        now=now,
        tz=ZoneInfo(settings.reporting_time_zone if settings else "Asia/Taipei"),
        currency=settings.reporting_currency if settings else "TWD",
        tax_rate=Decimal(settings.default_tax_rate) if settings else Decimal("0.05"),
        report=report,
        mapping=mapping,
        period=(period_start, period_end) if period_start and period_end else None,
        on_error=on_error,
    )
    # In a savepoint so a failed or dry run leaves the caller's transaction as it was. `import_file`
    # owns its transaction and skips it: SQLite writes ~1.8x slower inside a savepoint.
    savepoint = session.begin_nested() if use_savepoint else None
    try:
        job = ImportJob(
            kind=kind,
            filename=path.name,
            file_sha256=sha,
            preset=mapping.preset,
            status="running",
            by_user_id=actor.user_id,
            started_at=now,
        )
        session.add(job)
        session.flush()
        ctx.job = job
        processor.prepare(ctx, table)
        _run_chunks(ctx, processor, table, chunk_rows, progress, on_rows)
        processor.finish(ctx)
        session.flush()
    except BaseException:
        if savepoint is not None:
            savepoint.rollback()
        raise
    report.rejected = len(report.rejected_rows)
    if report.failed or dry_run:
        report.status = "dry_run" if dry_run else "failed"
        if report.failed:
            report.inserted = report.updated = report.unchanged = 0  # nothing was imported
        if savepoint is None:
            return report  # import_file rolls the whole transaction back
        savepoint.rollback()
        if report.failed and not dry_run:
            _record_failed_job(ctx, path, sha)
        return report
    job.status = "done"
    job.rows_total, job.rows_inserted, job.rows_updated = report.rows_total, report.inserted, report.updated
    job.rows_unchanged, job.rows_rejected = report.unchanged, report.rejected
    job.finished_at = clock()
    report.status, report.job_id = "done", job.id
    if report.inserted or report.updated or report.rejected:
        audit_service.record(
            session,
            actor=actor,
            action="import.completed",
            entity_type="import_job",
            entity_id=job.id,
            after={
                "kind": kind,
                "file": path.name,
                "sha256": sha,
                "preset": mapping.preset,
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
                "tables": report.changed,
            },
            clock=clock,
        )
    session.flush()
    if savepoint is not None:
        savepoint.commit()
    return report


class _Discard(Exception):
    """Raised inside the unit of work to roll back a failed or dry run."""


def import_file(*, session_factory: sessionmaker[Session], **options: Any) -> ImportReport:
    """`run_import` in its own transaction (no savepoint: the fast path for big files).

    A failed or dry run is rolled back whole; a failed run's job is then recorded on its own.
    """
    report: ImportReport | None = None
    try:
        with unit_of_work(session_factory) as session:
            report = run_import(session=session, use_savepoint=False, **options)
            if report.status in ("failed", "dry_run"):
                raise _Discard
    except _Discard:
        pass
    assert report is not None
    if report.status == "failed":
        with unit_of_work(session_factory) as session:
            job = ImportJob(
                kind=report.kind,
                filename=report.filename,
                file_sha256=report.sha256,
                preset=report.preset,
                status="failed",
                rows_total=report.rows_total,
                rows_rejected=report.rejected,
                by_user_id=options["actor"].user_id,
                started_at=options.get("clock", system_clock)(),
                finished_at=options.get("clock", system_clock)(),
            )
            session.add(job)
            session.flush()
            report.job_id = job.id
    return report


def _describe(report: ImportReport, table: Table, mapping: ColumnMapping) -> None:
    report.preset = mapping.preset
    report.encoding = table.encoding or table.file_format
    report.delimiter = table.delimiter
    report.title_lines = table.title_lines
    report.duplicate_columns = table.duplicate_columns
    report.column_mapping = dict(mapping.mapped)
    report.unknown_columns = list(mapping.custom)
    for name, renamed in table.duplicate_columns.items():
        report.warnings.append(f"duplicate column {name!r} renamed to {', '.join(renamed)}")


def _run_chunks(
    ctx: ImportContext,
    processor: Processor,
    table: Table,
    chunk_rows: int,
    progress: bool,
    on_rows: Callable[[int], None] | None = None,
) -> None:
    """Read (and, for kinds with a database-free `validate`, check) the next chunk ahead while
    this thread writes the current one. At most two chunks are in memory at once (one being
    written, the next being read or waiting). See `_read_ahead` for where the reading runs.
    """
    from tqdm import tqdm

    validate = getattr(processor, "validate", None)
    write_checked = getattr(processor, "write_checked", None)
    if validate is None or write_checked is None:
        validate, write_checked = None, processor.process
    in_child = can_fork()  # decided before the progress bar starts its monitor thread
    bar = None
    try:
        with closing(_read_ahead(ctx, table, chunk_rows, validate, in_child=in_child)) as chunks:
            for totals, rows, checked in chunks:
                if bar is None:
                    bar = tqdm(disable=None if progress else True, unit=" rows", file=sys.stderr,
                               desc=ctx.report.kind, mininterval=0.5)  # fmt: skip
                ctx.report.skipped_total_rows += totals
                ctx.report.rows_total += rows
                if rows:
                    write_checked(ctx, checked)
                bar.update(rows)
                if on_rows is not None:
                    on_rows(ctx.report.rows_total)
    finally:
        if bar is not None:
            bar.close()


def can_fork() -> bool:
    """True when this process may fork a reader: the platform forks and no other thread runs
    (a fork copies only the calling thread, so a lock another thread holds would stay held)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _checked_chunks(
    ctx: ImportContext, table: Table, chunk_rows: int, validate: Callable[[ImportContext, Any], Any] | None
) -> Iterator[tuple[int, int, Any]]:
    """(total rows skipped, rows kept, checked chunk or the frame) per chunk, read and checked here."""
    first_column = table.columns[:1]
    chunks = table.chunks(chunk_rows)
    try:
        for frame in chunks:
            skipped = 0
            if len(frame) and first_column:
                totals = _total_rows(frame, table.columns)
                if totals.any():
                    skipped = int(totals.sum())
                    frame = frame.loc[~totals]
            yield skipped, len(frame), validate(ctx, frame) if validate is not None and len(frame) else frame
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _read_ahead(
    ctx: ImportContext,
    table: Table,
    chunk_rows: int,
    validate: Callable[[ImportContext, Any], Any] | None,
    *,
    in_child: bool,
) -> Iterator[tuple[int, int, Any]]:
    """`_checked_chunks`, produced one chunk ahead; the reader's exceptions are raised here, and
    leaving early stops it.

    In a forked child process when `in_child` (see `can_fork`): the reader's pandas work holds
    the GIL, and the writer's executemany drops it for every row's step, so a reader thread
    takes the GIL at each row and the two run one after the other (measured: no faster than
    reading inline). A child runs on the other core; the chunk comes back pickled (Arrow buffers
    and ready lists: unpickling costs about a seventh of reading and checking it). Else on a
    daemon thread.
    """
    if in_child:
        return _read_in_child(ctx, table, chunk_rows, validate)
    return _read_in_thread(ctx, table, chunk_rows, validate)


def _read_in_child(
    ctx: ImportContext, table: Table, chunk_rows: int, validate: Callable[[ImportContext, Any], Any] | None
) -> Iterator[tuple[int, int, Any]]:
    """The forked reader: it starts a chunk only once the previous one is taken (a word back on
    a second pipe), so one shared buffer carries every chunk (see `_hand_over`); only its size
    goes through the pipe: a chunk of tens of MB through a pipe's 64 KB took both processes
    hundreds of switches. None ends the stream; the chunk folder goes when the import ends,
    whatever is left (see `_chunk_folder` for an import killed before it could remove it)."""
    fork = multiprocessing.get_context("fork")
    receiver, sender = fork.Pipe(duplex=False)
    turns, turn = fork.Pipe(duplex=False)
    folder = _chunk_folder()
    # Anonymous and shared with the child: not a file, and not /dev/shm (a container's is often
    # 64 MB). Pages are only taken once written, and freed when the import ends.
    buffer = mmap.mmap(-1, HANDOFF_BYTES)

    parent = os.getpid()

    def produce() -> None:
        receiver.close()
        turn.close()
        try:
            for number, item in enumerate(_checked_chunks(ctx, table, chunk_rows, validate)):
                if os.getppid() != parent:  # the import was killed: no file for nobody to read
                    return
                sender.send(_hand_over(buffer, folder, number, item))
                turns.recv()  # EOFError when the import stopped: the child just ends
            sender.send(None)
        except EOFError:
            return
        except BaseException as exc:  # handed to the importing process, raised there
            sender.send(_picklable(exc))

    child = fork.Process(target=produce, name="import-reader", daemon=True)
    child.start()
    sender.close()
    turns.close()
    try:
        while True:
            try:
                message = receiver.recv()
            except EOFError:
                raise RuntimeError(
                    f"the import reader ended without a word (exit {child.exitcode})"
                ) from None
            if message is None:
                return
            if isinstance(message, BaseException):
                raise message
            item = _take(buffer, folder, message)
            turn.send(True)
            yield item
    finally:
        receiver.close()
        turn.close()
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        buffer.close()
        shutil.rmtree(folder, ignore_errors=True)


def _hand_over(buffer: mmap.mmap, folder: Path, number: int, item: Any) -> int | str:
    """The reader's side: `item` pickled into the shared buffer, its size the message; a chunk
    too big for the buffer goes to a file in the chunk folder instead, its name the message.

    The buffer is free: the importing process has unpickled the previous chunk before it gives
    the reader its turn. Writing 25 MB chunks to temp files (page cache) took the reader about a
    tenth of its time; the buffer's pages are written once and reused.
    """
    data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) <= len(buffer):
        buffer[: len(data)] = data
        return len(data)
    path = folder / f"{number}.pickle"
    path.write_bytes(data)
    return path.name


def _take(buffer: mmap.mmap, folder: Path, message: int | str) -> Any:
    """The importing process's side of `_hand_over`: the chunk unpickled (and its file removed)."""
    if isinstance(message, int):
        with memoryview(buffer) as view:
            return pickle.loads(view[:message])
    path = folder / message
    item = pickle.loads(path.read_bytes())
    path.unlink()
    return item


CHUNK_FOLDER_PREFIX = "closedloop-import-"
# A chunk folder whose process is gone is removed once untouched this long: a running import
# writes a chunk file every second or so, so a live import in another PID namespace sharing the
# temp folder (where its pid looks gone) keeps its folder.
STALE_FOLDER_SECONDS = 600


def _chunk_folder() -> Path:
    """A new temp folder for this import's chunk files, named after this process; first removes
    the folders that imports killed before their own cleanup left behind (SIGKILL, out of memory):
    this user's, whose process no longer runs, untouched for `STALE_FOLDER_SECONDS`."""
    for old in Path(tempfile.gettempdir()).glob(f"{CHUNK_FOLDER_PREFIX}*-*"):
        pid = old.name.removeprefix(CHUNK_FOLDER_PREFIX).split("-", 1)[0]
        try:
            info = old.stat()
        except FileNotFoundError:  # another import removed it meanwhile
            continue
        stale = time.time() - info.st_mtime > STALE_FOLDER_SECONDS
        if pid.isdigit() and stale and info.st_uid == os.getuid() and not _running(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{CHUNK_FOLDER_PREFIX}{os.getpid()}-"))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _picklable(exc: BaseException) -> BaseException:
    """`exc` if it survives the pipe (pickled and rebuilt), else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


_DONE = object()


def _read_in_thread(
    ctx: ImportContext, table: Table, chunk_rows: int, validate: Callable[[ImportContext, Any], Any] | None
) -> Iterator[tuple[int, int, Any]]:
    """The reader thread: it starts a chunk only once the previous one is taken."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=1)
    turn = threading.Semaphore(1)
    stop = threading.Event()

    def wait_turn() -> bool:
        while not stop.is_set():
            if turn.acquire(timeout=0.1):
                return True
        return False

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        items = _checked_chunks(ctx, table, chunk_rows, validate)
        try:
            while wait_turn():
                item = next(items, None)
                if item is None:
                    break
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the importing thread, raised there
            put(exc)
        finally:
            items.close()

    reader = threading.Thread(target=produce, name="import-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = handoff.get()
            turn.release()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join(timeout=5)


def _total_rows(frame: Any, columns: list[str]) -> Any:
    """Rows whose first non-blank cell reads Total/Subtotal/總計... or a report footer."""
    import numpy as np

    first = frame[columns[0]].astype(str).str.lstrip()
    for column in columns[1:3]:
        first = first.where(first != "", frame[column].astype(str).str.lstrip())
    # Only cells starting with a letter these phrases start with go through the regular expressions.
    candidates = first.str[:1].str.lower().isin(list(TOTAL_INITIALS)).to_numpy(dtype=bool)
    totals = np.zeros(len(frame), dtype=bool)
    if candidates.any():
        maybe = first[candidates]
        hits = maybe.str.match(parsing.TOTAL_RE, na=False) | maybe.str.match(parsing.FOOTER_RE, na=False)
        totals[candidates] = hits.to_numpy(dtype=bool)
    return totals


def _record_failed_job(ctx: ImportContext, path: Path, sha: str) -> None:
    report = ctx.report
    job = ImportJob(
        kind=report.kind,
        filename=path.name,
        file_sha256=sha,
        preset=report.preset,
        status="failed",
        rows_total=report.rows_total,
        rows_rejected=report.rejected,
        by_user_id=ctx.actor.user_id,
        started_at=ctx.now,
        finished_at=ctx.clock(),
    )
    ctx.session.add(job)
    ctx.session.flush()
    report.job_id = job.id


def row_numbers(frame: Any) -> Any:
    """The file row numbers of a chunk."""
    return frame[ROW_COLUMN]
