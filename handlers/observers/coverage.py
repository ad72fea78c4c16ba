"""Coverage (seed 000: 每半年至少列席一次): which meetings observers attended, each branch against the
requirement, 我的支部, the reminders to observers and the report of gaps to each committee."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Button, Card, Markdown, md_escape
from handlers.common import dates
from handlers.common.roles import people_with_roles_by_unit
from handlers.observers import strings
from handlers.observers.assignments import assigned_branch_ids
from handlers.observers.forms import ObserversConfig, export_url
from handlers.observers.periods import (
    coverage_bounds,
    day_start_utc,
    local_day,
    period_day,
    period_label,
    period_name,
    periods_in_year,
)
from models.meetings import Meeting, MeetingStatus
from models.observers import Observation, ObserverAssignment, ObserverRsvp
from models.org import OrgUnit, Person, UnitKind, committees_of, subtree_filter


def attended_meetings(
    session: Session,
    lo: datetime,
    hi: datetime,
    *,
    now: datetime,
    branch_ids: Collection[int] | None = None,
    observer_ids: Collection[int] | None = None,
) -> dict[tuple[int, int], tuple[int, datetime]]:
    """{(observer, meeting): (branch, meeting start)} for every meeting starting in [lo, hi) that an
    observer attended. The one definition behind coverage, 我的支部 and the observers' record.

    Attended: the observer submitted the 观察质量评价表 for it, or announced 列席 (我要列席) and the
    meeting took place (not cancelled, started before `now`), which is what 太湖县 asks for (每半年至少
    列席一次). Whether the observer is still assigned does not matter, and a meeting later ordered
    责令重开 still counts: the observer was there. Two queries.
    """
    forms = select(
        Observation.observer_id, Observation.meeting_id, Observation.branch_id, Observation.meeting_starts_at
    ).where(Observation.meeting_starts_at >= lo, Observation.meeting_starts_at < hi)
    rsvps = (
        select(ObserverRsvp.observer_id, Meeting.id, Meeting.branch_id, Meeting.starts_at)
        .join(Meeting, Meeting.id == ObserverRsvp.meeting_id)
        .where(
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at >= lo,
            Meeting.starts_at < min(hi, now),
        )
    )
    # Small filters go to the database; the whole tree's branches are filtered here instead, so no
    # statement carries thousands of bound parameters.
    in_sql = branch_ids is not None and len(branch_ids) <= 500
    if in_sql:
        forms = forms.where(Observation.branch_id.in_(list(branch_ids)))
        rsvps = rsvps.where(Meeting.branch_id.in_(list(branch_ids)))
    if observer_ids is not None:
        forms = forms.where(Observation.observer_id.in_(list(observer_ids)))
        rsvps = rsvps.where(ObserverRsvp.observer_id.in_(list(observer_ids)))
    wanted = set(branch_ids) if branch_ids is not None and not in_sql else None
    found: dict[tuple[int, int], tuple[int, datetime]] = {}
    for stmt in (forms, rsvps):
        for observer_id, meeting_id, branch_id, starts_at in session.execute(stmt):
            if wanted is None or branch_id in wanted:
                found.setdefault((observer_id, meeting_id), (branch_id, starts_at))
    return found


def _observed_counts(
    session: Session,
    branch_ids: Collection[int] | None,
    start: date,
    end: date,
    cfg: ObserversConfig,
    *,
    now: datetime,
) -> dict[int, int]:
    """Distinct attended meetings (attended_meetings) per branch, meetings starting in [start, end) (local days)."""
    if branch_ids is not None and not branch_ids:
        return {}
    attended = attended_meetings(
        session, day_start_utc(start, cfg), day_start_utc(end, cfg), now=now, branch_ids=branch_ids
    )
    meetings: dict[int, set[int]] = defaultdict(set)
    for (_, meeting_id), (branch_id, _) in attended.items():
        meetings[branch_id].add(meeting_id)
    return {b: len(m) for b, m in meetings.items()}


@dataclass
class MyBranch:
    branch: OrgUnit
    observed: int
    required: int
    meetings: list[Meeting]


def my_branches(
    session: Session, person: Person | None, *, now: datetime, cfg: ObserversConfig
) -> list[MyBranch]:
    """我的支部: the observer's branches, this period's observed count, and their coming meetings."""
    if person is None:
        raise Refused(strings.NOT_BOUND)
    ids = assigned_branch_ids(session, person.id)
    if not ids:
        raise Refused(strings.NOT_OBSERVER)
    start, end = coverage_bounds(local_day(now, cfg), cfg)
    counts = _observed_counts(session, ids, start, end, cfg, now=now)
    meetings = session.scalars(
        select(Meeting)
        .where(
            Meeting.branch_id.in_(ids),
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + cfg.notice_horizon,
        )
        .order_by(Meeting.starts_at)
    ).all()
    by_branch: dict[int, list[Meeting]] = defaultdict(list)
    for m in meetings:
        by_branch[m.branch_id].append(m)
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    return [MyBranch(units[b], counts.get(b, 0), cfg.min_visits, by_branch[b]) for b in ids]


@dataclass
class BranchCoverage:
    branch_id: int
    observed: int  # meetings of the period an observer attended (attended_meetings)
    required: int
    name: str = ""
    committee_id: int | None = None
    committee: str = ""
    observer_ids: list[int] = field(default_factory=list)  # active assignments
    observers: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return self.observed >= self.required

    @property
    def assigned(self) -> bool:
        return bool(self.observer_ids)


def coverage(
    session: Session,
    day: date,
    cfg: ObserversConfig,
    *,
    now: datetime,
    branch_ids: Collection[int] | None = None,
    within: Sequence[OrgUnit] | None = None,
) -> list[BranchCoverage]:
    """For the period holding `day`: every active branch's attended meetings against the requirement
    (seed 000: 每半年至少列席一次), with its committee and observers, ordered by branch id.

    Every branch, also those no observer is assigned to: they are the gap the committee must see.
    `within`: only branches in these units' subtrees; `branch_ids`: only these. `now` (the caller's
    clock) decides which announced 列席 have taken place.
    """
    start, end = coverage_bounds(day, cfg)
    stmt = select(OrgUnit).where(OrgUnit.kind == UnitKind.BRANCH, OrgUnit.active.is_(True))
    if within is not None:
        if not within:
            return []
        stmt = stmt.where(or_(*(subtree_filter(u) for u in within)))
    if branch_ids is not None:
        stmt = stmt.where(OrgUnit.id.in_(list(branch_ids)))
    branches = list(session.scalars(stmt.order_by(OrgUnit.id)))
    ids = [b.id for b in branches]
    small = ids if len(ids) <= 500 else None
    counts = _observed_counts(session, ids if small is not None else None, start, end, cfg, now=now)
    links = select(ObserverAssignment.branch_id, Person.id, Person.name).join(
        Person, Person.id == ObserverAssignment.observer_id
    )
    links = links.where(ObserverAssignment.active.is_(True)).order_by(Person.id)
    if small is not None:
        links = links.where(ObserverAssignment.branch_id.in_(small))
    observers: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for branch_id, person_id, name in session.execute(links):
        observers[branch_id].append((person_id, name))
    committees = committees_of(session, branches)
    return [
        BranchCoverage(
            b.id,
            counts.get(b.id, 0),
            cfg.min_visits,
            name=b.name,
            committee_id=committees[b.id].id if b.id in committees else None,
            committee=committees[b.id].name if b.id in committees else "",
            observer_ids=[i for i, _ in observers.get(b.id, [])],
            observers=[n for _, n in observers.get(b.id, [])],
        )
        for b in branches
    ]


def coverage_day(year: int, today: date) -> date:
    """The day a year's coverage is shown as of: today in the current year, else the year's last day."""
    return today if year == today.year else date(year, 12, 31)


def coverage_for_year(
    session: Session, year: int, cfg: ObserversConfig, *, now: datetime, within: Sequence[OrgUnit] | None
) -> list[tuple[date, date, list[BranchCoverage]]]:
    """(period start, as-of day, every branch's coverage) for each period of `year` begun by today:
    the export's sheet, a period at a time."""
    last = coverage_day(year, local_day(now, cfg))
    return [
        (start, min(last, end - timedelta(days=1)), coverage(session, start, cfg, now=now, within=within))
        for start, end in periods_in_year(year, last, cfg)
    ]


def report_coverage_gaps(
    session: Session, *, now: datetime, cfg: ObserversConfig, period: str = "", public_base_url: str = ""
) -> int:
    """Tell each committee's `committee_roles` (组织委员) which of its branches no observer has attended
    so far this period, assigned or not (seed 000: 每半年至少列席一次), while there is time to act.

    One card per committee, once per period (dedup); nothing when every branch is covered. A fixed
    number of queries however many committees.
    """
    today = period_day(period, local_day(now, cfg), cfg)
    start, end = coverage_bounds(today, cfg)
    gaps: dict[int, list[BranchCoverage]] = defaultdict(list)
    names: dict[int, str] = {}
    for c in coverage(session, today, cfg, now=now):
        if not c.covered and c.committee_id is not None:
            gaps[c.committee_id].append(c)
            names[c.committee_id] = c.committee
    if not gaps:
        return 0
    people = people_with_roles_by_unit(session, list(gaps), cfg.committee_roles)
    last_day = dates.fmt_full_day(end - timedelta(days=1))
    url = export_url(public_base_url, start.year) if public_base_url else ""
    items = []
    for committee_id, branches in gaps.items():
        branches.sort(key=lambda c: (c.assigned, c.name))
        text = strings.GAPS_TEXT.format(
            period=period_label(cfg),
            required=cfg.min_visits,
            name=period_name(today, cfg),
            today=dates.fmt_full_day(today),
            end=last_day,
            count=len(branches),
            lines="\n".join(coverage_line(c) for c in branches),
        )
        # A period asked for by hand after it ended can no longer be acted on.
        text += (strings.GAPS_ENDED if local_day(now, cfg) >= end else strings.GAPS_ACT).format(end=last_day)
        unassigned = sum(1 for c in branches if not c.assigned)
        if unassigned:
            text += strings.GAPS_UNASSIGNED.format(count=unassigned)
        items.append(
            outbox.Queued(
                people.get(committee_id, []),
                Card(
                    title=strings.GAPS_TITLE.format(committee=names[committee_id]),
                    text=text,
                    buttons=(Button(strings.STATS_EXPORT, url=url),) if url else (),
                ),
                f"observers:coverage_gaps:{committee_id}:{start:%Y%m%d}",
            )
        )
    return outbox.enqueue_many(session, items, now=now)


def coverage_line(c: BranchCoverage) -> str:
    """One branch in a card or a chat answer (markdown): name, observers or 未安排观察员, count."""
    return strings.COVERAGE_LINE.format(
        branch=md_escape(c.name),
        observers=md_escape("、".join(c.observers)) if c.observers else strings.NO_OBSERVER,
        observed=c.observed,
        required=c.required,
    )


def remind_coverage(session: Session, *, now: datetime, cfg: ObserversConfig) -> int:
    """Observers of branches not yet observed enough when the period ends within the risk window.

    Once per observer, branch and period; the reminder lists the branch's coming meetings in the period.
    """
    today = local_day(now, cfg)
    start, end = coverage_bounds(today, cfg)
    if (end - today).days > cfg.coverage_risk_days:
        return 0
    # Branches nobody is assigned to have no observer to remind; the committee hears of them
    # (report_coverage_gaps).
    at_risk = [c for c in coverage(session, today, cfg, now=now) if not c.covered and c.assigned]
    sent = 0
    for c in at_risk:
        meetings = session.scalars(
            select(Meeting)
            .where(
                Meeting.branch_id == c.branch_id,
                Meeting.status == MeetingStatus.SCHEDULED,
                Meeting.starts_at > now,
                Meeting.starts_at < day_start_utc(end, cfg),
            )
            .order_by(Meeting.starts_at)
        ).all()
        lines = "\n".join(
            strings.MY_MEETING_LINE.format(
                when=dates.fmt_when(m.starts_at, cfg.tz), title=md_escape(m.title), place=md_escape(m.place)
            )
            for m in meetings
        )
        extra = strings.COVERAGE_MEETINGS.format(lines=lines) if meetings else strings.COVERAGE_NO_MEETINGS
        text = strings.COVERAGE_TEXT.format(
            period=period_label(cfg),
            required=c.required,
            end=dates.fmt_full_day(end - timedelta(days=1)),
            branch=md_escape(c.name),
            meetings=extra,
        )
        sent += outbox.enqueue_to_people(
            session,
            c.observer_ids,
            Markdown(title=strings.COVERAGE_TITLE.format(branch=c.name), text=text),
            dedup_key=f"observers:coverage:{c.branch_id}:{start:%Y%m%d}",
            now=now,
        )
    return sent
