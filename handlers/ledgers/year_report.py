"""The year-end report to the 党员大会 (seed 001 年底党员大会通报): a branch's year as a .docx, and the committee's roll-up.

Seed 001: 党支部每年底要召开一次党员大会，通报年度组织生活开展情况，查找存在问题、听取意见建议. The secretary
reads the branch's report out; the committee gets one row per branch (an .xlsx: the roll-up is a table
the committee sorts, filters and annotates, and each branch's prose is in its own .docx).

No figure is counted here a second time. Each comes from the query the console and the ledgers already
show it with, for the branches of the unit at once:

* meetings required and credited per type: the monthly score's explanation (handlers.monthly.scoring,
  stored by the monthly run, or the 总览's month scored now: handlers.console.overview.MonthData), as the
  月积分台账 reads it; held per type: the 组织生活纪实台账's lines (overview.branches_meetings);
* attendance, leave, absences without reason and 补学: the 纪实台账's meetings that count;
* 党费: the 党费台账 (handlers.ledgers.fees, arrears_counts behind it); the use of 党费 is not recorded
  anywhere in zhibu, and the report says so rather than print a zero;
* observer visits, outcomes, coverage and rectifications: the 观察员台账 (handlers.ledgers.observers);
* 谈心谈话: handlers.talks.coverage; the yearly rating: the committee's decision (models.rating) or, while
  undecided, the proposal worked out now (handlers.rating.proposal), never written from here;
* the monthly points: the stored monthly scores, the current month the 总览's;
* 组织生活会: handlers.lifemeeting.status.branch_status (held as the points count it, the steps before it, the
  整改措施); 书记项目: handlers.projects.library.units_year (the branch's projects, milestones, the committee's
  decided 红旗/蜗牛, 督办单); 民主评议党员: handlers.appraisal.grades.branch_years (turnout and the decided grades
  counted, never a ballot nor a voter).

Months before the start month (models.startmonth) count for nothing, as in the rating.

The ledgers sit above every feature (pyproject's import contracts), so the three yearly features' sections
are read here directly, each for all the branches at once, and printed after the rating (a Section each, whose
problems join 存在问题). Nothing here writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.appraisal import grades as appraisal_grades
from handlers.appraisal import service as appraisal_service
from handlers.appraisal import strings as appraisal_strings
from handlers.common.dates import fmt_full_day, fmt_month, fmt_months
from handlers.console import overview
from handlers.console.scope import Scope
from handlers.fees.policy import Policy, PolicyBook
from handlers.ledgers import fees as fees_ledger
from handlers.ledgers import meetings as meetings_ledger
from handlers.ledgers import observers as observers_ledger
from handlers.ledgers import year_report_strings as S
from handlers.ledgers.document import Styles, a4_document, docx_bytes, heading, kv, table
from handlers.ledgers.period import LedgerPeriod
from handlers.ledgers.workbook import Sheet, xlsx_bytes
from handlers.lifemeeting.config import DEFAULT as LIFEMEETING
from handlers.lifemeeting.config import STEPS, LifeMeetingConfig
from handlers.lifemeeting.status import BranchLife, branch_status, names_of
from handlers.lifemeeting.strings import STEP_LABELS
from handlers.meetings.strings import TYPE_LABELS
from handlers.meetings.types import MeetingsConfig, local_day
from handlers.monthly.config import MonthlyConfig
from handlers.observers.forms import ObserversConfig
from handlers.observers.strings import OUTCOME_LABELS
from handlers.projects import library as projects_library
from handlers.projects.strings import STATUS_LABELS as PROJECT_STATUS
from handlers.rating.config import RatingConfig
from handlers.rating.proposal import load_years, propose
from handlers.rating.service import confirm_opens
from handlers.talks.config import TalksConfig
from handlers.talks.coverage import BranchTalks
from handlers.talks.coverage import coverage as talks_coverage
from models import startmonth
from models.appraisal import GRADE_LABELS as APPRAISAL_GRADES
from models.appraisal import GRADE_ORDER as APPRAISAL_ORDER
from models.appraisal import HANDLING_LABELS
from models.meetings import MeetingType
from models.monthly import MonthlyScore
from models.observers import Outcome, RectificationStatus
from models.org import OrgUnit, UnitKind
from models.projects import PickKind, ProjectStatus
from models.rating import GRADE_LABELS, GRADE_ORDER, BranchRating, RatingGrade
from models.seed.names import ordinal  # 一 … 九十九, the seed's unit names' numerals

# The units the page offers a roll-up of (any unit has one: the branches at or under it).
ROLLUP_UNITS = (UnitKind.COMMITTEE, UnitKind.GENERAL_BRANCH)
ARREARS_NAMED = 3  # a run of unpaid months this long is named among the problems (the secretary is told at 3)
ZERO = Decimal("0")


class NotABranch(ValueError):
    """A branch's report was asked of another kind of unit."""


@dataclass(frozen=True)
class Rules:
    """The features' rules the report reads (each feature's config, as the composition root built it)."""

    meetings: MeetingsConfig
    monthly: MonthlyConfig
    observers: ObserversConfig
    talks: TalksConfig
    rating: RatingConfig
    fees: Policy | None = None
    lifemeeting: LifeMeetingConfig | None = None  # None: the defaults in the meetings' zone

    @property
    def life(self) -> LifeMeetingConfig:
        return self.lifemeeting or replace(LIFEMEETING, tz=self.meetings.tz)


# --- the yearly features' parts ---------------------------------------------------------------------------


@dataclass
class Section:
    """A part of the report a yearly feature contributes (组织生活会, 民主评议党员, 书记项目): a heading and
    any of key-value pairs, a table and paragraphs, plus the problems it found for 存在问题."""

    title: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --- a branch's year --------------------------------------------------------------------------------------


@dataclass
class TypeLine:
    type: str  # MeetingType value
    required: float = 0.0
    credited: float = 0.0
    held: int = 0
    # Done by a record the monthly score does not read (民主评议党员 decided by the 支部大会 without a
    # meeting of that type): shown as done, with this note, so the table and 存在问题 agree with the section.
    note: str = ""
    running_short: float = 0.0  # of the shortfall, what the month under way still owes (it may yet be held)

    @property
    def label(self) -> str:
        return TYPE_LABELS.get(MeetingType(self.type), self.type) if self.type in _TYPES else self.type

    @property
    def short(self) -> float:
        return max(0.0, self.required - self.credited)


_TYPES = {t.value for t in MeetingType}


@dataclass
class ScorePoint:
    month: date
    score: float | None
    rank: int
    group_size: int
    lagging: bool
    explanation: dict
    running: bool = False  # the month under way: shown, marked, and left out of the mean and lagging


@dataclass
class CoverageLine:
    period: str
    observed: int
    required: int
    running: bool

    @property
    def covered(self) -> bool:
        return self.observed >= self.required


@dataclass
class RectLine:
    text: str
    observer: str
    due_on: date
    status: str
    open: bool
    overdue: bool


@dataclass
class RatingLine:
    grade: RatingGrade | None
    confirmed: bool
    reasons: list[str]
    change_reason: str = ""

    @property
    def text(self) -> str:
        if self.grade is None:
            return S.RATING_NONE
        label = GRADE_LABELS[self.grade]
        return (S.RATING_CONFIRMED if self.confirmed else S.RATING_PROPOSED).format(grade=label)


@dataclass
class BranchYear:
    """Everything the branch's report says, each figure from its feature's own query."""

    branch: OrgUnit
    year: int
    as_of: date  # the last day counted: 31 December, or today for the year under way
    first_month: date | None  # the first month counted (the start month when later than January)
    last_month: date | None
    started_late: date | None  # the start month, when it falls after January of this year
    members: int = 0
    types: list[TypeLine] = field(default_factory=list)
    # Attendance of the meetings that count (the 纪实台账's lines).
    expected: int = 0
    present: int = 0
    leave: int = 0
    absent: Counter = field(default_factory=Counter)  # name → absences without reason
    makeup_total: int = 0
    makeup_done: int = 0
    fees: fees_ledger.MonthSummary | None = None
    fee_runs: list[tuple[str, int]] = field(default_factory=list)  # (name, consecutive unpaid months)
    fee_unknown: bool = False
    fee_pending: date | None = None  # the fee day of the month under way, while it is still to come
    fee_untracked: int = 0  # member-months counted for nothing: before zhibu tracked the member's 党费
    visits: int = 0
    visit_mean: float | None = None
    outcomes: Counter = field(default_factory=Counter)  # Outcome → forms
    coverage: list[CoverageLine] = field(default_factory=list)
    rects: list[RectLine] = field(default_factory=list)
    talks: BranchTalks | None = None
    scores: list[ScorePoint] = field(default_factory=list)
    plans_late: int = 0
    minutes_late: int = 0
    rating: RatingLine | None = None
    extra: list[Section] = field(default_factory=list)
    running_month: date | None = None  # the month under way, when the year includes it

    @property
    def required(self) -> float:
        return sum(t.required for t in self.types)

    @property
    def credited(self) -> float:
        return sum(t.credited for t in self.types)

    @property
    def meetings_rate(self) -> float | None:
        return self.credited / self.required if self.required else None

    @property
    def attendance_rate(self) -> float | None:
        return self.present / self.expected if self.expected else None

    @property
    def absences(self) -> int:
        return sum(self.absent.values())

    @property
    def makeup_open(self) -> int:
        return self.makeup_total - self.makeup_done

    @property
    def stops(self) -> int:
        return self.outcomes[Outcome.STOP]

    @property
    def reopens(self) -> int:
        return self.outcomes[Outcome.REOPEN]

    @property
    def rects_open(self) -> int:
        return sum(r.open for r in self.rects)

    @property
    def rects_overdue(self) -> int:
        return sum(r.overdue for r in self.rects)

    @property
    def score_mean(self) -> float | None:
        """The mean of the months that ended (the rating's own: a month under way is not yet a score)."""
        scored = [p.score for p in self.scores if p.score is not None and not p.running]
        return round(sum(scored) / len(scored), 1) if scored else None

    @property
    def lagging_months(self) -> int:
        return sum(p.lagging and not p.running for p in self.scores)

    @property
    def in_use(self) -> bool:
        """Whether zhibu was in use in this year at all (a month at or after the start month)."""
        return self.first_month is not None

    @property
    def problems(self) -> list[str]:
        return problems(self)


def year_reports(
    session: Session,
    scope: Scope,
    unit: OrgUnit,
    year: int,
    *,
    now: datetime,
    rules: Rules,
    month_data: Callable[[date], overview.MonthData] | None = None,
) -> list[BranchYear]:
    """The years of the branches at or under `unit` that the viewer leads (a branch: itself), in the tree's
    order. Only those who lead the unit (its 书记/副书记/组织委员, a 党委 above it, 组织部) get it: an observer,
    who sees a branch read-only, does not (overview.NotInScope, as outside the scope). ValueError: a year
    that has not begun. `month_data`: the console's month (ConsoleApp.month_data, from its MonthCache);
    None builds it here."""
    if not unit.active or not scope.can_edit_unit(unit):
        raise overview.NotInScope(unit.id)
    cfg = rules.meetings
    current = overview.current_month(now, cfg)
    period = LedgerPeriod(date(year, 1, 1), 12)
    if period.start > current:
        raise ValueError(S.FUTURE_YEAR)
    today = local_day(now, cfg)
    start = startmonth.start_month(session)
    months = [m for m in period.month_list(until=current) if start is None or m >= start]
    branches = _branches(session, scope, unit)
    if not branches:
        return []
    ids = [b.id for b in branches]
    years = {
        b.id: BranchYear(
            b, year, as_of(year, now=now, cfg=cfg), months[0] if months else None, months[-1] if months else None,
            start if start is not None and start.year == year and start.month > 1 else None,
        )
        for b in branches
    }  # fmt: skip
    if month_data is None:

        def month_data(month: date) -> overview.MonthData:
            return overview.build_month_data(
                session, month, now=now, mcfg=rules.monthly, cfg=cfg, ocfg=rules.observers
            )

    _scores(session, years, months, current, month_data)
    _observers(session, scope, unit, period, years, months, now=now, cfg=rules.observers)
    _fees(session, scope, unit, period, years, current=current, today=today, rules=rules)
    if months:  # a year wholly before the start month asked no talks of anyone either
        _talks(session, years, year, rules.talks)
    _ratings(session, years, year, today=today, rules=rules)
    if months:  # nothing was asked of a year wholly before the start month
        _life(session, years, year, now=now, today=today, rules=rules)
        _appraisal(session, years, year, now=now, today=today, tz=cfg.tz)
        _projects(session, years, year, today=today)
    # Last: the ledgers' batches empty the session after each (units_meetings_ledgers), which the
    # reads above would otherwise load again.
    _meetings(session, scope, years, period, months, now=now, cfg=cfg, current=current)
    return [years[b] for b in ids]


def as_of(year: int, *, now: datetime, cfg: MeetingsConfig) -> date:
    """The last day a year's report counts: 31 December, or today for the year under way."""
    return min(date(year, 12, 31), local_day(now, cfg))


def branch_year(
    session: Session, scope: Scope, branch: OrgUnit, year: int, *, now: datetime, rules: Rules,
    month_data: Callable[[date], overview.MonthData] | None = None,
) -> BranchYear:  # fmt: skip
    if branch.kind != UnitKind.BRANCH:
        if not scope.can_edit_unit(branch):
            raise overview.NotInScope(branch.id)
        raise NotABranch(S.NOT_A_BRANCH)
    return year_reports(session, scope, branch, year, now=now, rules=rules, month_data=month_data)[0]


def _branches(session: Session, scope: Scope, unit: OrgUnit) -> list[OrgUnit]:
    return list(
        session.scalars(
            select(OrgUnit)
            .where(
                OrgUnit.kind == UnitKind.BRANCH,
                OrgUnit.active.is_(True),
                OrgUnit.path.startswith(unit.path),
                scope.unit_clause(editable=True),
            )
            .order_by(OrgUnit.path)
        )
    )


def _scores(
    session: Session,
    years: dict[int, BranchYear],
    months: list[date],
    current: date,
    month_data: Callable[[date], overview.MonthData],
) -> None:
    """Each month's score as the 月积分台账 reads it: the stored row of a closed month, else the 总览's month."""
    if not months:
        return
    ids = list(years)
    stored: dict[int, dict[date, ScorePoint]] = {b: {} for b in ids}
    for uid, month, score, rank, size, lagging, exp in session.execute(
        select(
            MonthlyScore.unit_id, MonthlyScore.month, MonthlyScore.score, MonthlyScore.rank,
            MonthlyScore.group_size, MonthlyScore.lagging, MonthlyScore.explanation,
        ).where(
            MonthlyScore.unit_id.in_(ids), MonthlyScore.month >= months[0], MonthlyScore.month <= months[-1],
            MonthlyScore.month < current,
        )
    ):  # fmt: skip
        stored[uid][month] = ScorePoint(month, score, rank or 0, size or 0, bool(lagging), exp or {})
    built: dict[date, overview.MonthData] = {}
    for bid, by in years.items():
        for month in months:
            point = stored[bid].get(month)
            if point is None:
                data = built.get(month)
                if data is None:
                    data = built[month] = month_data(month)
                row = None if data.stored else data.branches.get(bid)
                if row is not None:
                    point = ScorePoint(month, row.score, row.rank, row.group_size, row.lagging,
                                       data.explanations.get(bid, {}), running=month >= current)  # fmt: skip
            if point is not None:
                by.scores.append(point)
        types: dict[str, TypeLine] = {}
        for p in by.scores:
            if p.running:
                by.running_month = p.month
            for item in p.explanation.get("meetings") or ():
                line = types.setdefault(item["type"], TypeLine(item["type"]))
                required, credit = float(item.get("required") or 0), float(item.get("credit") or 0)
                line.required += required
                line.credited += credit
                if p.running:
                    line.running_short += max(0.0, required - credit)
            plan = p.explanation.get("plan") or {}
            by.plans_late += "plan" in p.explanation and not plan.get("on_time")
            by.minutes_late += int((p.explanation.get("minutes") or {}).get("late") or 0)
        order = list(TYPE_LABELS)
        by.types = sorted(
            types.values(),
            key=lambda t: order.index(MeetingType(t.type)) if t.type in _TYPES else len(order),
        )


def _meetings(
    session: Session,
    scope: Scope,
    years: dict[int, BranchYear],
    period: LedgerPeriod,
    months: list[date],
    *,
    now: datetime,
    cfg: MeetingsConfig,
    current: date,
) -> None:
    """Held per type, attendance and 补学 from the 纪实台账's meetings of the counted months."""
    if not months:
        return
    for ledger in meetings_ledger.units_meetings_ledgers(
        session, scope, list(years), period, now=now, cfg=cfg, current_month=current
    ):
        by = years[ledger.branch.id]
        held: Counter = Counter()
        for block in ledger.months:
            if block.month < months[0]:
                continue
            for e in block.meetings:
                if not e.line.counts:
                    continue  # cancelled or ordered reconvened: neither held nor its sign-ins
                if e.line.held:
                    held.update(set(e.line.types))
                by.expected += e.line.attendance
                by.present += e.line.present
                by.leave += e.line.leave
                by.absent.update(e.absent)
                by.makeup_total += len(e.makeups)
                by.makeup_done += sum(mk.done for mk in e.makeups)
        lines = {t.type: t for t in by.types}
        for t, n in held.items():
            if t in lines:
                lines[t].held = n
            else:  # held but owed nothing (a type the branch is not asked for): shown, required 0
                by.types.append(TypeLine(t, held=n))


def _fees(
    session: Session,
    scope: Scope,
    unit: OrgUnit,
    period: LedgerPeriod,
    years: dict[int, BranchYear],
    *,
    current: date,
    today: date,
    rules: Rules,
) -> None:
    """The 党费台账's year, but for the month under way before its fee day has passed (the day itself
    included): the ledger, like the monthly score, counts that month unpaid from its first day, yet nobody
    is in arrears for a month whose 党费交纳日 is still to come. Such a month's unpaid entries count for
    nothing here (its payments already made still count as paid) and the runs end with the month before."""
    ledger = fees_ledger.fees_ledger(
        session, scope, unit, period, current_month=current, tz=rules.meetings.tz, default=rules.fees
    )
    pending: set[int] = set()  # branches whose current month is not yet due
    if current in ledger.months:
        book = PolicyBook(session, [current], rules.fees)
        for bid, by in years.items():
            fd = book.fee_day(by.branch.ancestor_ids(), current)
            if today <= fd.day:
                pending.add(bid)
                by.fee_pending = fd.day
    for b in ledger.branches:
        if b.branch_id in years:
            years[b.branch_id].fees = fees_ledger.MonthSummary(b.months[0].month if b.months else date.min)
            years[b.branch_id].members = b.members
    for m in ledger.members:
        by = years.get(m.branch_id)
        if by is None:
            continue
        not_due = m.branch_id in pending
        for fm in m.months:
            if not (not_due and fm.month == current and fm.state == fees_ledger.UNPAID):
                by.fees.add(fm)  # type: ignore[union-attr]
            if (
                fm.state == fees_ledger.UNTRACKED
                and by.first_month is not None
                and fm.month >= by.first_month
            ):
                by.fee_untracked += 1
        run = m.run.months if m.run is not None else 0
        last = m.months[-1] if m.months else None
        if not_due and last is not None and last.month == current and last.state == fees_ledger.UNPAID:
            run -= 1  # the run as it stood at the end of the month before
        if run > 0:
            by.fee_runs.append((m.name, run))
        by.fee_unknown = by.fee_unknown or m.unknown_amount
    for by in years.values():
        by.fee_runs.sort(key=lambda r: (-r[1], r[0]))


def _observers(
    session: Session,
    scope: Scope,
    unit: OrgUnit,
    period: LedgerPeriod,
    years: dict[int, BranchYear],
    months: list[date],
    *,
    now: datetime,
    cfg: ObserversConfig,
) -> None:
    ledger = observers_ledger.observers_ledger(session, scope, unit, period, now=now, cfg=cfg)
    totals: dict[int, list[int]] = {}
    for o in ledger.observations:
        by = years.get(o.branch_id)
        if by is None:
            continue
        by.visits += 1
        by.outcomes[o.outcome] += 1
        if o.max_total:
            totals.setdefault(o.branch_id, []).append(round(100 * o.total / o.max_total))
    for bid, scores in totals.items():
        years[bid].visit_mean = round(sum(scores) / len(scores), 1)
    for r in ledger.rectifications:
        by = years.get(r.branch_id)
        if by is not None:
            by.rects.append(
                RectLine(r.text, r.observer, r.due_on, r.status_label, r.status != RectificationStatus.CLOSED,
                         r.overdue)
            )  # fmt: skip
    first = months[0] if months else None
    for block in ledger.coverage:
        # A coverage period wholly before the start month asked nothing of anyone.
        if first is None or block.as_of < first:
            continue
        for c in block.rows:
            by = years.get(c.branch_id)
            if by is not None:
                by.coverage.append(CoverageLine(block.name, c.observed, c.required, block.running))


def _talks(session: Session, years: dict[int, BranchYear], year: int, cfg: TalksConfig) -> None:
    for bid, row in talks_coverage(session, list(years), year, cfg).items():
        years[bid].talks = row


def _ratings(session: Session, years: dict[int, BranchYear], year: int, *, today: date, rules: Rules) -> None:
    """The committee's grade, or while it has not decided, the proposal as the ratings page would make it
    now (handlers.rating.proposal, the same rule; the row itself is the ratings page's to write)."""
    decided = {
        r.branch_id: r
        for r in session.scalars(
            select(BranchRating).where(
                BranchRating.branch_id.in_(list(years)),
                BranchRating.year == year,
                BranchRating.confirmed_grade.is_not(None),
            )
        )
    }
    for bid, r in decided.items():
        years[bid].rating = RatingLine(
            r.confirmed_grade, True, list((r.proposal or {}).get("sentences") or []), r.change_reason or ""
        )
    undecided = [b for b in years if b not in decided]
    if undecided:
        # As the ratings page: once the committee may confirm (confirm_days_early), the year-end caps apply.
        final = today >= confirm_opens(year, rules.rating)
        loaded = load_years(
            session, undecided, year, today=today, tz=rules.meetings.tz, final=final, life=rules.life
        )
        for bid, y in loaded.items():
            p = propose(y, rules.rating)
            years[bid].rating = RatingLine(p.grade, False, p.sentences)


def _short(by: BranchYear, t: MeetingType) -> bool:
    """The meetings' part already names this type's shortfall (then a section does not say it again)."""
    return any(line.type == t.value and line.short > 1e-6 for line in by.types)


def _settle(by: BranchYear, t: MeetingType, note: str) -> None:
    """Count a type as done that a feature's own record shows done while the monthly score credits it less
    (民主评议党员 decided by the 支部大会 with no meeting recorded as that type): one document, one answer."""
    for line in by.types:
        if line.type == t.value and line.short > 1e-6:
            line.credited, line.note = line.required, note


def _life(
    session: Session, years: dict[int, BranchYear], year: int, *, now: datetime, today: date, rules: Rules
) -> None:
    """组织生活会: held or not (as the points count it) and when, each step before it, the 整改措施."""
    cfg = rules.life
    lives = branch_status(
        session, list(years), year, now=now, cfg=cfg, talks_cfg=rules.talks, meetings_cfg=rules.meetings
    )
    for bid, life in lives.items():
        years[bid].extra.append(_life_section(years[bid], life, cfg, year_over=today.year > year))


def _life_section(by: BranchYear, life: BranchLife, cfg: LifeMeetingConfig, *, year_over: bool) -> Section:
    section = Section(S.S_LIFE)
    planned = life.plan.planned_on if life.plan is not None else None
    if life.held:
        held = S.LIFE_HELD_ON.format(day=fmt_full_day(life.held_at.astimezone(cfg.tz).date()))
    elif planned is not None:
        held = S.LIFE_PLANNED.format(day=fmt_full_day(planned))
    else:
        held = S.LIFE_NO_PLAN
    section.pairs.append((S.LIFE_HELD, held))
    if life.held:
        section.pairs.append((S.LIFE_CRITICISM, S.LIFE_CRITICISM_VALUE.format(n=life.criticisms)))
    section.pairs.append((S.LIFE_MEASURES, S.LIFE_MEASURES_VALUE.format(
        total=life.measures_total, done=life.measures_total - life.measures_open, open=life.measures_open,
        overdue=life.measures_overdue)))  # fmt: skip
    if life.held or life.plan is not None:  # without either, nobody was asked to prepare yet
        section.headers = list(S.LIFE_STEP_HEADERS)
        for step in STEPS:
            state = life.steps[step]
            section.rows.append([
                STEP_LABELS[step], str(state.required), str(len(state.done)),
                names_of(life, state.not_done, cfg.names_shown, S.LIFE_MORE) or S.NONE,
            ])  # fmt: skip
    # 存在问题
    if not life.held:
        if year_over and not _short(by, MeetingType.ORG_LIFE):
            section.problems.append(S.P_LIFE_NOT_HELD)
        elif not year_over and planned is not None and planned < by.as_of:
            section.problems.append(S.P_LIFE_LATE.format(day=fmt_full_day(planned)))
    steps_due = life.held or year_over or (planned is not None and planned < by.as_of)
    short = [
        S.LIFE_STEP_SHORT.format(step=STEP_LABELS[s], n=len(life.steps[s].not_done))
        for s in STEPS
        if life.steps[s].not_done
    ]
    if steps_due and (life.held or life.plan is not None) and short:
        section.problems.append(S.P_LIFE_STEPS.format(steps="、".join(short)))
    if life.measures_open:
        section.problems.append(
            S.P_LIFE_MEASURES.format(open=life.measures_open, overdue=life.measures_overdue)
        )
    return section


def _appraisal(
    session: Session, years: dict[int, BranchYear], year: int, *, now: datetime, today: date, tz
) -> None:
    """民主评议党员: the window, turnout and, once the 支部大会 decided, the grades counted (never a ballot)."""
    T = appraisal_strings
    year_over = today.year > year
    for bid, a in appraisal_grades.branch_years(session, list(years), year, now=now, tz=tz).items():
        by = years[bid]
        section = Section(T.REPORT_TITLE)
        by.extra.append(section)
        if a.appraisal is None:
            section.paragraphs.append(T.REPORT_NONE.format(year=year))
            if year_over and not _short(by, MeetingType.DEMOCRATIC_REVIEW):
                section.problems.append(S.P_APPRAISAL_NONE)
            continue
        ap = a.appraisal
        turnout = T.REPORT_TURNOUT_VALUE.format(voters=a.voters, voted=a.voted)
        if a.voters:
            turnout += S.APPRAISAL_TURNOUT_RATE.format(rate=pct(a.voted / a.voters))
        section.pairs = [
            (T.REPORT_WINDOW, "至".join(appraisal_service.window_text(ap, tz))),
            (T.REPORT_MEMBERS, S.APPRAISAL_MEMBERS_VALUE.format(n=a.members)),
            (T.REPORT_TURNOUT, turnout),
            (T.REPORT_PROPOSED, fmt_full_day(ap.proposed_on) if ap.proposed_on else T.REPORT_NOT_YET),
            (T.REPORT_DECIDED, fmt_full_day(ap.decided_on) if ap.decided_on else T.REPORT_NOT_YET),
        ]
        if ap.decided_on is not None:
            _settle(by, MeetingType.DEMOCRATIC_REVIEW, S.TYPE_DECIDED.format(day=fmt_full_day(ap.decided_on)))
            section.headers = list(T.REPORT_HEADERS)
            section.rows = [[APPRAISAL_GRADES[g], str(a.decided.get(g, 0))] for g in APPRAISAL_ORDER]
            section.rows += [
                [T.REPORT_HANDLING.format(handling=HANDLING_LABELS[h]), str(n)]
                for h, n in a.handlings.items()
            ]
        elif year_over:
            section.problems.append(S.P_APPRAISAL_UNDECIDED)


def _projects(session: Session, years: dict[int, BranchYear], year: int, *, today: date) -> None:
    """书记项目: the branch's own projects of the year; none and no call covering the branch: no section (the
    practice is a county's choice, seed 003); none under a call: said, and a problem once its deadline passed."""
    found, called = projects_library.units_year(
        session, [by.branch for by in years.values()], year, today=today
    )
    for bid, by in years.items():
        projects = found.get(bid, [])
        if not projects and bid not in called:
            continue
        section = Section(S.S_PROJECTS)
        by.extra.append(section)
        if not projects:
            section.paragraphs.append(S.PROJECT_NONE)
            if called[bid] < today:  # before the call's deadline it is not yet a shortfall
                section.problems.append(S.P_PROJECT_NONE)
            continue
        section.headers = list(S.PROJECT_HEADERS)
        for p in projects:
            picks = [
                S.PROJECT_PICK.format(kind=S.PICK_KINDS[kind.value], n=len(months), months=fmt_months(months))
                for kind in (PickKind.RED_FLAG, PickKind.SNAIL)
                if (months := [m for m, k in p.picks if k == kind])
            ]
            is_open = p.orders - p.orders_closed
            orders = S.PROJECT_ORDERS.format(n=p.orders, closed=p.orders_closed) if p.orders else S.NONE
            if is_open:
                orders += S.PROJECT_ORDERS_OPEN.format(open=is_open, overdue=p.orders_overdue)
            if p.interviewed:
                orders += S.PROJECT_INTERVIEW
            section.rows.append([
                S.PROJECT_TITLE.format(title=p.title) + (S.PROJECT_EXCELLENT if p.excellent else ""),
                PROJECT_STATUS[p.status], S.PROJECT_MILESTONES.format(done=p.done, total=p.milestones), str(p.late),
                "；".join(picks) or S.NONE, orders, pct(p.satisfaction),
            ])  # fmt: skip
            if p.late:
                section.problems.append(S.P_PROJECT_LATE.format(title=p.title, n=p.late))
            snails = sum(k == PickKind.SNAIL for _m, k in p.picks)
            if snails:
                section.problems.append(S.P_PROJECT_SNAIL.format(title=p.title, n=snails))
            if is_open:
                section.problems.append(S.P_PROJECT_ORDERS.format(title=p.title, open=is_open,
                                                                  overdue=p.orders_overdue))  # fmt: skip
        if all(p.status != ProjectStatus.ACCEPTED for p in projects):
            section.problems.append(S.P_PROJECT_NOT_ACCEPTED)


# --- 存在问题 -----------------------------------------------------------------------------------------------


def num(x: float) -> str:
    """A count as people read it: whole numbers whole, a third of a quarter's meeting to one decimal."""
    return str(round(x)) if abs(x - round(x)) < 1e-6 else f"{x:.1f}"


def pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def joined(sentences: list[str]) -> str:
    """Sentences in one cell: each ends with its own 。, so they are numbered rather than joined by a 、 or ；."""
    return " ".join(f"{i}. {text}" for i, text in enumerate(sentences, start=1))


def _times(counter: Counter) -> str:
    return "、".join(
        S.TIMES.format(name=n, n=k) for n, k in sorted(counter.items(), key=lambda i: (-i[1], i[0]))
    )


def problems(by: BranchYear) -> list[str]:
    """存在问题: one sentence for each shortfall the figures show, in the report's order."""
    out = []
    for t in by.types:
        if t.short <= 1e-6:
            continue
        # A shortfall of the month under way is not yet one: said so, since the month may still hold it.
        pending = min(t.short, t.running_short) if by.running_month is not None else 0.0
        text = S.P_MEETING_RUNNING if pending > 1e-6 else S.P_MEETING
        month = fmt_month(by.running_month) if by.running_month is not None else ""
        out.append(text.format(type=t.label, required=num(t.required), credited=num(t.credited),
                               short=num(t.short), pending=num(pending), month=month))  # fmt: skip
    if by.absences:
        out.append(S.P_ABSENT.format(n=by.absences, names=_times(by.absent)))
    if by.makeup_open:
        out.append(S.P_MAKEUP.format(n=by.makeup_open))
    if by.plans_late:
        out.append(S.P_PLAN.format(n=by.plans_late))
    if by.minutes_late:
        out.append(S.P_MINUTES.format(n=by.minutes_late))
    if by.fees is not None and by.fees.unpaid:
        text = S.P_FEES_NO_AMOUNT if by.fee_unknown else S.P_FEES
        out.append(text.format(n=by.fees.unpaid, amount=money(by.fees.unpaid_amount)))
    long_runs = [name for name, n in by.fee_runs if n >= ARREARS_NAMED]
    if long_runs:
        out.append(S.P_FEES_RUN.format(names="、".join(long_runs)))
    if by.stops or by.reopens:
        out.append(S.P_STOPS.format(stops=by.stops, reopens=by.reopens))
    for c in by.coverage:
        if not c.covered and not c.running:
            out.append(S.P_COVERAGE.format(period=c.period, n=c.observed, required=c.required))
    if by.rects_open:
        out.append(S.P_RECTS.format(open=by.rects_open, overdue=by.rects_overdue))
    t = by.talks
    if t is not None and not t.complete:
        out.append(S.P_TALKS.format(required=t.required, done=t.done, missing=t.required - t.done))
    if by.lagging_months:
        out.append(S.P_LAGGING.format(n=by.lagging_months))
    for section in by.extra:
        out.extend(section.problems)
    return out


# --- the branch's .docx -----------------------------------------------------------------------------------


def report_docx(by: BranchYear, *, today: date) -> bytes:
    doc = a4_document()
    styles = Styles(doc)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(S.TITLE.format(branch=by.branch.name, year=by.year))
    run.font.size, run.bold = Pt(18), True
    p = doc.add_paragraph(S.SUBTITLE.format(as_of=fmt_full_day(by.as_of)))
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    sections: list[tuple[str, Callable[[], None]]] = [(S.S_BASICS, lambda: _basics(doc, styles, by))]
    if by.in_use:
        sections += _figures(doc, styles, by)
    # A year before zhibu was in use: the basics say so once; no figures, and no 存在问题 that would read as
    # "no problems found" when nothing was recorded.
    sections.append((S.S_OPINIONS, lambda: _opinions_part(doc)))
    for i, (title, write) in enumerate(sections):
        heading(doc, styles, f"{ordinal(i + 1)}、{title}", 2)
        write()
    doc.add_paragraph()
    p = doc.add_paragraph(S.MADE_ON.format(day=fmt_full_day(today)))
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return docx_bytes(doc)


def _figures(doc, styles: Styles, by: BranchYear) -> list[tuple[str, Callable[[], None]]]:
    """The sections of a year zhibu was used in, 存在问题 last."""
    sections: list[tuple[str, Callable[[], None]]] = [
        (S.S_MEETINGS, lambda: _meetings_part(doc, styles, by)),
        (S.S_ATTENDANCE, lambda: _attendance_part(doc, styles, by)),
        (S.S_FEES, lambda: _fees_part(doc, styles, by)),
        (S.S_OBSERVERS, lambda: _observers_part(doc, styles, by)),
        (S.S_TALKS, lambda: _talks_part(doc, styles, by)),
        (S.S_SCORES, lambda: _scores_part(doc, styles, by)),
        (S.S_RATING, lambda: _rating_part(doc, styles, by)),
    ]
    for section in by.extra:
        sections.append((section.title, lambda s=section: _extra_part(doc, styles, s)))
    sections.append((S.S_PROBLEMS, lambda: _problems_part(doc, by)))
    return sections


def _basics(doc, styles: Styles, by: BranchYear) -> None:
    period = (
        S.PERIOD_VALUE.format(first=fmt_month(by.first_month), last=fmt_full_day(by.as_of))
        if by.first_month
        else "—"
    )
    kv(doc, styles, [(S.MEMBERS, S.MEMBERS_VALUE.format(n=by.members)), (S.PERIOD, period)])
    if by.started_late is not None:
        doc.add_paragraph(S.FROM_START.format(start=fmt_month(by.started_late)))
    if by.first_month is None:
        doc.add_paragraph(S.NOT_IN_USE)


def _meetings_part(doc, styles: Styles, by: BranchYear) -> None:
    if not by.types:
        doc.add_paragraph(S.NO_REQUIRED)
        return
    rows = [
        [
            t.label,
            num(t.required),
            str(t.held),
            num(t.credited) + (S.TYPE_NOTE.format(note=t.note) if t.note else ""),
        ]
        for t in by.types
    ]
    table(doc, styles, S.MEETING_HEADERS, rows)
    doc.add_paragraph(
        S.MEETINGS_TOTAL.format(
            required=num(by.required), credited=num(by.credited), rate=pct(by.meetings_rate)
        )
    )
    if by.running_month is not None and any(t.running_short > 1e-6 for t in by.types):
        doc.add_paragraph(S.MEETINGS_RUNNING.format(month=fmt_month(by.running_month)))
    doc.add_paragraph(S.MEETINGS_RULE)


def _attendance_part(doc, styles: Styles, by: BranchYear) -> None:
    kv(doc, styles, [
        (S.ATT_EXPECTED, str(by.expected)),
        (S.ATT_PRESENT, str(by.present)),
        (S.ATT_RATE, pct(by.attendance_rate)),
        (S.ATT_LEAVE, str(by.leave)),
        (S.ATT_ABSENT, str(by.absences)),
        (S.ATT_ABSENT_NAMES, _times(by.absent) or S.NONE),
        (S.ATT_MAKEUP, S.MAKEUP_VALUE.format(total=by.makeup_total, done=by.makeup_done, open=by.makeup_open)),
    ])  # fmt: skip


def _fees_part(doc, styles: Styles, by: BranchYear) -> None:
    f = by.fees or fees_ledger.MonthSummary(date.min)
    runs = "、".join(S.FEE_RUN.format(name=n, n=k) for n, k in by.fee_runs) or S.NONE
    kv(doc, styles, [
        (S.FEE_OWED, S.FEE_OWED_VALUE.format(n=f.members, amount=money(f.owed_amount))),
        (S.FEE_PAID, S.FEE_PAID_VALUE.format(n=f.paid, amount=money(f.paid_amount))),
        (S.FEE_UNPAID, S.FEE_UNPAID_VALUE.format(n=f.unpaid, amount=money(f.unpaid_amount))),
        (S.FEE_EXEMPT, S.FEE_EXEMPT_VALUE.format(n=f.exempt)),
        (S.FEE_ARREARS, runs),
        (S.FEE_USED, S.FEE_USED_NONE),
    ])  # fmt: skip
    if by.fee_untracked:
        doc.add_paragraph(S.FEE_UNTRACKED.format(n=by.fee_untracked))
    if by.fee_pending is not None:
        doc.add_paragraph(S.FEE_PENDING.format(month=fmt_month(by.fee_pending.replace(day=1)),
                                               day=fmt_full_day(by.fee_pending)))  # fmt: skip
    if by.fee_unknown:
        doc.add_paragraph(S.FEE_UNKNOWN)


def _observers_part(doc, styles: Styles, by: BranchYear) -> None:
    visits = (
        S.OBS_VISITS_VALUE.format(n=by.visits, mean=num(by.visit_mean))
        if by.visits and by.visit_mean is not None
        else (f"{by.visits} 次" if by.visits else S.OBS_VISITS_NONE)
    )
    outcomes = "、".join(
        f"{label} {by.outcomes[k]} 次" for k, label in OUTCOME_LABELS.items() if by.outcomes[k]
    )
    coverage = "；".join(
        (S.COVERAGE_OK if c.covered else S.COVERAGE_SHORT).format(period=c.period, n=c.observed, required=c.required)
        + (S.COVERAGE_RUNNING if c.running else "")
        for c in by.coverage
    )  # fmt: skip
    closed = len(by.rects) - by.rects_open
    kv(doc, styles, [
        (S.OBS_VISITS, visits),
        (S.OBS_OUTCOMES, outcomes or S.NONE),
        (S.OBS_COVERAGE, coverage or S.NONE),
        (S.RECTS, S.RECTS_VALUE.format(raised=len(by.rects), closed=closed, open=by.rects_open,
                                        overdue=by.rects_overdue)),
    ])  # fmt: skip
    still_open = [r for r in by.rects if r.open]
    if still_open:
        doc.add_paragraph()
        table(doc, styles, S.RECT_HEADERS,
              [[r.text, r.observer, r.due_on.isoformat(), r.status + (S.OVERDUE_MARK if r.overdue else "")]
               for r in still_open])  # fmt: skip


def _talks_part(doc, styles: Styles, by: BranchYear) -> None:
    t = by.talks
    if t is None:
        doc.add_paragraph(S.TALKS_NONE)
        return
    pairs = [
        (S.TALKS_DONE, S.TALKS_VALUE.format(required=t.required, done=t.done, talks=t.talks)),
        (S.TALKS_COMMITTEE, S.PAIR_COUNTS.format(done=t.committee_required - len(t.committee_missing),
                                                 required=t.committee_required)),
        (S.TALKS_MEMBERS, S.PAIR_COUNTS.format(done=len(t.members) - len(t.members_missing),
                                               required=len(t.members))),
    ]  # fmt: skip
    if t.peers_required:
        pairs.append((S.TALKS_PEERS, S.PAIR_COUNTS.format(done=t.peer_count - len(t.peers_missing),
                                                          required=t.peer_count)))  # fmt: skip
    missing = t.missing_people()
    if missing:
        pairs.append((S.TALKS_MISSING, "、".join(t.names.get(p, "") for p in missing)))
    kv(doc, styles, pairs)


def _scores_part(doc, styles: Styles, by: BranchYear) -> None:
    if not by.scores:
        doc.add_paragraph(S.SCORE_NONE)
        return
    table(doc, styles, S.SCORE_HEADERS, [
        [fmt_month(p.month) + (S.RUNNING if p.running else ""), "—" if p.score is None else num(p.score),
         S.RANK.format(rank=p.rank, size=p.group_size) if p.group_size else "—",
         S.RUNNING_LAGGING if p.running else S.LAGGING if p.lagging else S.NOT_LAGGING]
        for p in by.scores
    ])  # fmt: skip
    if by.score_mean is None:
        doc.add_paragraph(S.SCORE_MEAN_NONE)
    else:
        doc.add_paragraph(S.SCORE_MEAN.format(mean=num(by.score_mean), lagging=by.lagging_months))


def _rating_part(doc, styles: Styles, by: BranchYear) -> None:
    r = by.rating
    if r is None or r.grade is None:
        doc.add_paragraph(S.RATING_NONE)
        return
    pairs = [(S.RATING_GRADE, r.text), (S.RATING_REASONS, "；".join(r.reasons) or S.NONE)]
    if r.change_reason:
        pairs.append((S.RATING_CHANGE, r.change_reason))
    kv(doc, styles, pairs)


def _extra_part(doc, styles: Styles, section: Section) -> None:
    if section.pairs:
        kv(doc, styles, section.pairs)
    if section.headers:
        table(doc, styles, section.headers, section.rows)
    for text in section.paragraphs:
        doc.add_paragraph(text)


def _problems_part(doc, by: BranchYear) -> None:
    found = by.problems
    if not found:
        doc.add_paragraph(S.NO_PROBLEMS)
    for i, text in enumerate(found, start=1):
        doc.add_paragraph(f"{i}. {text}")


def _opinions_part(doc) -> None:
    for _ in range(S.OPINION_LINES):
        doc.add_paragraph("_" * 40)


# --- the committee's roll-up ------------------------------------------------------------------------------


def rollup_row(by: BranchYear) -> list[object]:
    f = by.fees
    t = by.talks
    return [
        by.branch.name, by.members, round(by.required, 3), round(by.credited, 3), pct(by.meetings_rate),
        pct(by.attendance_rate), by.absences, f"{by.makeup_done}/{by.makeup_total}",
        float(f.paid_amount) if f else 0.0, f.unpaid if f else 0, by.visits, by.stops + by.reopens, by.rects_open,
        f"{t.done}/{t.required}" if t else "—", by.score_mean if by.score_mean is not None else "—",
        by.lagging_months, by.rating.text if by.rating else S.RATING_NONE,
        joined(by.problems) if by.in_use else S.NOT_IN_USE_SHORT,
    ]  # fmt: skip


def rollup_total(years: list[BranchYear]) -> list[object]:
    required = sum(b.required for b in years)
    credited = sum(b.credited for b in years)
    expected = sum(b.expected for b in years)
    present = sum(b.present for b in years)
    talks = [b.talks for b in years if b.talks is not None]
    means = [b.score_mean for b in years if b.score_mean is not None]
    grades: Counter = Counter()
    for b in years:
        r = b.rating
        grades[r.grade if r is not None and r.confirmed and r.grade is not None else None] += 1
    graded = "、".join(
        S.GRADE_COUNT.format(grade=GRADE_LABELS[g] if g is not None else S.PENDING, n=grades[g])
        for g in [*GRADE_ORDER, None]
        if grades[g]
    )
    return [
        S.TOTAL.format(n=len(years)), sum(b.members for b in years), round(required, 3), round(credited, 3),
        pct(credited / required if required else None), pct(present / expected if expected else None),
        sum(b.absences for b in years), f"{sum(b.makeup_done for b in years)}/{sum(b.makeup_total for b in years)}",
        float(sum((b.fees.paid_amount for b in years if b.fees), ZERO)),
        sum(b.fees.unpaid for b in years if b.fees), sum(b.visits for b in years),
        sum(b.stops + b.reopens for b in years), sum(b.rects_open for b in years),
        f"{sum(t.done for t in talks)}/{sum(t.required for t in talks)}",
        round(sum(means) / len(means), 1) if means else "—", sum(b.lagging_months for b in years), graded, "",
    ]  # fmt: skip


def rollup_xlsx(unit: OrgUnit, year: int, years: list[BranchYear], *, as_of: date) -> bytes:
    caption = S.ROLLUP_CAPTION.format(unit=unit.name, year=year, as_of=fmt_full_day(as_of))
    rows = [rollup_row(b) for b in years] + [rollup_total(years)]
    return xlsx_bytes([Sheet(S.ROLLUP_SHEET, S.ROLLUP_HEADERS, rows, S.ROLLUP_WIDTHS, caption)])
