"""观察员台账 as files: .xlsx (one sheet per kind of record) and .docx laid out for printing (a cover,
then each observer's record for the yearly rating: their assignments, observations with outcomes and
the rectifications they raised; then each coverage period's branches). Both are built from
handlers.ledgers.observers.ObserversLedger, the page's own data, and print as the 组织生活纪实台账 does
(its fonts, styles and tables)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, tzinfo
from typing import IO

from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from handlers.common.dates import fmt_full_day
from handlers.ledgers import strings
from handlers.ledgers.document import Styles, a4_document, docx_bytes, heading, kv, table, when
from handlers.ledgers.observers import ObserverEntry, ObserversLedger
from handlers.ledgers.workbook import Sheet, write_xlsx, xlsx_bytes
from handlers.observers.strings import NO_OBSERVER

YES, NO = "是", "否"

ASSIGNMENT_HEADERS = ["观察员", "观察员所在单位", "联系支部", "联系起始日期", "状态"]
OBSERVATION_HEADERS = ["会议时间", "党支部", "会议", "观察员", "评价表", "得分", "满分", "等次", "观察结论",
                       "整改/重开期限", "总体评价", "提交时间", "按时提交"]  # fmt: skip
ITEM_HEADERS = ["会议时间", "党支部", "会议", "观察员", "评价项目", "满分", "得分", "说明"]
RECT_HEADERS = ["编号", "党支部", "会议", "观察员", "整改事项", "整改期限", "状态", "是否逾期", "整改说明", "报告时间",
                "销号时间", "退回次数"]  # fmt: skip
COVERAGE_HEADERS = ["期次", "党委", "党支部", "观察员", "已列席次数", "要求次数", "是否达到要求"]
RECORD_HEADERS = ["观察员", "本单位联系支部", "全年列席次数", "提交评价表", "按时提交", "提出整改", "已销号",
                  "应观察支部期次", "已覆盖期次", "年度评定", "说明"]  # fmt: skip


def _day(d: date | None) -> str:
    return d.isoformat() if d else ""


def assignment_cells(a) -> list[object]:
    return [a.observer, a.observer_unit, a.branch, _day(a.since), "在岗" if a.active else "已结束"]


def observation_cells(o, tz: tzinfo) -> list[object]:
    return [when(o.starts_at, tz), o.branch, o.meeting, o.observer, o.form, o.total, o.max_total, o.grade,
            o.outcome_label, _day(o.deadline), o.comment, when(o.submitted_at, tz), YES if o.on_time else NO]  # fmt: skip


def rect_cells(r, tz: tzinfo) -> list[object]:
    return [r.id, r.branch, r.meeting, r.observer, r.text, _day(r.due_on), r.status_label, YES if r.overdue else NO,
            r.report_note, when(r.reported_at, tz), when(r.closed_at, tz), r.reopen_count]  # fmt: skip


def coverage_name(block) -> str:
    return f"{block.name}（进行中，截至{fmt_full_day(block.as_of)}）" if block.running else block.name


def coverage_cells(block, c) -> list[object]:
    return [coverage_name(block), c.committee, c.name, "、".join(c.observers) or NO_OBSERVER, c.observed, c.required,
            YES if c.covered else NO]  # fmt: skip


def record_cells(e: ObserverEntry) -> list[object]:
    r = e.record
    if r is None:
        return [e.name, "", None, None, None, None, None, None, None, "", ""]
    return [e.name, "、".join(r.branches), r.attended, r.forms, r.forms_on_time, r.issues_raised, r.issues_closed,
            r.periods, r.periods_covered, r.rating, e.basis]  # fmt: skip


# --- .xlsx ------------------------------------------------------------------------------------------


def observers_xlsx(ledger: ObserversLedger, tz: tzinfo) -> bytes:
    """A branch's file, built while the browser waits."""
    return xlsx_bytes(observers_sheets(ledger, tz))


def write_observers_xlsx(out: IO[bytes], ledger: ObserversLedger, tz: tzinfo) -> int:
    """A committee's or the county's file, streamed into `out` by the background export
    (handlers.ledgers.exports); the rows written."""
    return write_xlsx(out, observers_sheets(ledger, tz))


def observers_sheets(ledger: ObserversLedger, tz: tzinfo) -> list[Sheet]:
    caption = f"{ledger.unit.name} {strings.OBSERVERS}（{ledger.period.label}）"
    return [
        Sheet("观察员分工", ASSIGNMENT_HEADERS, (assignment_cells(a) for a in ledger.assignments),
              (10, 20, 22, 12, 8), caption),
        Sheet("观察记录", OBSERVATION_HEADERS, (observation_cells(o, tz) for o in ledger.observations),
              (17, 20, 22, 10, 24, 6, 6, 6, 10, 12, 40, 17, 8), caption),
        Sheet("评价表明细", ITEM_HEADERS, _items(ledger, tz), (17, 20, 22, 10, 18, 6, 6, 40), caption),
        Sheet("整改事项", RECT_HEADERS, (rect_cells(r, tz) for r in ledger.rectifications),
              (6, 20, 22, 10, 36, 12, 12, 8, 36, 17, 17, 8), caption),
        Sheet("列席覆盖", COVERAGE_HEADERS, _coverage(ledger), (28, 16, 22, 20, 10, 8, 12), caption),
        Sheet(f"观察员年度记录（{ledger.year}年）", RECORD_HEADERS, (record_cells(e) for e in ledger.observers),
              (10, 24, 10, 10, 8, 8, 8, 12, 10, 8, 60), caption),
    ]  # fmt: skip


def _items(ledger: ObserversLedger, tz: tzinfo) -> Iterator[list[object]]:
    for o in ledger.observations:
        for it in o.items:
            yield [
                when(o.starts_at, tz),
                o.branch,
                o.meeting,
                o.observer,
                it.label,
                it.max,
                it.score,
                it.comment,
            ]


def _coverage(ledger: ObserversLedger) -> Iterator[list[object]]:
    for block in ledger.coverage:
        for c in block.rows:
            yield coverage_cells(block, c)


# --- .docx ------------------------------------------------------------------------------------------


def observers_docx(ledger: ObserversLedger, tz: tzinfo, *, today: date) -> bytes:
    """A branch's (or an observer's own) document, built while the browser waits."""
    return docx_bytes(observers_document(ledger, tz, today=today))


def write_observers_docx(out: IO[bytes], ledger: ObserversLedger, tz: tzinfo, *, today: date) -> int:
    """A committee's or the county's document, saved into `out` by the background export
    (handlers.ledgers.exports); the table rows it holds (observations, rectifications and coverage
    lines). python-docx keeps the document's tree in memory until it is saved: the county's is a few
    MB of XML (bench/ledgers.py measures it), the rows themselves are the ledger the page reads."""
    observers_document(ledger, tz, today=today).save(out)
    return len(ledger.observations) + len(ledger.rectifications) + sum(len(b.rows) for b in ledger.coverage)


def observers_document(ledger: ObserversLedger, tz: tzinfo, *, today: date):
    """The Word document: a cover, one section per observer, then the coverage of every branch."""
    doc = a4_document()
    _cover(doc, ledger, today)
    styles = Styles(doc)
    for e in ledger.observers:
        doc.add_section(WD_SECTION.NEW_PAGE)
        _observer(doc, styles, ledger, e, tz)
    doc.add_section(WD_SECTION.NEW_PAGE)
    heading(doc, styles, "支部列席覆盖情况", 1)
    if not ledger.coverage:
        doc.add_paragraph("本期没有列席覆盖记录。")
    for block in ledger.coverage:
        heading(doc, styles, coverage_name(block), 2)
        doc.add_paragraph(
            f"共 {len(block.rows)} 个党支部，达到要求 {block.covered} 个，未安排观察员 {block.unassigned} 个。"
        )
        if block.rows:
            table(
                doc,
                styles,
                COVERAGE_HEADERS[1:],
                [[str(v) for v in coverage_cells(block, c)[1:]] for c in block.rows],
            )
    return doc


def _cover(doc, ledger: ObserversLedger, today: date) -> None:
    for _ in range(6):
        doc.add_paragraph()
    for text, size in ((ledger.unit.name, 22), (strings.OBSERVERS, 30)):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        run.font.size, run.bold = Pt(size), True
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run(f"（{ledger.period.label}）").font.size = Pt(16)
    for _ in range(8):
        doc.add_paragraph()
    outcomes = "，".join(f"{label} {n} 次" for label, n in ledger.outcome_counts if n)
    for line in (
        f"观察员 {len(ledger.observers)} 名，观察 {len(ledger.observations)} 次" + (f"（{outcomes}）" if outcomes else ""),
        f"整改事项 {len(ledger.rectifications)} 条，未销号 {ledger.open_rectifications} 条，逾期 {ledger.overdue_rectifications} 条",
        f"制表日期：{fmt_full_day(today)}",
    ):  # fmt: skip
        p = doc.add_paragraph(line)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _observer(doc, styles: Styles, ledger: ObserversLedger, e: ObserverEntry, tz: tzinfo) -> None:
    heading(doc, styles, f"观察员：{e.name}", 1)
    home = next((a.observer_unit for a in e.assignments if a.observer_unit), "")
    r = e.record
    pairs = [
        ("所在单位", home),
        ("联系支部", "；".join(f"{a.branch}（{_day(a.since)} 起，{'在岗' if a.active else '已结束'}）" for a in e.assignments)),
        ("本期观察", f"{len(e.observations)} 次：" + "，".join(
            f"{label} {n} 次" for label, n in _outcomes(e) if n) if e.observations else "本期没有观察记录"),
    ]  # fmt: skip
    if r is not None:
        pairs += [
            (f"{ledger.year}年度情况", f"列席 {r.attended} 次，提交评价表 {r.forms} 份（按时 {r.forms_on_time} 份），"
                                     f"提出整改 {r.issues_raised} 条（已销号 {r.issues_closed} 条），"
                                     f"联系支部应观察 {r.periods} 期次，已覆盖 {r.periods_covered} 期次"),
            ("年度评定", e.basis),  # the grade is the console's 观察员年度评定
        ]  # fmt: skip
    kv(doc, styles, pairs)
    heading(doc, styles, "观察记录", 2)
    if e.observations:
        table(doc, styles, ["会议时间", "党支部", "会议", "得分", "等次", "观察结论", "评价表各项与意见"],
               [[when(o.starts_at, tz), o.branch, o.meeting, f"{o.total}/{o.max_total}", o.grade,
                 o.outcome_label + (f"（期限 {_day(o.deadline)}）" if o.deadline else ""),
                 "；".join(x for x in (o.items_text, o.comment) if x)] for o in e.observations])  # fmt: skip
    else:
        doc.add_paragraph("本期没有观察记录。")
    if e.rectifications:
        heading(doc, styles, "提出的整改事项", 2)
        table(doc, styles, ["编号", "党支部", "整改事项", "期限", "状态"],
               [[str(x.id), x.branch, x.text, _day(x.due_on), x.status_label + ("（逾期）" if x.overdue else "")]
                for x in e.rectifications])  # fmt: skip


def _outcomes(e: ObserverEntry) -> list[tuple[str, int]]:
    labels: dict[str, int] = {}
    for o in e.observations:
        labels[o.outcome_label] = labels.get(o.outcome_label, 0) + 1
    return list(labels.items())
