"""月积分台账 as .xlsx: every unit's monthly score with its rank and reasons, and every escalation
notice with its recipients and acknowledgement, from handlers.ledgers.scores.ScoresLedger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo

from handlers.common.dates import fmt_month
from handlers.ledgers.scores import ScoresLedger
from handlers.ledgers.workbook import Sheet, xlsx_bytes


def scores_xlsx(ledger: ScoresLedger, tz: tzinfo) -> bytes:
    caption = f"{ledger.unit.name} 月积分台账（{ledger.period.label}）"
    return xlsx_bytes(
        [
            Sheet("月积分", ["月份", "单位", "类型", "得分", "排名", "同类单位数", "排名类别", "是否落后", "落后原因",
                          "未完成事项", "计分说明", "数据来源"],
                  _scores(ledger), (10, 22, 8, 7, 6, 9, 12, 8, 24, 40, 60, 14), caption),
            Sheet("提醒约谈", ["月份", "类别", "单位", "对象", "连续月数", "要求", "通知对象", "通知时间", "确认情况",
                            "确认人", "确认时间", "结束月份"],
                  _escalations(ledger, tz), (10, 18, 22, 12, 8, 40, 30, 17, 8, 10, 17, 10), caption),
        ]
    )  # fmt: skip


def _scores(ledger: ScoresLedger) -> Iterator[list[object]]:
    for s in ledger.scores:
        yield [fmt_month(s.month), s.name, s.kind_label, s.score, s.rank or None, s.group_size or None, s.group,
               "落后" if s.lagging else "", s.lag_text, "；".join(s.missing), s.why,
               "月度计算结果" if s.stored else "本月实时计算"]  # fmt: skip


def _escalations(ledger: ScoresLedger, tz: tzinfo) -> Iterator[list[object]]:
    for e in ledger.escalations:
        yield [fmt_month(e.month), e.ladder, e.unit, e.subject, e.streak, e.rung, "、".join(e.told),
               e.told_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if e.told_at else "", e.acknowledged or "未确认",
               e.acknowledged_by, e.acknowledged_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if e.acknowledged_at else "",
               fmt_month(e.ended_month) if e.ended_month else ""]  # fmt: skip
