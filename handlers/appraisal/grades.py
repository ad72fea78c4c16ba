"""After the close: the count, the software's suggestion (the rule of handlers/appraisal/config.py), the
支部委员会's proposal and the 支部大会's decision. The software counts and proposes; people decide: nothing
here changes a member's standing (a decided 不合格 carries the handling chosen, as a record)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.appraisal import service, strings
from handlers.appraisal.config import AppraisalConfig
from handlers.common.dates import fmt_full_day, parse_day
from models.appraisal import (
    GRADE_LABELS,
    HANDLING_LABELS,
    Appraisal,
    AppraisalBallot,
    AppraisalGrade,
    AppraisalMember,
    Grade,
    Handling,
)
from models.org import Person

GRADE_FIELD = "g{id}"
HANDLING_FIELD = "h{id}"
REASON_FIELD = "r{id}"


@dataclass
class MemberCount:
    person_id: int
    name: str
    probationary: bool
    suspended: bool
    counts: dict[Grade, int] = field(default_factory=dict)
    suggestion: Grade = Grade.QUALIFIED
    tie: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ballots(self) -> int:
        return sum(self.counts.values())


@dataclass
class Count:
    members: list[MemberCount]
    voters: int
    voted: int
    cap: int  # 优秀 at most
    low_turnout: bool


def cap_of(n_members: int, cfg: AppraisalConfig) -> int:
    return int(n_members * cfg.excellent_cap)  # rounded down: 1/3 of 10 is 3


def _more_than(part: int, whole: int, share) -> bool:
    return whole > 0 and part > whole * share


def suggest(rows: list[MemberCount], cfg: AppraisalConfig) -> int:
    """Fill each row's suggestion, tie flag and notes (config.py's rule); returns the 优秀 cap."""
    cap = cap_of(len(rows), cfg)
    for r in rows:
        c, n = r.counts, r.ballots
        if n == 0:
            r.notes.append(strings.NOTE_NO_BALLOTS)
        if _more_than(c.get(Grade.UNQUALIFIED, 0), n, cfg.unqualified_share):
            r.suggestion = Grade.UNQUALIFIED
            r.notes.append(strings.NOTE_UNQUALIFIED)
        elif _more_than(c.get(Grade.BASIC, 0) + c.get(Grade.UNQUALIFIED, 0), n, cfg.basic_share):
            r.suggestion = Grade.BASIC
        else:
            r.suggestion = Grade.QUALIFIED
    candidates = [
        r for r in rows
        if r.suggestion == Grade.QUALIFIED and _more_than(r.counts.get(Grade.EXCELLENT, 0), r.ballots, cfg.excellent_share)
    ]  # fmt: skip
    by_votes: dict[int, list[MemberCount]] = defaultdict(list)
    for r in candidates:
        by_votes[r.counts.get(Grade.EXCELLENT, 0)].append(r)
    seats = cap
    for votes in sorted(by_votes, reverse=True):
        group = by_votes[votes]
        if len(group) <= seats:
            for r in group:
                r.suggestion = Grade.EXCELLENT
            seats -= len(group)
            continue
        # The tie on the last seats (or a group past the cap): the 支委会 chooses, the software does not.
        for r in group:
            if seats > 0:
                r.tie = True
                others = "、".join(o.name for o in group if o is not r)
                r.notes.append(strings.NOTE_TIE.format(names=others, n=votes, seats=seats))
            else:
                r.notes.append(strings.NOTE_OVER_CAP)
        seats = 0
    return cap


def count(
    session: Session,
    a: Appraisal,
    cfg: AppraisalConfig,
    people: list[tuple[AppraisalMember, Person]] | None = None,
) -> Count:
    """The ballots counted per member (grades only: a ballot names no voter), with the suggestion; `people`
    the appraisal's members() where the caller has them already."""
    if people is None:
        people = service.members(session, a)
    tallies: dict[int, dict[Grade, int]] = defaultdict(dict)
    for subject_id, grade, n in session.execute(
        select(AppraisalBallot.subject_id, AppraisalBallot.grade, func.count())
        .where(AppraisalBallot.appraisal_id == a.id)
        .group_by(AppraisalBallot.subject_id, AppraisalBallot.grade)
    ):
        tallies[subject_id][Grade(grade)] = int(n)
    rows = [
        MemberCount(p.id, p.name, m.probationary, m.suspended, dict(tallies.get(p.id, {}))) for m, p in people
    ]
    cap = suggest(rows, cfg)
    voters = sum(m.can_vote for m, _p in people)
    voted = sum(m.has_voted for m, _p in people)
    return Count(rows, voters, voted, cap, not _more_than(voted, voters, cfg.low_turnout))


def grades_of(session: Session, a: Appraisal) -> dict[int, AppraisalGrade]:
    return {
        g.person_id: g
        for g in session.scalars(select(AppraisalGrade).where(AppraisalGrade.appraisal_id == a.id))
    }


# ---- the 支委会's proposal and the 支部大会's decision


def _day(form: Mapping[str, str], what: str, *, after: date, after_what: str, today: date) -> date:
    day = parse_day(str(form.get("day", "") or ""), today, short="this_year")
    if day is None:
        raise Refused(strings.BAD_DAY_FIELD.format(what=what), ("day",), status=422)
    if day > today:
        raise Refused(strings.DAY_FUTURE.format(what=what, day=fmt_full_day(day)), ("day",), status=422)
    if day < after:
        raise Refused(
            strings.DAY_BEFORE.format(
                what=what, day=fmt_full_day(day), after=after_what + fmt_full_day(after)
            ),
            ("day",),
            status=422,
        )
    return day


def _grades(form: Mapping[str, str], people: list[Person]) -> dict[int, Grade]:
    found, missing = {}, []
    for p in people:
        value = str(form.get(GRADE_FIELD.format(id=p.id), "") or "").strip()
        try:
            found[p.id] = Grade(value)
        except ValueError:
            missing.append(p.name)
    if missing:
        raise Refused(strings.MISSING_GRADE.format(names="、".join(missing)), status=422)
    return found


def _handlings(
    form: Mapping[str, str], people: list[Person], grades: dict[int, Grade]
) -> dict[int, Handling]:
    found, missing = {}, []
    for p in people:
        if grades[p.id] != Grade.UNQUALIFIED:
            continue
        try:
            found[p.id] = Handling(str(form.get(HANDLING_FIELD.format(id=p.id), "") or "").strip())
        except ValueError:
            missing.append(p.name)
    if missing:
        raise Refused(strings.NEED_HANDLING.format(names="、".join(missing)), status=422)
    return found


def _check_cap(grades: dict[int, Grade], cfg: AppraisalConfig) -> None:
    cap = cap_of(len(grades), cfg)
    n = sum(g == Grade.EXCELLENT for g in grades.values())
    if n > cap:
        text = strings.CAP_TEXT.format(num=cfg.excellent_cap.numerator, den=cfg.excellent_cap.denominator)
        raise Refused(strings.OVER_CAP.format(n=n, cap_text=text, cap=cap), status=422)


def _closed_and_open_to_decide(a: Appraisal, now: datetime, tz: ZoneInfo) -> None:
    if a.decided_on is not None:
        raise Refused(strings.ALREADY_DECIDED.format(day=fmt_full_day(a.decided_on)), status=409)
    if now < a.closes_at:
        raise Refused(strings.NOT_CLOSED.format(end=service.window_text(a, tz)[1]), status=409)


def record_proposal(
    session: Session, manager: Person, appraisal_id: int, form: Mapping[str, str], *, now: datetime, tz: ZoneInfo,
    cfg: AppraisalConfig,
) -> None:  # fmt: skip
    """The 支委会's proposal: a grade for every member (the count's suggestion or another), the handling of
    each proposed 不合格, the committee's day. Recorded again replaces it, until the 支部大会 decides."""
    a = service.get_appraisal(session, appraisal_id)
    service.require_manager(session, a, manager, cfg)
    _closed_and_open_to_decide(a, now, tz)
    today = service.local_day(now, tz)
    day = _day(
        form,
        strings.COMMITTEE_MEETING,
        after=service.last_day(a, tz),
        after_what=strings.AFTER_CLOSE,
        today=today,
    )
    people = [p for _m, p in service.members(session, a)]
    grades = _grades(form, people)
    _check_cap(grades, cfg)
    handlings = _handlings(form, people, grades)
    existing = grades_of(session, a)
    for p in people:
        row = existing.get(p.id) or AppraisalGrade(appraisal_id=a.id, person_id=p.id, branch_id=a.branch_id)
        row.proposed_grade, row.proposed_handling = grades[p.id], handlings.get(p.id)
        session.add(row)
    a.proposed_on, a.proposed_by_id, a.proposed_at = day, manager.id, now
    session.flush()


def record_decision(
    session: Session, manager: Person, appraisal_id: int, form: Mapping[str, str], *, now: datetime, tz: ZoneInfo,
    cfg: AppraisalConfig,
) -> None:  # fmt: skip
    """The 支部大会's decision, recorded once by the secretary: each member's grade (a reason where it
    differs from the proposal), each 不合格's handling, the meeting's day."""
    a = service.get_appraisal(session, appraisal_id)
    service.require_manager(session, a, manager, cfg)
    _closed_and_open_to_decide(a, now, tz)
    if a.proposed_on is None:
        raise Refused(strings.NEED_PROPOSAL, status=409)
    today = service.local_day(now, tz)
    day = _day(
        form, strings.CONGRESS_MEETING, after=a.proposed_on, after_what=strings.AFTER_PROPOSAL, today=today
    )
    people = [p for _m, p in service.members(session, a)]
    grades = _grades(form, people)
    _check_cap(grades, cfg)
    handlings = _handlings(form, people, grades)
    rows = grades_of(session, a)
    reasons, unexplained = {}, []
    for p in people:
        reason = str(form.get(REASON_FIELD.format(id=p.id), "") or "").strip()
        if len(reason) > cfg.reason_max:
            raise Refused(strings.REASON_TOO_LONG.format(n=cfg.reason_max), status=422)
        row = rows[p.id]
        differs = grades[p.id] != row.proposed_grade or handlings.get(p.id) != row.proposed_handling
        if differs and not reason:
            unexplained.append(p.name)
        reasons[p.id] = reason or None
    if unexplained:
        raise Refused(strings.NEED_REASON.format(names="、".join(unexplained)), status=422)
    for p in people:
        row = rows[p.id]
        row.decided_grade, row.decided_handling, row.decision_reason = (
            grades[p.id],
            handlings.get(p.id),
            reasons[p.id],
        )
    a.decided_on, a.decided_by_id, a.decided_at = day, manager.id, now
    session.flush()


# ---- the committee's view (no ballot, no voter: counts of people and of decided grades only)


@dataclass
class BranchYear:
    appraisal: Appraisal | None
    state: str
    members: int = 0
    voters: int = 0
    voted: int = 0
    decided: dict[Grade, int] = field(default_factory=dict)
    handlings: dict[Handling, int] = field(default_factory=dict)


def branch_years(
    session: Session, branch_ids: list[int], year: int, *, now: datetime, tz: ZoneInfo
) -> dict[int, BranchYear]:
    """Each branch's appraisal of `year`: its state, turnout and (once decided) the grades' distribution;
    three statements for any number of branches."""
    found = {
        a.branch_id: a
        for a in session.scalars(select(Appraisal).where(Appraisal.branch_id.in_(branch_ids), Appraisal.year == year))
    } if branch_ids else {}  # fmt: skip
    turnouts = service.turnout(session, [a.id for a in found.values()])
    members = dict(
        session.execute(
            select(AppraisalMember.appraisal_id, func.count())
            .where(AppraisalMember.appraisal_id.in_([a.id for a in found.values()]))
            .group_by(AppraisalMember.appraisal_id)
        ).all()  # rows, not the Result: dict() would take a Result's keys() for a mapping's
    ) if found else {}  # fmt: skip
    decided: dict[int, dict[Grade, int]] = defaultdict(dict)
    handled: dict[int, dict[Handling, int]] = defaultdict(dict)
    decided_ids = [a.id for a in found.values() if a.decided_on is not None]
    if decided_ids:
        for aid, grade, handling, n in session.execute(
            select(
                AppraisalGrade.appraisal_id,
                AppraisalGrade.decided_grade,
                AppraisalGrade.decided_handling,
                func.count(),
            )
            .where(AppraisalGrade.appraisal_id.in_(decided_ids))
            .group_by(
                AppraisalGrade.appraisal_id, AppraisalGrade.decided_grade, AppraisalGrade.decided_handling
            )
        ):
            g = Grade(grade)
            decided[aid][g] = decided[aid].get(g, 0) + int(n)
            if handling is not None:
                h = Handling(handling)
                handled[aid][h] = handled[aid].get(h, 0) + int(n)
    out = {}
    for b in branch_ids:
        a = found.get(b)
        if a is None:
            out[b] = BranchYear(None, service.state_text(None, now, tz))
            continue
        t = turnouts[a.id]
        out[b] = BranchYear(
            a, service.state_text(a, now, tz), members.get(a.id, 0), t.voters, t.voted, decided.get(a.id, {}),
            handled.get(a.id, {}),
        )  # fmt: skip
    return out


def distribution_text(by: BranchYear) -> str:
    parts = [f"{GRADE_LABELS[g]}{by.decided.get(g, 0)}" for g in GRADE_LABELS if by.decided.get(g)]
    parts += [f"{HANDLING_LABELS[h]}{n}" for h, n in by.handlings.items()]
    return "，".join(parts)
