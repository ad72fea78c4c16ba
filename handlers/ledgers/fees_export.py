"""党费台账 as .xlsx: the 收缴情况, each branch's roll-up, every member's totals and runs, and every
member-month, from handlers.ledgers.fees.FeesLedger (the page's own data)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import IO

from handlers.common.dates import fmt_month
from handlers.ledgers.fees import FeesLedger, MonthSummary
from handlers.ledgers.workbook import Sheet, write_xlsx, xlsx_bytes

DISCLOSURE_HEADERS = ["月份", "应交人数", "已交人数", "未交人数", "应交金额（元）", "已交金额（元）", "未交金额（元）",
                      "代交", "补交", "预交", "免交人数"]  # fmt: skip


def money(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def summary_cells(s: MonthSummary) -> list[object]:
    return [s.members, s.paid, s.unpaid, money(s.owed_amount), money(s.paid_amount), money(s.unpaid_amount),
            s.proxy, s.backpay, s.prepay, s.exempt]  # fmt: skip


def fees_xlsx(ledger: FeesLedger) -> bytes:
    return xlsx_bytes(fees_sheets(ledger))


def write_fees_xlsx(out: IO[bytes], ledger: FeesLedger) -> int:
    """The same file into `out` (a committee's or the county's, built in the background); its rows."""
    return write_xlsx(out, fees_sheets(ledger))


def fees_sheets(ledger: FeesLedger) -> list[Sheet]:
    caption = f"{ledger.unit.name} 党费台账（{ledger.period.label}）"
    names = {b.branch_id: b.name for b in ledger.branches}
    sheets = [
        Sheet(
            "收缴情况",
            DISCLOSURE_HEADERS,
            _disclosure(ledger),
            (12, 9, 9, 9, 13, 13, 13, 6, 6, 6, 8),
            caption,
        ),
    ]
    if not ledger.is_branch:
        sheets.append(
            Sheet("支部汇总", ["党支部", "党员人数", *DISCLOSURE_HEADERS[1:], "连续欠缴人数", "最长连续欠缴（月）"],
                  ([b.name, b.members, *summary_cells(b.total), b.in_arrears, b.longest_run] for b in ledger.branches),
                  (24, 8, 9, 9, 9, 13, 13, 13, 6, 6, 6, 8, 10, 12), caption)
        )  # fmt: skip
    sheets += [
        Sheet("党员汇总", ["党支部", "姓名", "类别", "应交合计（元）", "已交合计（元）", "未交合计（元）", "未交月数",
                       "连续未交（月）", "连续未交起始月"],
              ([names.get(p.branch_id, ""), p.name, p.kind, money(p.owed_total), money(p.paid_total),
                money(p.unpaid_total), len(p.unpaid_months), p.run.months if p.run else 0,
                fmt_month(p.run.first_month) if p.run else ""] for p in ledger.members),
              (24, 10, 6, 13, 13, 13, 8, 12, 14), caption),
        Sheet("逐月明细", ["党支部", "姓名", "月份", "状态", "应交（元）", "已交（元）", "交纳日期", "标注", "代交人"],
              _member_months(ledger, names), (24, 10, 12, 12, 10, 10, 12, 12, 10), caption),
        Sheet("欠缴", ["党支部", "姓名", "连续未交（月）", "起始月份", "本期未交金额（元）"],
              ([names.get(p.branch_id, ""), p.name, p.run.months, fmt_month(p.run.first_month), money(p.unpaid_total)]
               for p in ledger.in_arrears if p.run),
              (24, 10, 12, 12, 14), caption),
    ]  # fmt: skip
    return sheets


def _disclosure(ledger: FeesLedger) -> Iterator[list[object]]:
    for s in ledger.disclosure:
        yield [fmt_month(s.month), *summary_cells(s)]
    yield ["合计", *summary_cells(ledger.total)]


def _member_months(ledger: FeesLedger, names: dict[int, str]) -> Iterator[list[object]]:
    for p in ledger.members:
        for fm in p.months + p.ahead:
            yield [names.get(p.branch_id, ""), p.name, fmt_month(fm.month), fm.label, money(fm.owed),
                   money(fm.paid), fm.paid_at.isoformat() if fm.paid_at else "", fm.marks, fm.by]  # fmt: skip
