"""组织生活纪实台账 as files: .xlsx (one sheet per kind of record) and .docx laid out for printing (a
cover, one section per month with its plan and its meetings, photos embedded). Both are built from
handlers.ledgers.meetings.MeetingsLedger, the page's own data; a committee's or the county's .xlsx is
the same sheets over each of its branches' ledgers, streamed (write_units_meetings_xlsx)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date, tzinfo
from typing import IO

from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from PIL import Image

from handlers.common.dates import fmt_full_day, fmt_month
from handlers.ledgers.document import Styles, a4_document, docx_bytes, heading, kv, table, when
from handlers.ledgers.meetings import MeetingEntry, MeetingsLedger
from handlers.ledgers.workbook import Book, Sheet, xlsx_bytes

TITLE = "组织生活纪实台账"
BRANCH_HEADER = "党支部"

RowsOf = Callable[[MeetingsLedger, tzinfo], Iterator[list[object]]]


def _names(names: list[str]) -> str:
    return "、".join(names)


def attendance_text(e: MeetingEntry) -> str:
    """应到 N 人，实到 N 人（正式 a，预备 b），请假 c，缺席 d."""
    return (
        f"应到 {len(e.expected)} 人，实到 {len(e.present)} 人（正式党员 {len(e.present_full)}，"
        f"预备党员 {len(e.present_probationary)}），请假 {len(e.on_leave)} 人，缺席 {len(e.absent)} 人"
        + (f"，未签到 {len(e.not_recorded)} 人" if e.not_recorded else "")
    )


# --- .xlsx ------------------------------------------------------------------------------------------


def _sheets() -> list[tuple[str, list[str], tuple[int, ...], RowsOf]]:
    """The .xlsx's sheets: title, headers, column widths and the rows of one branch's ledger."""
    return [
        ("会议", ["月份", "时间", "类型", "会议名称", "地点", "主题", "主持人", "记录人", "状态", "应到", "实到",
                "实到正式", "实到预备", "请假", "缺席", "请假人员", "缺席人员", "观察员列席"],
         (10, 17, 16, 22, 14, 26, 8, 8, 16, 6, 6, 8, 8, 6, 6, 20, 20, 20), _meeting_rows),
        ("出勤", ["时间", "会议名称", "姓名", "党员类别", "出勤"], (17, 22, 10, 8, 8), _attendance_rows),
        ("请假", ["时间", "会议名称", "姓名", "请假事由", "审批"], (17, 22, 10, 30, 8), _leave_rows),
        ("补学", ["时间", "会议名称", "姓名", "原因", "补学期限", "状态", "学习心得"], (17, 22, 10, 6, 12, 8, 40),
         _makeup_rows),
        ("会议记录", ["时间", "会议名称", "主持人", "记录人", "议题", "决定事项", "党日动作", "表决情况", "提交时间",
                    "应交日期", "照片（张）"], (17, 22, 8, 8, 40, 40, 30, 40, 17, 12, 8), _minutes_rows),
        ("观察员", ["时间", "会议名称", "观察员", "评分", "等次", "处理结果", "评价意见", "按时提交"],
         (17, 22, 10, 8, 8, 10, 40, 8), _observer_rows),
        ("月度计划", ["月份", "计划状态", "计划时间", "类型", "地点", "主题", "是否已开"], (10, 8, 17, 16, 14, 26, 8),
         _plan_rows),
    ]  # fmt: skip


def meetings_xlsx(ledger: MeetingsLedger, tz: tzinfo) -> bytes:
    """A branch's ledger: one sheet per kind of record."""
    caption = f"{ledger.branch.name} {TITLE}（{ledger.period.label}）"
    return xlsx_bytes(
        Sheet(title, headers, rows(ledger, tz), widths, caption) for title, headers, widths, rows in _sheets()
    )


def write_units_meetings_xlsx(
    out: IO[bytes], ledgers: Iterable[MeetingsLedger], tz: tzinfo, *, caption: str
) -> int:
    """Several branches' ledgers (a committee's or the county's) into `out`, the same sheets with the
    branch first on every row, written branch by branch as `ledgers` yields them: only one branch's
    ledger is ever in memory. The number of rows written."""
    sheets = _sheets()
    book = Book(out)
    for title, headers, widths, _ in sheets:
        book.add(Sheet(title, [BRANCH_HEADER, *headers], (), (24, *widths), caption))
    for ledger in ledgers:
        name = ledger.branch.name
        for title, _, _, rows in sheets:
            for row in rows(ledger, tz):
                book.append(title, [name, *row])
    book.close()
    return book.rows


def _meeting_rows(ledger: MeetingsLedger, tz: tzinfo) -> Iterator[list[object]]:
    for b in ledger.months:
        for e in b.meetings:
            mi = e.minutes
            yield [
                fmt_month(b.month), when(e.line.starts_at, tz), e.types_text, e.line.title, e.place, e.topic,
                mi.chair if mi else "", mi.recorder if mi else "", e.status_text, len(e.expected), len(e.present),
                len(e.present_full), len(e.present_probationary), len(e.on_leave), len(e.absent),
                _names(e.on_leave), _names(e.absent), "、".join(f"{o.observer}（{o.outcome}）" for o in e.observers),
            ]  # fmt: skip


def _attendance_rows(ledger: MeetingsLedger, tz: tzinfo) -> Iterator[list[object]]:
    for e in ledger.meetings:
        at = when(e.line.starts_at, tz)
        for label, names in (
            ("出席", e.present),
            ("请假", e.on_leave),
            ("缺席", e.absent),
            ("未签到", e.not_recorded),
        ):
            for n in names:
                yield [at, e.line.title, n, e.member_kind.get(n, ""), "迟到" if n in e.late else label]


def _leave_rows(ledger: MeetingsLedger, tz: tzinfo) -> Iterator[list[object]]:
    for e in ledger.meetings:
        for lv in e.leaves:
            yield [when(e.line.starts_at, tz), e.line.title, lv.name, lv.reason, lv.status]


def _makeup_rows(ledger: MeetingsLedger, tz: tzinfo) -> Iterator[list[object]]:
    for e in ledger.meetings:
        for mk in e.makeups:
            yield [when(e.line.starts_at, tz), e.line.title, mk.name, mk.origin, mk.due_on.isoformat(), mk.status,
                   mk.note]  # fmt: skip


def _minutes_rows(ledger: MeetingsLedger, tz: tzinfo) -> Iterator[list[object]]:
    for e in ledger.meetings:
        mi = e.minutes
        if mi is None:
            continue
        yield [when(e.line.starts_at, tz), e.line.title, mi.chair, mi.recorder, mi.topics, mi.decisions,
               e.menu_text, e.vote_text, when(mi.submitted_at, tz), mi.due_on.isoformat(), len(e.photos)]  # fmt: skip


def _observer_rows(ledger: MeetingsLedger, tz: tzinfo) -> Iterator[list[object]]:
    for e in ledger.meetings:
        for o in e.observers:
            yield [when(e.line.starts_at, tz), e.line.title, o.observer, f"{o.total}/{o.max_total}", o.grade,
                   o.outcome, o.comment, "是" if o.on_time else "否"]  # fmt: skip


def _plan_rows(ledger: MeetingsLedger, tz: tzinfo) -> Iterator[list[object]]:
    for b in ledger.months:
        if b.plan_status is None:
            yield [fmt_month(b.month), "未报送", "", "", "", "", ""]
        for p in b.plan:
            yield [fmt_month(b.month), b.plan_status, when(p.starts_at, tz), p.types_text, p.place, p.topic,
                   "是" if p.meeting_id else "否"]  # fmt: skip


# --- .docx ------------------------------------------------------------------------------------------


def meetings_docx(
    ledger: MeetingsLedger, tz: tzinfo, photos: dict[int, tuple[str, bytes]], *, today: date
) -> bytes:
    doc = a4_document()
    _cover(doc, ledger, today)
    styles = Styles(doc)
    for block in ledger.months:
        doc.add_section(WD_SECTION.NEW_PAGE)
        heading(doc, styles, fmt_month(block.month), 1)
        heading(doc, styles, "月度计划", 2)
        if block.plan_status is None:
            doc.add_paragraph("本月未报送计划。")
        else:
            doc.add_paragraph(
                f"计划状态：{block.plan_status}"
                + (f"（{when(block.plan_submitted_at, tz)} 报送）" if block.plan_submitted_at else "")
            )
            if block.plan:
                table(doc, styles, ["计划时间", "类型", "地点", "主题", "已开"],
                       [[when(p.starts_at, tz), p.types_text, p.place, p.topic, "是" if p.meeting_id else "否"]
                        for p in block.plan])  # fmt: skip
        heading(doc, styles, f"开展情况（已开 {block.held} 次）", 2)
        if not block.meetings:
            doc.add_paragraph("本月没有会议记录。")
        for e in block.meetings:
            _meeting(doc, styles, e, tz, photos)
    return docx_bytes(doc)


def _cover(doc, ledger: MeetingsLedger, today: date) -> None:
    for _ in range(6):
        doc.add_paragraph()
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(ledger.branch.name)
    run.font.size, run.bold = Pt(22), True
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(TITLE)
    run.font.size, run.bold = Pt(30), True
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run(f"（{ledger.period.label}）").font.size = Pt(16)
    for _ in range(8):
        doc.add_paragraph()
    meetings = ledger.meetings
    for line in (
        f"会议 {len(meetings)} 次，其中计为已开 {ledger.held} 次",
        f"制表日期：{fmt_full_day(today)}",
    ):
        p = doc.add_paragraph(line)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _meeting(doc, styles: Styles, e: MeetingEntry, tz: tzinfo, photos: dict[int, tuple[str, bytes]]) -> None:
    heading(doc, styles, f"{when(e.line.starts_at, tz)} {e.line.title}", 3)
    mi = e.minutes
    pairs = [
        ("类型", e.types_text),
        ("时间", when(e.line.starts_at, tz)),
        ("地点", e.place),
        ("主题", e.topic),
        ("状态", e.status_text + (f"（{e.cancel_reason}）" if e.cancel_reason else "")),
        ("主持人", mi.chair if mi else ""),
        ("记录人", mi.recorder if mi else ""),
        ("出席情况", attendance_text(e)),
        ("出席人员", _names(e.present)),
    ]
    if e.on_leave or e.leaves:
        pairs.append(("请假", "；".join(f"{lv.name}：{lv.reason}（{lv.status}）" for lv in e.leaves)
                      or _names(e.on_leave)))  # fmt: skip
    if e.absent:
        pairs.append(("缺席", _names(e.absent)))
    if e.makeups:
        pairs.append(("补学", "；".join(f"{mk.name}（{mk.origin}，{mk.status}，期限 {mk.due_on:%Y-%m-%d}）"
                                         for mk in e.makeups)))  # fmt: skip
    if mi is not None:
        pairs.append(("议题", mi.topics))
        if mi.decisions:
            pairs.append(("决定事项", mi.decisions))
        if e.menu_text:
            pairs.append(("党日动作", e.menu_text))
        if e.vote_text:
            pairs.append(("表决", e.vote_text))
        pairs.append(("记录提交", f"{when(mi.submitted_at, tz)}（应于 {mi.due_on:%Y-%m-%d} 前）"))
    else:
        pairs.append(("会议记录", "未提交"))
    if e.observers:
        pairs.append(("观察员", "；".join(f"{o.observer}：{o.total}/{o.max_total} 分，{o.grade}，{o.outcome}"
                                          + (f"。{o.comment}" if o.comment else "") for o in e.observers)))  # fmt: skip
    kv(doc, styles, pairs)
    for aid in e.photos:
        if aid not in photos:
            continue
        content_type, data = photos[aid]
        stream = _docx_image(content_type, data)
        if stream is not None:
            doc.add_picture(stream, width=Cm(12))
    doc.add_paragraph()


def _docx_image(content_type: str, data: bytes) -> io.BytesIO | None:
    """JPEG and PNG go in as they are; anything else (WebP) is converted to PNG."""
    if content_type in ("image/jpeg", "image/png"):
        return io.BytesIO(data)
    try:
        with Image.open(io.BytesIO(data)) as img:
            out = io.BytesIO()
            img.save(out, format="PNG")
            out.seek(0)
            return out
    except OSError:
        return None
