"""Each observer's year (for 太湖县's yearly 优秀/称职 assessment): meetings attended, forms (on
time), issues raised and closed, branches covered per period. The grade itself is proposed and decided on
the console's 观察员年度评定 (handlers.observers.yearly*); this record points there."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.observers import strings
from handlers.observers.coverage import attended_meetings
from handlers.observers.forms import ObserversConfig
from handlers.observers.periods import day_start_utc, local_day, period_label, period_name, periods_in_year
from models.meetings import Meeting
from models.observers import Observation, ObserverAssignment, Rectification, RectificationStatus
from models.org import OrgUnit, Person


@dataclass
class ObserverRecord:
    observer_id: int
    name: str
    phone: str
    branches: list[str] = field(default_factory=list)
    attended: int = 0  # meetings attended (列席 announced, or a form submitted), that took place
    forms: int = 0
    forms_on_time: int = 0
    issues_raised: int = 0
    issues_closed: int = 0
    periods: int = 0  # (branch, coverage period) pairs due in the year so far
    periods_covered: int = 0
    # Where the yearly grade is (the console's 观察员年度评定): kept for the .xlsx's column and the 观察员台账.
    rating: str = strings.RATING_SEE_CONSOLE
    # The last period of the year so far (this half-year): which branches were attended, which not yet.
    period: str = ""
    attended_branches: list[str] = field(default_factory=list)
    pending_branches: list[str] = field(default_factory=list)


def rating_basis(rec: ObserverRecord, cfg: ObserversConfig) -> str:
    """The record's figures for the yearly rating, and where the grade is: the console's 观察员年度评定
    proposes it (handlers.observers.yearly_proposal, the one rule) and the committee decides it there.
    This record proposes no grade of its own, so the chat and the console cannot disagree."""
    return strings.RATING_BASIS.format(
        period=period_label(cfg),
        required=cfg.min_visits,
        periods=rec.periods,
        covered=rec.periods_covered,
        on_time=rec.forms_on_time,
        forms=rec.forms,
    )


def observer_records(
    session: Session,
    year: int,
    *,
    now: datetime,
    cfg: ObserversConfig,
    observer_ids: list[int] | None = None,
) -> list[ObserverRecord]:
    """Each observer's year: meetings attended, forms (on time), issues raised and closed, coverage.

    Without `observer_ids`, everyone with an assignment (active or ended).
    """
    as_of = min(local_day(now, cfg), date(year, 12, 31))
    lo, hi = day_start_utc(date(year, 1, 1), cfg), day_start_utc(date(year + 1, 1, 1), cfg)
    stmt = select(ObserverAssignment.observer_id, ObserverAssignment.branch_id, ObserverAssignment.active)
    if observer_ids is not None:
        stmt = stmt.where(ObserverAssignment.observer_id.in_(observer_ids))
    links = session.execute(stmt).all()
    ids = sorted({link[0] for link in links} | set(observer_ids or []))
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)))}
    unit_names = dict(
        session.execute(
            select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_({b for _, b, _ in links}))
        ).all()
    )
    recs = {i: ObserverRecord(i, people[i].name, people[i].phone or "") for i in ids if i in people}
    forms = session.execute(
        select(Observation.observer_id, Observation.on_time).where(
            Observation.observer_id.in_(ids),
            Observation.meeting_starts_at >= lo,
            Observation.meeting_starts_at < hi,
        )
    ).all()
    # Attended and covered by the same definition as the branches' coverage (attended_meetings).
    visits = attended_meetings(session, lo, hi, now=now, observer_ids=ids)
    rects = session.execute(
        select(Observation.observer_id, Rectification.status)
        .join(Observation, Observation.id == Rectification.observation_id)
        .where(
            Observation.observer_id.in_(ids),
            Observation.meeting_starts_at >= lo,
            Observation.meeting_starts_at < hi,
        )
    ).all()
    attended: dict[int, set[int]] = defaultdict(set)
    observed: dict[tuple[int, int], list[date]] = defaultdict(list)
    for oid, on_time in forms:
        recs[oid].forms += 1
        recs[oid].forms_on_time += int(bool(on_time))
    for (oid, mid), (bid, starts) in visits.items():
        attended[oid].add(mid)
        observed[(oid, bid)].append(local_day(starts, cfg))
    for oid, status in rects:
        recs[oid].issues_raised += 1
        recs[oid].issues_closed += int(status == RectificationStatus.CLOSED)
    periods = periods_in_year(year, as_of, cfg)
    for oid, bid, active in links:
        rec = recs.get(oid)
        if rec is None:
            continue
        days = observed.get((oid, bid), [])
        if active:
            name = unit_names.get(bid, str(bid))
            rec.branches.append(name)
            start, end = periods[-1]
            done = sum(1 for d in days if start <= d < end) >= cfg.min_visits
            (rec.attended_branches if done else rec.pending_branches).append(name)
        for start, end in periods:
            done = sum(1 for d in days if start <= d < end)
            # A period still running counts only once covered, so mid-period is not held against anyone;
            # an ended link counts only for the periods actually observed.
            ended = end <= as_of + timedelta(days=1)
            if (ended and active) or done >= cfg.min_visits:
                rec.periods += 1
                rec.periods_covered += int(done >= cfg.min_visits)
    for oid, rec in recs.items():
        rec.attended = len(attended[oid])
        rec.branches.sort()
        rec.attended_branches.sort()
        rec.pending_branches.sort()
        rec.period = period_name(periods[-1][0], cfg)
    return [recs[i] for i in ids if i in recs]


def form_rows(session: Session, year: int, cfg: ObserversConfig, observer_ids: list[int]) -> list[dict]:
    """Every form of the year by these observers, for the export's detail sheet."""
    lo, hi = day_start_utc(date(year, 1, 1), cfg), day_start_utc(date(year + 1, 1, 1), cfg)
    rows = session.execute(
        select(Observation, Person.name, OrgUnit.name, Meeting.title)
        .join(Person, Person.id == Observation.observer_id)
        .join(OrgUnit, OrgUnit.id == Observation.branch_id)
        .join(Meeting, Meeting.id == Observation.meeting_id)
        .where(
            Observation.observer_id.in_(observer_ids),
            Observation.meeting_starts_at >= lo,
            Observation.meeting_starts_at < hi,
        )
        .order_by(Observation.meeting_starts_at, Observation.id)
    ).all()
    return [
        {
            "observer": name,
            "branch": branch,
            "meeting": title,
            "when": o.meeting_starts_at.astimezone(cfg.tz).replace(tzinfo=None),
            "total": o.total,
            "max_total": o.max_total,
            "grade": o.grade,
            "outcome": strings.OUTCOME_LABELS[o.outcome],
            "submitted": o.submitted_at.astimezone(cfg.tz).replace(tzinfo=None),
            "on_time": o.on_time,
        }
        for o, name, branch, title in rows
    ]
