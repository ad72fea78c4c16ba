"""The proposal: an observer's year with a committee, read from what is stored (their assignments, the
meetings they attended: coverage.attended_meetings, their forms and the 整改 and 责令重开 those forms
ordered), then the rule of yearly_config.py as a pure function, reasons in Chinese.

Which committee rates whom: the one that appointed the observer (their 观察员 role on it). A branch an
observer is linked to is counted with the deepest such committee above it; a branch under none of them
(an observer linked without the role) with the committee above the branch, so every link is counted once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.observers import strings
from handlers.observers.coverage import attended_meetings
from handlers.observers.forms import ObserversConfig
from handlers.observers.observation import form_deadline, reconvened_ids
from handlers.observers.periods import day_start_utc, local_day, period_name, periods_in_year
from handlers.observers.yearly_config import YearlyConfig
from models.observer_rating import GRADE_LABELS, GRADE_ORDER, ObserverGrade
from models.observers import Observation, ObserverAssignment, Outcome, Rectification, RectificationStatus
from models.org import OrgUnit, Person, Role, RoleAssignment, UnitKind, committees_of

MISSED_LISTED = 5  # branch-periods named in the reasons; the rest are counted


@dataclass
class ObserverYear:
    observer_id: int
    committee_id: int
    year: int
    branches: set[int] = field(default_factory=set)  # linked now (active), under this committee
    required: int = 0  # visits due: min_visits per (branch, ended coverage period)
    done: int = 0  # visits made, each branch-period counted up to its requirement
    missed: list[str] = field(default_factory=list)  # branch-periods short of the requirement
    forms: int = 0
    on_time: int = 0
    unreported: int = 0  # 列席 announced and held, the form window closed, no form
    complete: int = 0
    unscored: int = 0
    no_comment: int = 0
    unexplained: int = 0
    followups_due: int = 0
    followups_done: int = 0


@dataclass(frozen=True)
class Proposal:
    grade: ObserverGrade | None
    sentences: list[str]
    figures: dict

    def as_json(self) -> dict:
        return {"sentences": self.sentences, "figures": self.figures}

    @property
    def summary(self) -> str:
        return "；".join(self.sentences)


# ---- the rule


def form_gaps(items: list[dict], comment: str | None, cfg: YearlyConfig) -> set[str]:
    """What a form lacks: "unscored" (a section without a score), "comment" (no 总体评价 worth the name),
    "explain" (a section scored under `explain_below` of its maximum without its own 说明)."""
    gaps: set[str] = set()
    scored = [
        i for i in items or () if isinstance(i.get("score"), int) and not isinstance(i.get("score"), bool)
    ]
    if not items or len(scored) < len(items):
        gaps.add("unscored")
    if len((comment or "").strip()) < cfg.min_comment_chars:
        gaps.add("comment")
    if any(i.get("max") and i["score"] < cfg.explain_below * i["max"] and not str(i.get("comment") or "").strip()
           for i in scored):  # fmt: skip
        gaps.add("explain")
    return gaps


def _grade_of(rate: float, lines: tuple[float, float, float]) -> tuple[ObserverGrade, float | None]:
    """The grade a rate reaches, and the line of the grade above it (None for 优秀)."""
    excellent, competent, basic = lines
    if rate >= excellent:
        return ObserverGrade.EXCELLENT, None
    if rate >= competent:
        return ObserverGrade.COMPETENT, excellent
    if rate >= basic:
        return ObserverGrade.BASIC, competent
    return ObserverGrade.INCOMPETENT, basic


def _worst(*grades: ObserverGrade) -> ObserverGrade:
    return GRADE_ORDER[max(GRADE_ORDER.index(g) for g in grades)]


def _pct(rate: float) -> str:
    return f"{rate:.0%}"


def propose(y: ObserverYear, cfg: YearlyConfig, ocfg: ObserversConfig) -> Proposal:
    """The rule on one observer's year: no statement, nothing written."""
    handed = y.forms + y.unreported
    if not y.required and not handed:
        return Proposal(None, [strings.YEAR_NOTHING.format(year=y.year)], {"required": 0, "forms": 0})
    grades: list[ObserverGrade] = []
    sentences: list[str] = []

    def judged(text: str, rate: float, lines: tuple[float, float, float]) -> str:
        grade, line = _grade_of(rate, lines)
        grades.append(grade)
        if line is None:
            return text
        return text + strings.YEAR_BELOW.format(line=_pct(line), grade=GRADE_LABELS[grade])

    coverage = y.done / y.required if y.required else 1.0
    text = strings.YEAR_COVERAGE.format(
        branches=len(y.branches), required=y.required, done=y.done, rate=_pct(coverage)
    )
    if y.required:
        text = judged(text, coverage, (cfg.coverage_excellent, cfg.coverage_competent, cfg.coverage_basic))
    if y.missed:
        listed = "、".join(y.missed[:MISSED_LISTED])
        more = len(y.missed) - MISSED_LISTED
        text += "；" + strings.YEAR_MISSED.format(
            items=listed + (strings.YEAR_MISSED_MORE.format(n=more) if more > 0 else "")
        )
    sentences.append(text)

    timeliness = y.on_time / handed if handed else None
    if timeliness is None:
        sentences.append(strings.YEAR_NO_FORMS)
    else:
        text = strings.YEAR_ON_TIME.format(
            forms=y.forms, days=ocfg.on_time_days, on_time=y.on_time, rate=_pct(timeliness)
        )
        if y.unreported:
            text += "，" + strings.YEAR_UNREPORTED.format(n=y.unreported)
        sentences.append(
            judged(text, timeliness, (cfg.on_time_excellent, cfg.on_time_competent, cfg.on_time_basic))
        )

    quality = y.complete / y.forms if y.forms else None
    if quality is not None:
        text = strings.YEAR_QUALITY.format(complete=y.complete, rate=_pct(quality))
        gaps = [strings.YEAR_GAP_UNSCORED.format(n=y.unscored)] * bool(y.unscored)
        gaps += [strings.YEAR_GAP_COMMENT.format(n=y.no_comment)] * bool(y.no_comment)
        gaps += [strings.YEAR_GAP_EXPLAIN.format(n=y.unexplained)] * bool(y.unexplained)
        if gaps:  # only what happened: no "0份没有写总体评价"
            text += "，" + "，".join(gaps)
        sentences.append(
            judged(text, quality, (cfg.quality_excellent, cfg.quality_competent, cfg.quality_basic))
        )

    base = _worst(*grades) if grades else ObserverGrade.EXCELLENT
    grade = base
    missed_followups = y.followups_due - y.followups_done
    caps: list[str] = []
    if y.followups_due:
        text = strings.YEAR_FOLLOWUP.format(due=y.followups_due, done=y.followups_done)
        if missed_followups:
            basic = missed_followups >= cfg.followup_basic
            cap = ObserverGrade.BASIC if basic else ObserverGrade.COMPETENT
            caps.append("followup")
            grade = _worst(grade, cap)
            text += strings.YEAR_FOLLOWUP_MISSED.format(
                n=missed_followups, days=cfg.followup_days,
                cap=strings.YEAR_AT_MOST_BASIC if basic else strings.YEAR_NOT_EXCELLENT,
            )  # fmt: skip
        sentences.append(text)
    sentences.append(strings.YEAR_PROPOSE.format(grade=GRADE_LABELS[grade]))
    figures = {
        "branches": len(y.branches),
        "required": y.required,
        "done": y.done,
        "coverage": round(coverage, 4),
        "missed": y.missed,
        "forms": y.forms,
        "on_time": y.on_time,
        "unreported": y.unreported,
        "timeliness": None if timeliness is None else round(timeliness, 4),
        "complete": y.complete,
        "quality": None if quality is None else round(quality, 4),
        "unscored": y.unscored,
        "no_comment": y.no_comment,
        "unexplained": y.unexplained,
        "followups_due": y.followups_due,
        "followups_done": y.followups_done,
        "caps": caps,
        "base_grade": base.value,
    }
    return Proposal(grade, sentences, figures)


# ---- who is rated by which committee


class Appointments:
    """Which committee counts an observer's branch: the deepest committee above it that appointed them
    (a 观察员 role), else the committee above the branch. Built once per statement-set for many observers."""

    def __init__(self, session: Session, observer_ids: Iterable[int] | None = None) -> None:
        stmt = (
            select(RoleAssignment.person_id, OrgUnit)
            .join(OrgUnit, OrgUnit.id == RoleAssignment.org_unit_id)
            .where(RoleAssignment.role == Role.OBSERVER, OrgUnit.kind == UnitKind.COMMITTEE)
        )
        if observer_ids is not None:
            stmt = stmt.where(RoleAssignment.person_id.in_(list(observer_ids)))
        self.appointed: dict[int, list[OrgUnit]] = defaultdict(list)
        for person_id, unit in session.execute(stmt):
            self.appointed[person_id].append(unit)
        self._session = session
        self._nearest: dict[int, OrgUnit] = {}

    def learn(self, branches: Iterable[OrgUnit]) -> None:
        """Look up the committees above these branches (one statement)."""
        todo = [b for b in branches if b.id not in self._nearest]
        self._nearest.update(committees_of(self._session, todo))

    def committee_for(self, observer_id: int, branch: OrgUnit) -> OrgUnit | None:
        own = [c for c in self.appointed.get(observer_id, ()) if branch.path.startswith(c.path)]
        if own:
            return max(own, key=lambda c: len(c.path))
        return self._nearest.get(branch.id)


def _lo_hi(year: int, ocfg: ObserversConfig) -> tuple[datetime, datetime]:
    return day_start_utc(date(year, 1, 1), ocfg), day_start_utc(date(year + 1, 1, 1), ocfg)


def rated_pairs(
    session: Session,
    year: int,
    *,
    ocfg: ObserversConfig,
    keep: Callable[[int, OrgUnit], bool],
    observer_ids: Iterable[int] | None = None,
) -> list[tuple[int, OrgUnit]]:
    """(observer, committee) pairs rated for `year` that `keep(observer_id, committee)` accepts: every
    observer a committee appointed, and every observer linked now (or who filed a form in the year) to a
    branch under a committee that did not appoint them. Sorted by committee, then observer. With
    `observer_ids`, only those observers are read (checking one need not scan the whole year)."""
    lo, hi = _lo_hi(year, ocfg)
    ids = None if observer_ids is None else list(observer_ids)
    links_stmt = (
        select(ObserverAssignment.observer_id, OrgUnit)
        .join(OrgUnit, OrgUnit.id == ObserverAssignment.branch_id)
        .where(ObserverAssignment.active.is_(True))
    )
    filed_stmt = (
        select(Observation.observer_id, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Observation.branch_id)
        .where(Observation.meeting_starts_at >= lo, Observation.meeting_starts_at < hi)
        .distinct()
    )
    if ids is not None:
        links_stmt = links_stmt.where(ObserverAssignment.observer_id.in_(ids))
        filed_stmt = filed_stmt.where(Observation.observer_id.in_(ids))
    links = session.execute(links_stmt).all()
    filed = session.execute(filed_stmt).all()
    where = Appointments(session, ids)
    where.learn({b.id: b for _, b in (*links, *filed)}.values())
    pairs: dict[tuple[int, int], OrgUnit] = {}
    for observer_id, units in where.appointed.items():
        for c in units:
            pairs[(observer_id, c.id)] = c
    for observer_id, branch in (*links, *filed):
        c = where.committee_for(observer_id, branch)
        if c is not None:
            pairs[(observer_id, c.id)] = c
    kept = [(o, c) for (o, _), c in pairs.items() if keep(o, c)]
    names = dict(
        session.execute(select(Person.id, Person.name).where(Person.id.in_({o for o, _ in kept}))).all()
    )
    kept = [(o, c) for o, c in kept if o in names]  # a person deleted since: nobody to rate
    return sorted(kept, key=lambda p: (p[1].path, names[p[0]], p[0]))


# ---- the stored year


def load_years(
    session: Session,
    pairs: list[tuple[int, int]],
    year: int,
    *,
    now: datetime,
    ocfg: ObserversConfig,
    cfg: YearlyConfig,
) -> dict[tuple[int, int], ObserverYear]:
    """Each (observer, committee)'s stored year: a fixed number of statements for any number of pairs."""
    years = {(o, c): ObserverYear(o, c, year) for o, c in pairs}
    if not pairs:
        return years
    ids = sorted({o for o, _ in pairs})
    today = local_day(now, ocfg)
    as_of = min(today, date(year, 12, 31))
    lo, hi = _lo_hi(year, ocfg)
    links = session.execute(
        select(
            ObserverAssignment.observer_id, ObserverAssignment.active, ObserverAssignment.created_at, OrgUnit
        )
        .join(OrgUnit, OrgUnit.id == ObserverAssignment.branch_id)
        .where(ObserverAssignment.observer_id.in_(ids))
    ).all()
    forms = list(
        session.scalars(
            select(Observation).where(
                Observation.observer_id.in_(ids),
                Observation.meeting_starts_at >= lo,
                Observation.meeting_starts_at < hi,
            )
        )
    )
    branch_ids = {b.id for *_, b in links} | {f.branch_id for f in forms}
    visits = attended_meetings(session, lo, hi, now=now, observer_ids=ids)
    branch_ids |= {b for b, _ in visits.values()}
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(branch_ids)))}
    where = Appointments(session, ids)
    where.learn(units.values())

    def year_of(observer_id: int, branch_id: int) -> ObserverYear | None:
        unit = units.get(branch_id)
        c = where.committee_for(observer_id, unit) if unit is not None else None
        return years.get((observer_id, c.id)) if c is not None else None

    # Coverage, as the observers' record counts it (record.observer_records): a period still running
    # counts only once covered; an ended link only for the periods it covered; a period that ended
    # before the link was made is not the observer's.
    by_branch: dict[tuple[int, int], list[date]] = defaultdict(list)
    for (o, _m), (b, starts) in visits.items():
        by_branch[(o, b)].append(local_day(starts, ocfg))
    periods = periods_in_year(year, as_of, ocfg)
    for o, active, created_at, branch in sorted(links, key=lambda r: (r[3].path, r[0])):
        y = year_of(o, branch.id)
        if y is None:
            continue
        if active:
            y.branches.add(branch.id)
        linked_on = local_day(created_at, ocfg) if created_at is not None else date(year, 1, 1)
        days = by_branch.get((o, branch.id), [])
        for start, end in periods:
            if linked_on >= end:
                continue
            n = sum(1 for d in days if start <= d < end)
            ended = end <= as_of + timedelta(days=1)
            if (ended and active) or n >= ocfg.min_visits:
                y.required += ocfg.min_visits
                y.done += min(n, ocfg.min_visits)
                if n < ocfg.min_visits:
                    y.missed.append(
                        strings.YEAR_MISSED_ITEM.format(branch=branch.name, period=period_name(start, ocfg))
                    )

    # Timeliness and quality, form by form.
    with_form = set()
    for f in forms:
        with_form.add((f.observer_id, f.meeting_id))
        y = year_of(f.observer_id, f.branch_id)
        if y is None:
            continue
        y.forms += 1
        y.on_time += int(bool(f.on_time))
        gaps = form_gaps(f.items, f.comment, cfg)
        y.complete += int(not gaps)
        y.unscored += int("unscored" in gaps)
        y.no_comment += int("comment" in gaps)
        y.unexplained += int("explain" in gaps)
    for (o, m), (b, starts) in visits.items():
        if (o, m) not in with_form and form_deadline(starts, ocfg) < today:
            y = year_of(o, b)
            if y is not None:
                y.unreported += 1

    _followups(session, forms, visits, year_of, ids, units, now=now, ocfg=ocfg, cfg=cfg)
    return years


def _followups(
    session, forms, visits, year_of, ids, units, *, now, ocfg: ObserversConfig, cfg: YearlyConfig
) -> None:
    """回头看 (rule H25): the observer signs off or sends back a 整改 the branch reported fixed within
    `followup_days`, and attends the meeting a 责令重开 called again. Items whose branch the observer answers
    for themselves (a member or manager of it) are the committee's to sign off, not theirs."""
    own_branch = dict(session.execute(select(Person.id, Person.branch_id).where(Person.id.in_(ids))).all())
    managing = set(
        session.execute(
            select(RoleAssignment.person_id, RoleAssignment.org_unit_id).where(
                RoleAssignment.person_id.in_(ids),
                RoleAssignment.org_unit_id.in_(list(units)),
                RoleAssignment.role.in_(list(ocfg.manager_roles)),
            )
        ).all()
    )
    window = timedelta(days=cfg.followup_days)
    form_ids = [f.id for f in forms]
    rects = (
        session.execute(
            select(Observation.observer_id, Rectification.branch_id, Rectification.status,
                   Rectification.reported_at, Rectification.closed_at)
            .join(Observation, Observation.id == Rectification.observation_id)
            .where(Rectification.observation_id.in_(form_ids), Rectification.reported_at.is_not(None))
        ).all()
        if form_ids
        else []
    )  # fmt: skip
    for o, b, status, reported_at, closed_at in rects:
        if own_branch.get(o) == b or (o, b) in managing:
            continue
        y = year_of(o, b)
        if y is None:
            continue
        if status == RectificationStatus.CLOSED:
            y.followups_due += 1
            y.followups_done += int(closed_at is not None and closed_at - reported_at <= window)
        elif status == RectificationStatus.REOPENED:  # sent back: looked at (when is not recorded)
            y.followups_due += 1
            y.followups_done += 1
        elif status == RectificationStatus.REPORTED and now - reported_at > window:
            y.followups_due += 1
    reopens = [f for f in forms if f.outcome == Outcome.REOPEN and f.reopen_by is not None]
    if not reopens:
        return
    today = local_day(now, ocfg)
    held_again = reconvened_ids(session, reopens, ocfg)
    attended: dict[tuple[int, int], list[tuple[int, datetime]]] = defaultdict(list)
    for (o, m), (b, starts) in visits.items():
        attended[(o, b)].append((m, starts))
    for f in reopens:
        if f.id not in held_again:
            continue  # not held again: the branch's failure (the committee hears of it), not the observer's
        deadline = day_start_utc(f.reopen_by + timedelta(days=1), ocfg)
        went = any(
            m != f.meeting_id and f.meeting_starts_at < starts < deadline
            for m, starts in attended[(f.observer_id, f.branch_id)]
        )
        if went or f.reopen_by < today:
            y = year_of(f.observer_id, f.branch_id)
            if y is not None:
                y.followups_due += 1
                y.followups_done += int(went)
