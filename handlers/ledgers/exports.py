"""Ledger files of a committee or the county, built in the background (#17).

A branch's files are built while the browser waits (handlers.ledgers.*_export). A unit above a branch
asks for its file instead: request_export() queues a row (models.exports.LedgerExport), a worker in a
web process claims it, builds the file from the same query functions as the pages (each branch's
meetings ledger is handlers.ledgers.meetings.meetings_ledger, the branch page's own), and stores it in
the database, where any web replica can send it.

- Claimed by one worker only: a queued row becomes running in one UPDATE guarded by status='queued'
  (race-safe on SQLite, one writer at a time) that picks its row with FOR UPDATE SKIP LOCKED on
  PostgreSQL (a second worker skips the row being claimed instead of waiting for it).
- Progress: the row's done/total (branches written) and heartbeat_at, committed as it goes.
- A worker that dies leaves a running row whose heartbeat stops: after STALE_AFTER it is queued again
  (the file is rebuilt from the start), or after MAX_ATTEMPTS it fails with a reason in Chinese.
- Streamed: the workbook is XlsxWriter's constant_memory one (each row goes to a temporary file as it
  is written) and only one batch of branches' ledgers is in memory at a time; the finished file is copied into 1 MB chunks.
- Kept KEEP_DAYS days, then the worker deletes the row and its chunks (a file is asked for and
  downloaded the same day; an old one would be out of date anyway).
- The committee's 党费台账 is one roll-up (handlers.ledgers.fees), built in one go: a unit above a
  branch always gets it in the background, as it covers every member of every branch below. So is
  its 观察员台账 (handlers.ledgers.observers, the page's ledger: a few thousand forms a county-year).
- Its 消息台账 (handlers.ledgers.messages) is every message of the period, read a chunk at a time by
  the pages' own query, below the newest row when the build began; progress counts messages. The
  page's 状态/类别 filters are not carried: the file is the whole period's, as inspectors ask for it.
- Its 观察员台账 is also a Word file (the observer's record for the yearly rating, laid out for printing):
  the row's ledger key says which, "observers_docx" (WORD: no column of its own), and the file is the
  direct builder's document (handlers.ledgers.observers_export.observers_document) saved into the
  temporary file. python-docx holds the document's tree until it is saved; the ledger's rows are the
  page's, read in one go as for the .xlsx.
- A unit above a branch gets these files from here only: the direct routes answer a committee with
  TEXT["above_branch"] (TEXT["above_branch_docx"] for a Word file), as a branch's request here is
  answered with TEXT["branch_direct"].
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core.context import CoreConfig
from handlers.console import overview
from handlers.console.scope import Scope, scope_of
from handlers.fees.policy import default_policy
from handlers.ledgers import fees as fees_ledger
from handlers.ledgers import meetings as meetings_ledger
from handlers.ledgers import messages as messages_ledger
from handlers.ledgers import observers as observers_ledger
from handlers.ledgers import strings as ledger_strings
from handlers.ledgers.fees_export import write_fees_xlsx
from handlers.ledgers.meetings_export import TITLE, write_units_meetings_xlsx
from handlers.ledgers.observers_export import write_observers_docx, write_observers_xlsx
from handlers.ledgers.period import LedgerPeriod, parse_period
from handlers.ledgers.workbook import DOCX, XLSX, download_name
from handlers.meetings.types import meetings_config
from handlers.observers.forms import observers_config
from handlers.observers.periods import local_day
from models.exports import CHUNK_BYTES, FAILED, QUEUED, READY, RUNNING, LedgerExport, LedgerExportChunk
from models.org import OrgUnit, UnitKind

logger = logging.getLogger(__name__)

LEDGERS = {
    "meetings": ledger_strings.MEETINGS,
    "fees": ledger_strings.FEES,
    "observers": ledger_strings.OBSERVERS,
    "messages": ledger_strings.MESSAGES,
}
# The ledgers whose file may also be a Word document. Its row's ledger key is the ledger's with WORD
# after it ("observers_docx", within the column's 16 characters): the key says the file's format, so
# the table needs no column for it.
WORD_LEDGERS = ("observers",)
WORD = "_docx"
KEYS = (*LEDGERS, *(ledger + WORD for ledger in WORD_LEDGERS))
# What a running file's progress counts, by ledger; the others are built in one go ("正在生成").
PROGRESS_OF = {"meetings": "个党支部", "messages": "条消息"}
STALE_AFTER = timedelta(minutes=10)  # no progress for this long: its worker is gone
MAX_ATTEMPTS = 2
KEEP_DAYS = 7
POLL_SECONDS = 2.0
PROGRESS_EVERY_SECONDS = 0.5  # at most two progress commits a second

TEXT = {
    "queued": "排队中",
    "running": "正在生成：已完成 {done}/{total} {what}",
    "starting": "正在生成",
    "ready": "已生成",
    "failed": "生成失败",
    "unknown_ledger": "没有这种台账。",
    "branch_direct": "党支部的台账请直接下载，不需要后台生成。",
    "above_branch": "党委和全县的台账文件在后台生成：请在台账页点“生成台账（Excel）”，完成后在那里下载。",
    "above_branch_docx": "党委和全县的 Word 台账在后台生成：请在台账页点“生成台账（Word）”，完成后在那里下载。",
    "no_word": "这种台账没有 Word 文件。",
    "crashed": "生成过程中服务中断，已尝试 {attempts} 次仍未完成。请重新生成。",
    "error": "生成时出错，请稍后重新生成；如果仍然失败，请联系管理员。",
    "no_scope": "您已不再管理这个单位，台账没有生成。",
    "whole_scope_meetings_only": "全部单位只能生成组织生活纪实台账；党费台账请到各单位生成。",
    "whole_scope": "全部单位",  # the file's name and caption when it covers the requester's whole scope
}


def ledger_of(key: str) -> str:
    """The ledger a row's key is of ("observers_docx" → "observers")."""
    return key.removesuffix(WORD)


def is_word(key: str) -> bool:
    return key.endswith(WORD)


def file_type(key: str) -> tuple[str, str]:
    """(the extension, the content type) of a row's file."""
    return ("docx", DOCX) if is_word(key) else ("xlsx", XLSX)


def export_key(ledger: str, fmt: str) -> str:
    """The row's key for `ledger` as `fmt` ("xlsx", the default, or "docx"); ValueError (Chinese) for
    a format the ledger has no file in (a key is asked for by ledger and format, never by name)."""
    if ledger not in LEDGERS:
        raise ValueError(TEXT["unknown_ledger"])
    if fmt in ("", "xlsx"):
        return ledger
    if fmt == "docx" and ledger in WORD_LEDGERS:
        return ledger + WORD
    raise ValueError(TEXT["no_word"] if fmt == "docx" else TEXT["unknown_ledger"])


class Abandoned(Exception):
    """The row is no longer this worker's (recovered as stale and claimed again): stop quietly."""


# --- asking and looking -----------------------------------------------------------------------------


def request_export(
    session: Session, scope: Scope, unit: OrgUnit | None, ledger: str, period: LedgerPeriod, *, now: datetime
) -> LedgerExport:
    """Queue the file of `ledger` for `unit` and `period`, asked for by the scope's person; the same
    request still queued or running is returned instead of a second one. `unit` None: the meetings
    ledger of every branch in the scope (a 组织部 whose roster has several top-level units and no
    county unit above them). NotInScope outside the scope; ValueError (Chinese) for an unknown ledger
    or a branch (whose files are direct downloads). `ledger` is a key of KEYS (a Word file's too)."""
    if unit is not None and not scope.sees_unit(unit):
        raise overview.NotInScope(unit.id)
    if ledger not in KEYS:
        raise ValueError(TEXT["unknown_ledger"])
    if unit is not None and not may_read(scope, unit, ledger):
        raise overview.NotInScope(unit.id)
    if unit is None and ledger != "meetings":
        raise ValueError(TEXT["whole_scope_meetings_only"])
    if unit is not None and unit.kind == UnitKind.BRANCH:
        raise ValueError(TEXT["branch_direct"])
    unit_id = unit.id if unit is not None else None
    pending = session.scalar(
        select(LedgerExport).where(
            LedgerExport.requested_by == scope.person_id,
            LedgerExport.unit_id.is_(None) if unit_id is None else LedgerExport.unit_id == unit_id,
            LedgerExport.ledger == ledger,
            LedgerExport.period == period.key,
            LedgerExport.status.in_((QUEUED, RUNNING)),
        )
    )
    scope_key = scope_key_of(session, scope) if unit_id is None else ""
    if pending is not None and pending.scope_key == scope_key:
        return pending
    row = LedgerExport(
        requested_by=scope.person_id, unit_id=unit_id, ledger=ledger, period=period.key, status=QUEUED,
        done=0, total=0, rows=0, attempts=0, reason="", filename="", size=0, worker="", created_at=now,
        scope_key=scope_key,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def may_read(scope: Scope, unit: OrgUnit | None, ledger: str) -> bool:
    """Whether the scope may have the unit's file of `ledger`: any unit it sees, but the 消息台账 only
    of a unit it leads (messages.check: not one it only observes)."""
    if not scope.sees_unit(unit):
        return False
    return scope.can_edit_unit(unit) if ledger_of(ledger) == "messages" else True


def exports_of(
    session: Session, person_id: int, unit_id: int | None, *, ledger: str | None = None, limit: int = 5
) -> list[LedgerExport]:
    """The person's latest files of the unit (None: of their whole scope), of one ledger (its Excel and
    Word files) or all, newest first (the hub lists them)."""
    of_unit = LedgerExport.unit_id.is_(None) if unit_id is None else LedgerExport.unit_id == unit_id
    of_ledger = (LedgerExport.ledger.in_([k for k in KEYS if ledger_of(k) == ledger]),) if ledger else ()
    return list(
        session.scalars(
            select(LedgerExport)
            .where(LedgerExport.requested_by == person_id, of_unit, *of_ledger)
            .order_by(LedgerExport.id.desc())
            .limit(limit)
        )
    )


def export_for(session: Session, scope: Scope, export_id: int) -> LedgerExport | None:
    """The export if the viewer asked for it and still sees its unit (a whole-scope file: still has the
    scope it was asked for, unit for unit); None otherwise (the page answers 404
    either way, so another person's file is not even confirmed to exist)."""
    row = session.get(LedgerExport, export_id)
    if row is None or row.requested_by != scope.person_id:
        return None
    if row.unit_id is None:
        return row if scope_key_of(session, scope) == row.scope_key else None
    if not may_read(scope, session.get(OrgUnit, row.unit_id), row.ledger):
        return None
    return row


def top_paths(session: Session, scope: Scope) -> list[str]:
    """The paths of the outermost active units the scope leads (no ancestor of theirs is in it): a
    whole-scope file covers what its requester leads, not the branches they only observe."""
    tops: list[str] = []
    for path in session.scalars(
        select(OrgUnit.path)
        .where(OrgUnit.active.is_(True), OrgUnit.kind != UnitKind.GROUP, scope.unit_clause(editable=True))
        .order_by(OrgUnit.path)
    ):  # in path order an ancestor comes before its descendants
        if not tops or not path.startswith(tops[-1]):
            tops.append(path)
    return tops


def has_several_tops(session: Session, scope: Scope) -> bool:
    """Whether a whole-scope file is offered: the scope's branches are under several top-level units."""
    return len(top_paths(session, scope)) > 1


def scope_key_of(session: Session, scope: Scope) -> str:
    """What a whole-scope file is tied to: the scope's top-level unit paths ("" when it has one or none,
    which is offered no whole-scope file)."""
    tops = top_paths(session, scope)
    return "|".join(tops) if len(tops) > 1 else ""


def status_text(row: LedgerExport) -> str:
    if row.status == RUNNING:
        what = PROGRESS_OF.get(row.ledger)
        if what and row.total:
            return TEXT["running"].format(done=row.done, total=row.total, what=what)
        return TEXT["starting"]
    return TEXT.get(row.status, row.status)


def chunks(factory: sessionmaker[Session], export_id: int) -> Iterator[bytes]:
    """The file's bytes, one chunk per statement and session (a download holds one chunk at a time)."""
    seq = 0
    while True:
        with factory() as session:
            data = session.scalar(
                select(LedgerExportChunk.data).where(
                    LedgerExportChunk.export_id == export_id, LedgerExportChunk.seq == seq
                )
            )
        if data is None:
            return
        yield data
        seq += 1


# --- the worker's steps ------------------------------------------------------------------------------


def recover_stale(session: Session, *, now: datetime) -> int:
    """Running rows whose heartbeat stopped: queued again, or failed after MAX_ATTEMPTS."""
    stale = (LedgerExport.status == RUNNING, LedgerExport.heartbeat_at < now - STALE_AFTER)
    again = session.execute(
        update(LedgerExport)
        .where(*stale, LedgerExport.attempts < MAX_ATTEMPTS)
        .values(status=QUEUED, worker="", done=0)
    ).rowcount
    failed = session.scalars(select(LedgerExport).where(*stale, LedgerExport.attempts >= MAX_ATTEMPTS)).all()
    for row in failed:
        row.status, row.finished_at = FAILED, now
        row.reason = TEXT["crashed"].format(attempts=row.attempts)
    return again + len(failed)


def claim(session: Session, *, now: datetime, worker: str) -> int | None:
    """The oldest queued export, now this worker's (running), or None. One statement: the guard on
    status makes a second claimant's UPDATE match nothing; on PostgreSQL SKIP LOCKED lets it pass
    over a row another worker is claiming rather than wait for it."""
    oldest = (
        select(LedgerExport.id)
        .where(LedgerExport.status == QUEUED)
        .order_by(LedgerExport.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return session.execute(
        update(LedgerExport)
        .where(LedgerExport.id == oldest, LedgerExport.status == QUEUED)
        .values(
            status=RUNNING,
            worker=worker,
            started_at=now,
            heartbeat_at=now,
            done=0,
            total=0,
            attempts=LedgerExport.attempts + 1,
        )  # fmt: skip
        .returning(LedgerExport.id)
    ).scalar()


def purge_expired(session: Session, *, now: datetime) -> int:
    """Exports older than KEEP_DAYS (whatever their state) and their files."""
    old = select(LedgerExport.id).where(LedgerExport.created_at < now - timedelta(days=KEEP_DAYS))
    ids = list(session.scalars(old))
    if not ids:
        return 0
    session.execute(delete(LedgerExportChunk).where(LedgerExportChunk.export_id.in_(ids)))
    session.execute(delete(LedgerExport).where(LedgerExport.id.in_(ids)))
    return len(ids)


@dataclass
class _Job:
    id: int
    person_id: int
    unit_id: int | None
    ledger: str
    period: str
    worker: str
    scope_key: str


def build(
    factory: sessionmaker[Session], export_id: int, *, core: CoreConfig, clock: Callable[[], datetime]
) -> None:
    """Build a claimed export's file and store it (ready), or mark it failed with the reason."""
    with factory() as session:
        row = session.get(LedgerExport, export_id)
        if row is None or row.status != RUNNING:
            return
        job = _Job(row.id, row.requested_by, row.unit_id, row.ledger, row.period, row.worker, row.scope_key)
    try:
        with tempfile.TemporaryFile() as out:
            name, rows = _write(factory, job, out, core=core, clock=clock)
            _store(factory, job, out, name, rows, now=clock())
    except Abandoned:
        logger.info("ledger export %s was taken over by another worker", job.id)
    except _Refused as exc:
        _finish(factory, job, FAILED, reason=str(exc), now=clock())
    except Exception:
        logger.exception("ledger export %s failed", job.id)
        _finish(factory, job, FAILED, reason=TEXT["error"], now=clock())


class _Refused(Exception):
    """The export cannot be built for a reason its requester is told (str: Chinese)."""


def _write(
    factory: sessionmaker[Session],
    job: _Job,
    out: IO[bytes],
    *,
    core: CoreConfig,
    clock: Callable[[], datetime],
) -> tuple[str, int]:
    cfg = meetings_config(core)
    now = clock()
    this_month = overview.current_month(now, cfg)
    with factory() as session:
        scope = scope_of(session, job.person_id)
        whole = job.unit_id is None  # every branch of the requester's scope
        unit = None if whole else session.get(OrgUnit, job.unit_id)
        if (
            scope is None
            or (not whole and not may_read(scope, unit, job.ledger))
            or (whole and (not job.scope_key or scope_key_of(session, scope) != job.scope_key))
        ):
            raise _Refused(TEXT["no_scope"])
        try:
            period = parse_period(job.period, this_month)
        except ValueError as exc:
            raise _Refused(str(exc)) from exc
        unit_name = TEXT["whole_scope"] if unit is None else unit.name
        name = download_name(
            unit_name, LEDGERS[ledger_of(job.ledger)], period.label, ext=file_type(job.ledger)[0]
        )
        if job.ledger == "fees" and unit is not None:
            _progress(factory, job, 0, 1, now=clock())
            ledger = fees_ledger.fees_ledger(
                session,
                scope,
                unit,
                period,
                current_month=this_month,
                tz=core.tz,
                default=default_policy(core),
            )
            rows = write_fees_xlsx(out, ledger)
            return name, rows
        if ledger_of(job.ledger) == "observers" and unit is not None:
            _progress(factory, job, 0, 1, now=clock())
            ocfg = observers_config(core)
            ledger = observers_ledger.observers_ledger(session, scope, unit, period, now=now, cfg=ocfg)
            if is_word(job.ledger):  # the direct route's document, its 制表日期 the build's day
                return name, write_observers_docx(out, ledger, core.tz, today=local_day(now, ocfg))
            return name, write_observers_xlsx(out, ledger, core.tz)
        if job.ledger == "messages" and unit is not None:
            below, total = messages_ledger.snapshot(session, scope, unit, period, tz=core.tz)
            _progress(factory, job, 0, total, now=clock())
            lines = (
                messages_ledger.all_lines(session, scope, unit, period, tz=core.tz, before=below)
                if below is not None
                else iter(())  # no message in the period: an empty sheet under its headers
            )
            counted = _counted(factory, job, lines, total, clock)
            rows = messages_ledger.write_messages_xlsx(out, counted, unit, period, core.tz)
            return name, rows
        branches = [bid for bid, _ in meetings_ledger.branches_in(session, scope, unit)]  # unit None: all
        _progress(factory, job, 0, len(branches), now=clock())
        ledgers = meetings_ledger.units_meetings_ledgers(
            session, scope, branches, period, now=now, cfg=cfg, current_month=this_month
        )
        caption = f"{unit_name} {TITLE}（{period.label}）"
        rows = write_units_meetings_xlsx(
            out, _counted(factory, job, ledgers, len(branches), clock), cfg.tz, caption=caption
        )
        return name, rows


def _counted(factory, job: _Job, items: Iterable, total: int, clock: Callable[[], datetime]) -> Iterator:
    """The items (branches' ledgers, messages) as they come, the row's progress committed after each is
    written (at most every PROGRESS_EVERY_SECONDS, and after the last)."""
    last = time.monotonic()
    for done, item in enumerate(items, start=1):
        yield item
        if done == total or time.monotonic() - last >= PROGRESS_EVERY_SECONDS:
            _progress(factory, job, done, total, now=clock())
            last = time.monotonic()


def _mine(job: _Job):
    return (LedgerExport.id == job.id, LedgerExport.status == RUNNING, LedgerExport.worker == job.worker)


def _progress(factory, job: _Job, done: int, total: int, *, now: datetime) -> None:
    with factory() as session, session.begin():
        changed = session.execute(
            update(LedgerExport).where(*_mine(job)).values(done=done, total=total, heartbeat_at=now)
        ).rowcount
    if not changed:
        raise Abandoned(job.id)


def _store(factory, job: _Job, out: IO[bytes], name: str, rows: int, *, now: datetime) -> None:
    """The file into chunks and the row ready, in one transaction: a file is whole or absent."""
    size = out.seek(0, os.SEEK_END)
    out.seek(0)
    with factory() as session, session.begin():
        row = session.scalar(select(LedgerExport).where(*_mine(job)).with_for_update())
        if row is None:
            raise Abandoned(job.id)
        session.execute(delete(LedgerExportChunk).where(LedgerExportChunk.export_id == job.id))
        seq = 0
        while data := out.read(CHUNK_BYTES):
            session.add(LedgerExportChunk(export_id=job.id, seq=seq, data=data))
            session.flush()  # one chunk in memory at a time
            session.expunge_all()
            seq += 1
        session.execute(
            update(LedgerExport)
            .where(LedgerExport.id == job.id)
            .values(
                status=READY,
                filename=name[:200],
                size=size,
                rows=rows,
                finished_at=now,
                heartbeat_at=now,
                done=LedgerExport.total,
            )  # fmt: skip
        )


def _finish(factory, job: _Job, status: str, *, reason: str, now: datetime) -> None:
    with factory() as session, session.begin():
        session.execute(
            update(LedgerExport)
            .where(*_mine(job))
            .values(status=status, reason=reason[:200], finished_at=now)
        )


def run_once(
    factory: sessionmaker[Session], *, core: CoreConfig, clock: Callable[[], datetime], worker: str
) -> int | None:
    """One turn of a worker: forget expired files, requeue or fail stale ones, then claim and build the
    oldest queued export. The id built, or None when there was nothing to do. Reads first, so an idle
    worker never takes SQLite's write lock."""
    now = clock()
    with factory() as session:
        cutoff_old = now - timedelta(days=KEEP_DAYS)
        has_old = session.scalar(select(LedgerExport.id).where(LedgerExport.created_at < cutoff_old).limit(1))
        has_stale = session.scalar(
            select(LedgerExport.id)
            .where(LedgerExport.status == RUNNING, LedgerExport.heartbeat_at < now - STALE_AFTER)
            .limit(1)
        )
        has_queued = session.scalar(select(LedgerExport.id).where(LedgerExport.status == QUEUED).limit(1))
    if has_old or has_stale:
        with factory() as session, session.begin():
            purge_expired(session, now=now)
            recover_stale(session, now=now)
            has_queued = has_queued or session.scalar(
                select(LedgerExport.id).where(LedgerExport.status == QUEUED).limit(1)
            )
    if not has_queued:
        return None
    with factory() as session, session.begin():
        export_id = claim(session, now=now, worker=worker)
    if export_id is None:
        return None
    build(factory, export_id, core=core, clock=clock)
    return export_id


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ExportWorker:
    """A web process's export builder: a daemon thread that runs run_once every POLL_SECONDS (at once
    again after a build, for a queue of several). Every web replica runs one; the claim decides which
    builds what."""

    def __init__(
        self, factory: sessionmaker[Session], core: CoreConfig, *, clock: Callable[[], datetime]
    ) -> None:
        self.factory, self.core, self.clock = factory, core, clock
        self.name = worker_name()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="zhibu-exports", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                built = run_once(self.factory, core=self.core, clock=self.clock, worker=self.name)
            except Exception:  # the database away for a moment: try again on the next turn
                logger.exception("ledger export worker turn failed")
                built = None
            if built is None:
                self._stop.wait(POLL_SECONDS)
