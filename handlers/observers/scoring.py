"""The figures the monthly scoring reads (read-only, one query each, safe at county scale):

- observer_scores(session, month, cfg, branch_ids=None)     → {branch_id: BranchObserverScore}
- rectification_timeliness(session, month, cfg, branch_ids) → {branch_id: RectificationTimeliness}
- severe_outcomes(session, month, cfg, branch_ids=None)     → {branch_id: SevereOutcomes}

Months are `date`s (any day of the month; the first is customary) in the configured zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.common import dates
from handlers.observers.forms import ObserversConfig
from handlers.observers.periods import day_start_utc, local_day
from models.observers import Observation, Outcome, Rectification, RectificationStatus


@dataclass(frozen=True)
class BranchObserverScore:
    forms: int  # forms for meetings held in the month
    average_percent: float  # mean of total / max_total × 100 over those forms
    lowest_grade: str  # the worst grade among them


@dataclass(frozen=True)
class RectificationTimeliness:
    due: int  # items whose deadline fell in the month
    closed_on_time: int  # of those, confirmed by the observer on or before the deadline
    open_overdue: int  # of those, still not closed (as of the query)


@dataclass(frozen=True)
class SevereOutcomes:
    stops: int  # 叫停 on meetings held in the month
    reopens: int  # 责令重开 on meetings held in the month


def _month_utc(month: date, cfg: ObserversConfig) -> tuple[datetime, datetime]:
    start, end = dates.period_bounds(month, 1)
    return day_start_utc(start, cfg), day_start_utc(end, cfg)


def observer_scores(
    session: Session, month: date, cfg: ObserversConfig, *, branch_ids: list[int] | None = None
) -> dict[int, BranchObserverScore]:
    """Observer quality score per branch for meetings held in `month` (local). Branches without a form are absent."""
    lo, hi = _month_utc(month, cfg)
    stmt = select(Observation.branch_id, Observation.total, Observation.max_total, Observation.grade).where(
        Observation.meeting_starts_at >= lo, Observation.meeting_starts_at < hi
    )
    if branch_ids is not None:
        stmt = stmt.where(Observation.branch_id.in_(branch_ids))
    acc: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for b, total, max_total, grade in session.execute(stmt):
        acc[b].append((100.0 * total / max_total if max_total else 0.0, grade))
    order = [g for _, g in cfg.form.grades] + [cfg.form.lowest_grade]

    def worst(grades: Iterable[str]) -> str:
        return max(grades, key=lambda g: order.index(g) if g in order else len(order))

    return {
        b: BranchObserverScore(len(v), round(sum(p for p, _ in v) / len(v), 2), worst(g for _, g in v))
        for b, v in acc.items()
    }


def rectification_timeliness(
    session: Session, month: date, cfg: ObserversConfig, *, branch_ids: list[int] | None = None
) -> dict[int, RectificationTimeliness]:
    """Rectification items due in `month` per branch: how many, closed on time, still open."""
    start, end = dates.period_bounds(month, 1)
    stmt = select(
        Rectification.branch_id, Rectification.status, Rectification.closed_at, Rectification.due_on
    ).where(Rectification.due_on >= start, Rectification.due_on < end)
    if branch_ids is not None:
        stmt = stmt.where(Rectification.branch_id.in_(branch_ids))
    acc: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for b, status, closed_at, due_on in session.execute(stmt):
        acc[b][0] += 1
        if (
            status == RectificationStatus.CLOSED
            and closed_at is not None
            and local_day(closed_at, cfg) <= due_on
        ):
            acc[b][1] += 1
        if status != RectificationStatus.CLOSED:
            acc[b][2] += 1
    return {b: RectificationTimeliness(*v) for b, v in acc.items()}


def severe_outcomes(
    session: Session, month: date, cfg: ObserversConfig, *, branch_ids: list[int] | None = None
) -> dict[int, SevereOutcomes]:
    """叫停 and 责令重开 per branch for meetings held in `month`. Branches with neither are absent."""
    lo, hi = _month_utc(month, cfg)
    stmt = (
        select(Observation.branch_id, Observation.outcome, func.count())
        .where(
            Observation.meeting_starts_at >= lo,
            Observation.meeting_starts_at < hi,
            Observation.outcome.in_([Outcome.STOP, Outcome.REOPEN]),
        )
        .group_by(Observation.branch_id, Observation.outcome)
    )
    if branch_ids is not None:
        stmt = stmt.where(Observation.branch_id.in_(branch_ids))
    acc: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for b, outcome, n in session.execute(stmt):
        acc[b][0 if outcome == Outcome.STOP else 1] += n
    return {b: SevereOutcomes(*v) for b, v in acc.items()}
