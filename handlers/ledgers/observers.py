"""观察员台账 (#17 item 3): for a unit and a period, the observers assigned to its branches, every
observation with its 评价表 (items, scores, comments) and outcome (现场提醒/叫停/责令纠正/责令重开), the
rectifications they raised with deadlines and status, each coverage period's branches against the
requirement (those with no observer included), and each observer's yearly record for the rating.

Coverage is handlers.observers.coverage.coverage and the yearly record handlers.observers.record
.observer_records, the observers feature's own queries (the chat's 观察统计 and its .xlsx say the
same); the rest is read here in one statement per kind of record. A constant number of statements
per coverage period, whatever the number of branches. Nothing here writes.

Who sees what: a viewer who leads the unit (or 组织部) sees every observer's records under it; a viewer
who sees the unit only as its observer sees their own assignments, forms and rectifications, nothing
of another observer's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, select, true
from sqlalchemy.orm import Session, aliased

from handlers.console.overview import NotInScope
from handlers.console.scope import Scope
from handlers.ledgers.period import LedgerPeriod
from handlers.observers.coverage import BranchCoverage, coverage
from handlers.observers.forms import FORMS, ObserversConfig
from handlers.observers.periods import coverage_bounds, day_start_utc, local_day, period_name
from handlers.observers.record import ObserverRecord, observer_records, rating_basis
from handlers.observers.strings import OUTCOME_LABELS, RECT_STATUS_LABELS
from models.meetings import Meeting
from models.observers import Observation, ObserverAssignment, Outcome, Rectification, RectificationStatus
from models.org import OrgUnit, Person

OTHER_UNIT = "其他单位"


@dataclass
class AssignmentLine:
    id: int
    observer_id: int
    observer: str
    observer_unit: str  # the observer's own branch: never the one observed (领域交叉、异地观察)
    branch_id: int
    branch: str
    since: date  # local day the link was made
    active: bool


@dataclass
class ItemScore:
    label: str
    max: int
    score: int | None
    comment: str


@dataclass
class ObservationLine:
    id: int
    meeting_id: int
    meeting: str
    branch_id: int
    branch: str
    observer_id: int
    observer: str
    starts_at: datetime
    form: str  # the 评价表's name
    items: list[ItemScore]
    total: int
    max_total: int
    grade: str
    outcome: Outcome
    comment: str
    correct_by: date | None
    reopen_by: date | None
    submitted_at: datetime
    on_time: bool

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, str(self.outcome))

    @property
    def deadline(self) -> date | None:
        """整改 or 重开 by this day, when the outcome sets one."""
        return self.correct_by if self.outcome == Outcome.CORRECT else self.reopen_by

    @property
    def items_text(self) -> str:
        return "；".join(
            f"{i.label} {i.score if i.score is not None else '—'}/{i.max}"
            + (f"（{i.comment}）" if i.comment else "")
            for i in self.items
        )


@dataclass
class RectificationLine:
    id: int
    observation_id: int
    branch_id: int
    branch: str
    observer_id: int
    observer: str
    meeting: str
    text: str
    due_on: date
    status: RectificationStatus
    report_note: str
    reported_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    overdue: bool  # past its deadline and not 销号

    @property
    def status_label(self) -> str:
        return RECT_STATUS_LABELS.get(self.status, str(self.status))


@dataclass
class CoverageBlock:
    """One coverage period (half-year, or month under 湖滨区's rule) overlapping the ledger's period."""

    start: date
    name: str  # 2026年下半年
    as_of: date  # its last day, or today while it runs
    running: bool
    rows: list[BranchCoverage]  # every branch, those without an observer too

    @property
    def covered(self) -> int:
        return sum(c.covered for c in self.rows)

    @property
    def unassigned(self) -> int:
        return sum(not c.assigned for c in self.rows)


@dataclass
class ObserverEntry:
    """One observer's part of the ledger: the record for the yearly rating (优秀/称职)."""

    observer_id: int
    name: str
    record: ObserverRecord | None  # the whole year, every branch of theirs (observer_records)
    basis: str  # why the suggested rating
    assignments: list[AssignmentLine] = field(default_factory=list)
    observations: list[ObservationLine] = field(default_factory=list)
    rectifications: list[RectificationLine] = field(default_factory=list)


@dataclass
class ObserversLedger:
    unit: OrgUnit
    period: LedgerPeriod
    own_only: bool  # the viewer sees the unit as its observer: their records only
    year: int  # the yearly record's year
    assignments: list[AssignmentLine]
    observations: list[ObservationLine]  # by meeting time
    rectifications: list[RectificationLine]  # by deadline
    coverage: list[CoverageBlock]
    observers: list[ObserverEntry]

    @property
    def outcome_counts(self) -> list[tuple[str, int]]:
        """Each outcome, mild to severe, with how many forms gave it."""
        return [
            (label, sum(o.outcome == k for o in self.observations)) for k, label in OUTCOME_LABELS.items()
        ]

    @property
    def open_rectifications(self) -> int:
        return sum(r.status != RectificationStatus.CLOSED for r in self.rectifications)

    @property
    def overdue_rectifications(self) -> int:
        return sum(r.overdue for r in self.rectifications)


def observers_ledger(
    session: Session,
    scope: Scope,
    unit: OrgUnit,
    period: LedgerPeriod,
    *,
    now: datetime,
    cfg: ObserversConfig,
) -> ObserversLedger:
    if not scope.sees_unit(unit):
        raise NotInScope(unit.id)
    own_only = not scope.can_edit_unit(unit)  # seen through an observer's assignment, read-only
    under = and_(OrgUnit.path.startswith(unit.path), scope.unit_clause())

    def mine(observer_column):
        return observer_column == scope.person_id if own_only else true()

    today = local_day(now, cfg)
    lo, hi = day_start_utc(period.start, cfg), day_start_utc(period.end, cfg)

    assignments = _assignments(session, scope, under, mine, cfg)
    observations = _observations(session, under, mine, lo, hi)
    rects = _rectifications(session, under, mine, lo, hi, today)
    my_branches = [a.branch_id for a in assignments if a.active] if own_only else None
    blocks = _coverage(session, unit, period, today, cfg, now=now, branch_ids=my_branches)
    if own_only:  # another observer of the same branch is theirs to know, not this viewer's
        for block in blocks:
            for c in block.rows:
                keep = [i for i, pid in enumerate(c.observer_ids) if pid == scope.person_id]
                c.observer_ids = [c.observer_ids[i] for i in keep]
                c.observers = [c.observers[i] for i in keep]

    ids = sorted({a.observer_id for a in assignments} | {o.observer_id for o in observations})
    year = period.start.year
    records = (
        {r.observer_id: r for r in observer_records(session, year, now=now, cfg=cfg, observer_ids=ids)}
        if ids
        else {}
    )
    names = {a.observer_id: a.observer for a in assignments} | {
        o.observer_id: o.observer for o in observations
    }
    here = {a.branch for a in assignments}
    entries = []
    for oid in sorted(ids, key=lambda i: (names[i], i)):
        rec = records.get(oid)
        if rec is not None:  # the branches named are this unit's: another unit's are not shown here
            rec.branches = [b for b in rec.branches if b in here]
            rec.attended_branches = [b for b in rec.attended_branches if b in here]
            rec.pending_branches = [b for b in rec.pending_branches if b in here]
        entries.append(
            ObserverEntry(
                oid, names[oid], rec, rating_basis(rec, cfg) if rec is not None else "",
                [a for a in assignments if a.observer_id == oid],
                [o for o in observations if o.observer_id == oid],
                [r for r in rects if r.observer_id == oid],
            )
        )  # fmt: skip
    return ObserversLedger(unit, period, own_only, year, assignments, observations, rects, blocks, entries)


def _assignments(session: Session, scope: Scope, under, mine, cfg: ObserversConfig) -> list[AssignmentLine]:
    """Every link to a branch under the unit, ended ones too. The observer's own branch is named when
    the viewer sees it, else called 其他单位 (enough to show the observer is from elsewhere)."""
    home = aliased(OrgUnit)
    rows = session.execute(
        select(
            ObserverAssignment.id, Person.id, Person.name, home, OrgUnit.id, OrgUnit.name,
            ObserverAssignment.created_at, ObserverAssignment.active,
        )
        .join(OrgUnit, OrgUnit.id == ObserverAssignment.branch_id)
        .join(Person, Person.id == ObserverAssignment.observer_id)
        .outerjoin(home, home.id == Person.branch_id)
        .where(under, mine(ObserverAssignment.observer_id))
        .order_by(OrgUnit.path, Person.name, ObserverAssignment.id)
    ).all()  # fmt: skip
    return [
        AssignmentLine(
            i, pid, name, _home_name(scope, unit), bid, branch, local_day(created, cfg), bool(active)
        )
        for i, pid, name, unit, bid, branch, created, active in rows
    ]


def _home_name(scope: Scope, unit: OrgUnit | None) -> str:
    if unit is None:
        return ""
    return unit.name if scope.sees_unit(unit) else OTHER_UNIT


def _observations(session: Session, under, mine, lo: datetime, hi: datetime) -> list[ObservationLine]:
    rows = session.execute(
        select(Observation, Meeting.title, OrgUnit.name, Person.name)
        .join(OrgUnit, OrgUnit.id == Observation.branch_id)
        .join(Person, Person.id == Observation.observer_id)
        .join(Meeting, Meeting.id == Observation.meeting_id)
        .where(
            Observation.meeting_starts_at >= lo, Observation.meeting_starts_at < hi, under,
            mine(Observation.observer_id),
        )
        .order_by(Observation.meeting_starts_at, Observation.id)
    ).all()  # fmt: skip
    out = []
    for o, title, branch, observer in rows:
        form = FORMS.get(o.preset)
        items = [
            ItemScore(
                str(it.get("label", "")),
                int(it.get("max") or 0),
                it.get("score"),
                str(it.get("comment") or ""),
            )
            for it in (o.items or [])
        ]
        out.append(
            ObservationLine(
                o.id, o.meeting_id, title, o.branch_id, branch, o.observer_id, observer, o.meeting_starts_at,
                form.name if form else "", items, o.total, o.max_total, o.grade, Outcome(o.outcome),
                o.comment or "", o.correct_by, o.reopen_by, o.submitted_at, bool(o.on_time),
            )
        )  # fmt: skip
    return out


def _rectifications(
    session: Session, under, mine, lo: datetime, hi: datetime, today: date
) -> list[RectificationLine]:
    """The items raised by the period's observations (by meeting time), with their state today."""
    rows = session.execute(
        select(Rectification, Observation.observer_id, Person.name, Meeting.title, OrgUnit.name)
        .join(Observation, Observation.id == Rectification.observation_id)
        .join(OrgUnit, OrgUnit.id == Rectification.branch_id)
        .join(Person, Person.id == Observation.observer_id)
        .join(Meeting, Meeting.id == Observation.meeting_id)
        .where(
            Observation.meeting_starts_at >= lo, Observation.meeting_starts_at < hi, under,
            mine(Observation.observer_id),
        )
        .order_by(Rectification.due_on, Rectification.id)
    ).all()  # fmt: skip
    return [
        RectificationLine(
            r.id, r.observation_id, r.branch_id, branch, oid, observer, title, r.text, r.due_on,
            RectificationStatus(r.status), r.report_note or "", r.reported_at, r.closed_at, r.reopen_count or 0,
            r.status != RectificationStatus.CLOSED and r.due_on < today,
        )
        for r, oid, observer, title, branch in rows
    ]  # fmt: skip


def _coverage(
    session: Session,
    unit: OrgUnit,
    period: LedgerPeriod,
    today: date,
    cfg: ObserversConfig,
    *,
    now: datetime,
    branch_ids: list[int] | None,
) -> list[CoverageBlock]:
    """Each coverage period overlapping the ledger's period and begun by today, as
    handlers.observers.coverage.coverage_for_year walks a year's."""
    blocks = []
    day = period.start
    while day < period.end and day <= today:
        start, end = coverage_bounds(day, cfg)
        rows = (
            []
            if branch_ids == []
            else coverage(session, start, cfg, now=now, within=[unit], branch_ids=branch_ids)
        )
        rows.sort(key=lambda c: (c.committee, c.name, c.branch_id))
        last = end - timedelta(days=1)
        blocks.append(CoverageBlock(start, period_name(start, cfg), min(today, last), last >= today, rows))
        day = end
    return blocks
