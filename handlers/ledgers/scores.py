"""月积分台账 (#17 item 4): each unit's score, rank and the reasons behind them, month by month, and the
escalation ladders' notices with whom they were sent to, when, and who acknowledged them (已阅/已约谈).

A closed month's scores are the ones the monthly run stored (what the digests said, and what the
总览 shows); a month without stored scores (the current one) is the 总览's own month (handlers.console.
overview.MonthData, scored now by handlers.monthly.service.score_month): in the console the one its
MonthCache keeps, so the ledger neither scores the month again per request nor shows other figures
than the 总览. Escalations come with their recipients' names in one more statement. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from handlers.console import overview
from handlers.console.overview import UNIT_LADDERS
from handlers.console.scope import Scope
from handlers.ledgers.period import LedgerPeriod
from handlers.meetings.types import MeetingsConfig
from handlers.monthly import strings as monthly_strings
from handlers.monthly.chat import ACK_LABELS
from handlers.monthly.config import MonthlyConfig
from handlers.observers.forms import ObserversConfig
from models.monthly import AckKind, Escalation, Ladder, MonthlyScore
from models.org import UNIT_KIND_LABELS, OrgUnit, Person, UnitKind


@dataclass
class ScoreLine:
    month: date
    unit_id: int
    name: str
    kind: str  # UnitKind value
    score: float | None
    rank: int
    group_size: int
    group: str  # the peer group's name (农村类支部, 党委…)
    lagging: bool
    explanation: dict[str, Any]
    stored: bool  # read from the monthly run's stored scores (else scored now)

    @property
    def kind_label(self) -> str:
        return UNIT_KIND_LABELS.get(UnitKind(self.kind), self.kind)

    @property
    def lag_text(self) -> str:
        return monthly_strings.lag_reasons(list(self.explanation.get("lagging") or []))

    @property
    def missing(self) -> list[str]:
        return monthly_strings.missing_text(list(self.explanation.get("missing") or []))

    @property
    def why(self) -> str:
        """How the score was reached, as plain text (the digest's explanation without markdown)."""
        if self.kind != UnitKind.BRANCH or self.score is None or "formula" not in self.explanation:
            return ""
        return monthly_strings.explain(self.score, self.explanation).replace("**", "").replace("\n\n", "；")


@dataclass
class EscalationLine:
    id: int
    ladder: str  # label
    rung: str  # what the rung asks (谈话提醒…)
    month: date
    streak: int
    unit_id: int
    unit: str
    subject: str  # the unit or the member
    told: list[str]  # recipients' names
    told_at: datetime
    acknowledged: str  # 已阅 / 已约谈 / ""
    acknowledged_by: str
    acknowledged_at: datetime | None
    ended_month: date | None


@dataclass
class ScoresLedger:
    unit: OrgUnit
    period: LedgerPeriod
    months: list[date]
    scores: list[ScoreLine]  # by month (newest first), lagging first, then by score
    escalations: list[EscalationLine]

    def month_scores(self, month: date) -> list[ScoreLine]:
        return [s for s in self.scores if s.month == month]


def scores_ledger(
    session: Session,
    scope: Scope,
    unit: OrgUnit,
    period: LedgerPeriod,
    *,
    now: datetime,
    current_month: date,
    mcfg: MonthlyConfig,
    cfg: MeetingsConfig,
    month_data: Callable[[date], overview.MonthData] | None = None,
) -> ScoresLedger:
    """`month_data`: the console's month (ConsoleApp.month_data, from its MonthCache); None builds it
    here (its observer coverage, which the ledger does not read, then with the default rules)."""
    if month_data is None:

        def month_data(month: date) -> overview.MonthData:
            return overview.build_month_data(
                session, month, now=now, mcfg=mcfg, cfg=cfg, ocfg=ObserversConfig()
            )

    if not scope.sees_unit(unit):
        raise overview.NotInScope(unit.id)
    months = period.month_list(until=current_month)
    under = and_(OrgUnit.path.startswith(unit.path), scope.unit_clause())
    kinds = mcfg.committee_kinds
    lines: list[ScoreLine] = []
    stored_months: set[date] = set()
    if months:
        for uid, name, kind, month, score, rank, size, group, lagging, exp in session.execute(
            select(
                MonthlyScore.unit_id, OrgUnit.name, OrgUnit.kind, MonthlyScore.month, MonthlyScore.score,
                MonthlyScore.rank, MonthlyScore.group_size, MonthlyScore.peer_group, MonthlyScore.lagging,
                MonthlyScore.explanation,
            )
            .join(OrgUnit, OrgUnit.id == MonthlyScore.unit_id)
            .where(MonthlyScore.month >= months[0], MonthlyScore.month <= months[-1], under)
        ):  # fmt: skip
            if month >= current_month:
                continue  # the current month is scored now, as the 总览 does
            stored_months.add(month)
            lines.append(ScoreLine(month, uid, name, getattr(kind, "value", kind), score, rank or 0, size or 0,
                                   monthly_strings.group_label(group or "", kinds), bool(lagging), exp or {}, True))  # fmt: skip
    for month in (m for m in months if m not in stored_months):
        data = month_data(month)
        if data.stored:
            continue  # stored scores, none of them under the unit (its units came later)
        view = overview.view_of(data, scope)
        for uid, u in view.units.items():
            row = view.branches.get(uid) or view.committees.get(uid)
            if row is None or not u.path.startswith(unit.path):
                continue
            lines.append(ScoreLine(month, uid, row.name, getattr(row.kind, "value", row.kind), row.score, row.rank,
                                   row.group_size, monthly_strings.group_label(row.peer_group, kinds), row.lagging,
                                   data.explanations.get(uid, {}), False))  # fmt: skip
    lines.sort(key=lambda s: (-s.month.toordinal(), s.kind == UnitKind.BRANCH, not s.lagging,
                              s.score if s.score is not None else -1.0, s.name))  # fmt: skip
    return ScoresLedger(unit, period, months, lines, _escalations(session, under, months))


def _escalations(session: Session, under, months: list[date]) -> list[EscalationLine]:
    if not months:
        return []
    rows = session.execute(
        select(Escalation, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == Escalation.unit_id)
        .where(Escalation.month >= months[0], Escalation.month <= months[-1], under)
        .order_by(Escalation.month.desc(), Escalation.rung.desc(), Escalation.id)
    ).all()
    people: set[int] = set()
    for esc, _ in rows:
        d = esc.detail or {}
        people.update(int(p) for p in [*d.get("to", []), *d.get("cc", [])])
        if esc.ladder not in UNIT_LADDERS:
            people.add(esc.subject_id)
        if esc.acknowledged_by_id:
            people.add(esc.acknowledged_by_id)
    names = (
        dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(people))).all())
        if people
        else {}
    )
    out = []
    for esc, unit_name in rows:
        ladder = Ladder(esc.ladder)
        d = esc.detail or {}
        subject = unit_name if ladder in UNIT_LADDERS else names.get(esc.subject_id, d.get("name", ""))
        rung_key = ladder.value if ladder in UNIT_LADDERS else "member"
        told = [names.get(int(p), "") for p in [*d.get("to", []), *d.get("cc", [])]]
        out.append(
            EscalationLine(
                esc.id, monthly_strings.LADDER_LABELS.get(ladder.value, ladder.value),
                monthly_strings.rung_text(rung_key, esc.rung), esc.month, esc.streak, esc.unit_id, unit_name,
                subject, [n for n in told if n], esc.created_at,
                ACK_LABELS.get(AckKind(esc.ack_kind), "") if esc.ack_kind else ("已确认" if esc.acknowledged_at else ""),
                names.get(esc.acknowledged_by_id, "") if esc.acknowledged_by_id else "", esc.acknowledged_at,
                esc.ended_month,
            )
        )  # fmt: skip
    return out
