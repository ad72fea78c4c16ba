"""The proposal: a branch's year read from what is stored (monthly_score rows since the start month, open
rectifications), then the rule of handlers/rating/config.py as a pure function, reasons in Chinese."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from handlers.lifemeeting import strings as life_strings
from handlers.lifemeeting.config import DEFAULT as LIFE
from handlers.lifemeeting.config import LifeMeetingConfig
from handlers.lifemeeting.status import org_life_meetings
from handlers.rating import strings
from handlers.rating.config import RatingConfig
from models import startmonth
from models.meetings import Minutes
from models.monthly import MonthlyScore
from models.observers import Rectification, RectificationStatus
from models.rating import GRADE_LABELS, GRADE_ORDER, RatingGrade


@dataclass(frozen=True)
class MonthFacts:
    """What one stored month says about the branch (read from monthly_score and its explanation)."""

    month: date
    score: float
    lagging: bool
    meetings_missing: bool  # a required meeting type not held (credit below what was required)
    minutes_late: int
    stops: int
    reopens: int


@dataclass
class Year:
    branch_id: int
    year: int
    start: date | None  # the start month, when it falls in this year (earlier months count for nothing)
    months: list[MonthFacts] = field(default_factory=list)
    overdue_rectifications: int = 0
    year_over: bool = True  # False: the year under way (rectifications are counted as of today)
    # The 组织生活会 (domain.md rule 6, yearly): False once the year is over without one recorded, for a branch
    # on zhibu through its window (Q4); None: not known or not yet due.
    org_life_held: bool | None = None


@dataclass(frozen=True)
class Proposal:
    grade: RatingGrade | None
    sentences: list[str]
    figures: dict

    def as_json(self) -> dict:
        return {"sentences": self.sentences, "figures": self.figures}

    @property
    def summary(self) -> str:
        return "；".join(self.sentences)


def facts(month: date, score: float, lagging: bool, explanation: dict) -> MonthFacts:
    counts: dict[str, int] = defaultdict(int)
    meetings_missing = False
    for item in explanation.get("missing") or ():
        key = item.get("key")
        if key == "meeting":
            meetings_missing = True
        elif key in ("minutes_late", "stop", "reopen"):
            counts[key] += int(item.get("count") or 0)
    return MonthFacts(
        month,
        float(score),
        bool(lagging),
        meetings_missing,
        counts["minutes_late"],
        counts["stop"],
        counts["reopen"],
    )


def _at_most(grade: RatingGrade, cap: RatingGrade) -> RatingGrade:
    return GRADE_ORDER[max(GRADE_ORDER.index(grade), GRADE_ORDER.index(cap))]


def propose(y: Year, cfg: RatingConfig) -> Proposal:
    """The rule on one branch's year: no statement, nothing written."""
    if not y.months:
        return Proposal(None, [strings.NO_MONTHS.format(year=y.year)], {"months": 0})
    n = len(y.months)
    mean = round(sum(m.score for m in y.months) / n, 1)
    poor = sum(m.score < cfg.poor_month_below for m in y.months)
    lagging = sum(m.lagging for m in y.months)
    weak = sum(m.score < cfg.poor_month_below or m.lagging for m in y.months)
    stops, reopens = sum(m.stops for m in y.months), sum(m.reopens for m in y.months)
    irregular = sum(m.meetings_missing for m in y.months)
    late = sum(bool(m.minutes_late) for m in y.months)

    if mean < cfg.poor_mean or weak >= cfg.poor_weak_months:
        base = RatingGrade.POOR
    elif mean >= cfg.good_mean and weak <= cfg.good_max_weak_months:
        base = RatingGrade.GOOD
    elif mean >= cfg.fairly_good_mean and weak <= cfg.fairly_good_max_weak_months:
        base = RatingGrade.FAIRLY_GOOD
    else:
        base = RatingGrade.AVERAGE

    first = (
        strings.MONTHS_FROM_START.format(n=n, start=y.start.month, mean=mean)
        if y.start is not None and y.start.month > 1
        else strings.MONTHS.format(n=n, mean=mean)
    )
    if weak:
        weak_parts = [strings.POOR_MONTHS.format(n=poor, below=cfg.poor_month_below)] * bool(poor) + [
            strings.LAGGING_MONTHS.format(n=lagging)
        ] * bool(lagging)  # only what happened: no "0个月低于60分"
        first += "，" + "，".join(weak_parts)
    sentences = [first]
    caps: list[str] = []
    if stops or reopens:
        caps.append("not_serious")
        what = [strings.STOPS.format(n=stops)] * bool(stops) + [strings.REOPENS.format(n=reopens)] * bool(
            reopens
        )
        sentences.append(strings.NOT_SERIOUS.format(what="、".join(what)))
    if irregular >= cfg.irregular_months:
        caps.append("not_regular")
        sentences.append(strings.IRREGULAR.format(n=irregular))
    if late >= cfg.late_minutes_months:
        caps.append("not_standard")
        sentences.append(strings.IRREGULAR_RECORDS.format(n=late))
    if y.org_life_held is False:
        # The 条例's one yearly 组织生活会 not held at all: 组织生活不经常 in seed 001's sense, so it caps like
        # the months of meetings not held above.
        caps.append("no_org_life")
        sentences.append(life_strings.RATING_NOT_HELD)
    grade = base
    if caps:
        sentences[-1] += "，" + strings.CAPPED
        grade = _at_most(grade, RatingGrade.AVERAGE)
    if y.overdue_rectifications >= cfg.overdue_rectifications:
        text = strings.OVERDUE if y.year_over else strings.OVERDUE_NOW
        sentences.append(text.format(n=y.overdue_rectifications))
        grade = _at_most(grade, RatingGrade.FAIRLY_GOOD)
    sentences.append(strings.PROPOSE.format(grade=GRADE_LABELS[grade]))
    figures = {
        "months": n,
        "first_month": f"{y.months[0].month:%Y-%m}",
        "last_month": f"{y.months[-1].month:%Y-%m}",
        "mean": mean,
        "poor_months": poor,
        "lagging_months": lagging,
        "weak_months": weak,
        "stops": stops,
        "reopens": reopens,
        "meetings_missing_months": irregular,
        "minutes_late_months": late,
        "overdue_rectifications": y.overdue_rectifications,
        "caps": caps,
        "org_life_held": y.org_life_held,
        "base_grade": base.value,
    }
    return Proposal(grade, sentences, figures)


def load_years(
    session: Session,
    branch_ids: list[int],
    year: int,
    *,
    today: date,
    tz: ZoneInfo,
    unstored: dict[int, MonthFacts] | None = None,
    final: bool = False,
    life: LifeMeetingConfig | None = None,
) -> dict[int, Year]:
    """Each branch's stored year: two statements (the scores, the open rectifications) for any number.
    `unstored`: a month computed but not stored yet (December, on the morning of 1 January: see jobs.py),
    in place of what is stored for it. `final`: the committee may already confirm the year (a county that
    rates in late December, RatingConfig.confirm_days_early), so the 组织生活会 cap applies as of today.
    `life`: the organisation's 组织生活会 rules (lifemeeting_config; None: the defaults in `tz`)."""
    start = startmonth.start_month(session)
    lo = date(year, 1, 1)
    if start is not None and start > lo:
        lo = start
    years = {b: Year(b, year, start if start and start.year == year else None) for b in branch_ids}
    if not branch_ids:
        return years
    if start is not None and lo.year == year:
        rows = session.execute(
            select(
                MonthlyScore.unit_id,
                MonthlyScore.month,
                MonthlyScore.score,
                MonthlyScore.lagging,
                MonthlyScore.explanation,
            )
            .where(
                MonthlyScore.unit_id.in_(branch_ids),
                MonthlyScore.month >= lo,
                MonthlyScore.month < date(year + 1, 1, 1),
            )
            .order_by(MonthlyScore.unit_id, MonthlyScore.month)
        )
        for unit_id, month, score, lagging, explanation in rows:
            if unstored and unit_id in unstored and unstored[unit_id].month == month:
                continue
            years[unit_id].months.append(facts(month, score, lagging, explanation or {}))
        for unit_id, f in (unstored or {}).items():
            if unit_id in years and f.month >= lo and f.month.year == year:
                years[unit_id].months.append(f)
    # Open past the deadline at the year's end (today, for the year under way): not closed by then.
    year_end = date(year, 12, 31)
    as_of = min(year_end, today)
    over = as_of == year_end and today > year_end
    cutoff = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    for (branch_id,) in session.execute(
        select(Rectification.branch_id).where(
            Rectification.branch_id.in_(branch_ids),
            Rectification.due_on < as_of,
            Rectification.due_on >= lo,
            or_(
                Rectification.status != RectificationStatus.CLOSED,
                Rectification.closed_at.is_(None),
                Rectification.closed_at >= cutoff,
            ),
        )
    ):
        years[branch_id].overdue_rectifications += 1
    for y in years.values():
        y.year_over = over
    cfg = life or replace(LIFE, tz=tz)
    if (over or final) and start is not None and start <= date(year, min(cfg.digest_months), 1):
        # Held = its minutes recorded (the year is over: a meeting without them by now was not held).
        held = {
            bid for bid, *_ in session.execute(
                org_life_meetings(session, branch_ids, year, cfg).where(Minutes.id.is_not(None))
            )
        }  # fmt: skip
        for bid, y in years.items():
            y.org_life_held = bid in held
    return years
