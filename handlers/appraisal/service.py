"""Use cases of 民主评议党员 before the count: opening the branch's appraisal, who may do what, the members'
self-assessments, and the 留党察看 marks. None commits; refusals are bot.core.errors.Refused in Chinese."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from bot.core.messages import Button, Card, md_escape
from handlers.appraisal import strings
from handlers.appraisal.config import AppraisalConfig
from handlers.common.dates import fmt_full_day, parse_day
from handlers.common.roles import roles_in_words, roles_on, units_where
from models.appraisal import Appraisal, AppraisalMember
from models.org import MemberStatus, OrgUnit, Person, UnitKind

H5_PREFIX = "/h5/appraisal"


def member_url(appraisal_id: int) -> str:
    """Relative: each platform's sender makes it absolute with the public base URL."""
    return f"{H5_PREFIX}/{appraisal_id}"


def manage_url(appraisal_id: int) -> str:
    return f"{H5_PREFIX}/{appraisal_id}/manage"


# ---- time


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def last_day(a: Appraisal, tz: ZoneInfo) -> date:
    """The window's last day (closes_at is the next day's midnight)."""
    return local_day(a.closes_at - timedelta(seconds=1), tz)


def window_text(a: Appraisal, tz: ZoneInfo) -> tuple[str, str]:
    return fmt_full_day(local_day(a.opens_at, tz)), fmt_full_day(last_day(a, tz))


def check_window(a: Appraisal, now: datetime, tz: ZoneInfo) -> None:
    """Self-assessments and ballots only inside [opens_at, closes_at): 409 before and after."""
    start, end = window_text(a, tz)
    if now < a.opens_at:
        raise Refused(strings.WINDOW_NOT_OPEN.format(start=start), status=409)
    if now >= a.closes_at:
        raise Refused(strings.WINDOW_CLOSED.format(end=end), status=409)


def state_text(a: Appraisal | None, now: datetime, tz: ZoneInfo) -> str:
    if a is None:
        return strings.STATE_NONE
    start, end = window_text(a, tz)
    if a.decided_on is not None:
        return strings.STATE_DECIDED.format(day=fmt_full_day(a.decided_on))
    if a.proposed_on is not None:
        return strings.STATE_PROPOSED
    if now < a.opens_at:
        return strings.STATE_NOT_STARTED.format(start=start)
    if now < a.closes_at:
        return strings.STATE_OPEN.format(end=end)
    return strings.STATE_CLOSED


# ---- who


def managed_branches(session: Session, person: Person | None, cfg: AppraisalConfig) -> list[OrgUnit]:
    """The branches where the person holds a manager role, their own first."""
    if person is None:
        raise Refused(strings.NOT_BOUND)
    ids = sorted(
        units_where(session, person.id, cfg.manager_roles, kind=UnitKind.BRANCH),
        key=lambda u: (u != person.branch_id, u),
    )
    return [session.get(OrgUnit, i) for i in ids]


def is_manager(session: Session, person_id: int, branch_id: int, cfg: AppraisalConfig) -> bool:
    return bool(roles_on(session, person_id, branch_id) & cfg.manager_roles)


def get_appraisal(session: Session, appraisal_id: int) -> Appraisal:
    a = session.get(Appraisal, appraisal_id)
    if a is None:
        raise Refused(strings.PAGE_NOT_FOUND, status=404)
    return a


def membership(session: Session, a: Appraisal, person: Person) -> AppraisalMember:
    row = session.get(AppraisalMember, (a.id, person.id))
    if row is None:
        raise Refused(strings.PAGE_NOT_MEMBER, status=403)
    return row


def require_manager(session: Session, a: Appraisal, person: Person, cfg: AppraisalConfig) -> None:
    if not is_manager(session, person.id, a.branch_id, cfg):
        raise Refused(strings.PAGE_NOT_MANAGER.format(managers=roles_in_words(cfg.manager_roles)), status=403)


def members(session: Session, a: Appraisal) -> list[tuple[AppraisalMember, Person]]:
    """The appraisal's members with their people, in the roster's order."""
    return list(
        session.execute(
            select(AppraisalMember, Person)
            .join(Person, Person.id == AppraisalMember.person_id)
            .where(AppraisalMember.appraisal_id == a.id)
            .order_by(Person.id)
        ).tuples()
    )


def of_branch(session: Session, branch_id: int, year: int) -> Appraisal | None:
    return session.scalar(select(Appraisal).where(Appraisal.branch_id == branch_id, Appraisal.year == year))


@dataclass(frozen=True)
class Turnout:
    voters: int  # members with a vote
    voted: int


def turnout(session: Session, appraisal_ids: list[int]) -> dict[int, Turnout]:
    """{appraisal id: its voters and how many have voted}, one statement for any number."""
    if not appraisal_ids:
        return {}
    rows = session.execute(
        select(
            AppraisalMember.appraisal_id,
            func.count(),
            func.sum(case((AppraisalMember.has_voted.is_(True), 1), else_=0)),
        )
        .where(
            AppraisalMember.appraisal_id.in_(appraisal_ids),
            AppraisalMember.probationary.is_(False),
            AppraisalMember.suspended.is_(False),
        )
        .group_by(AppraisalMember.appraisal_id)
    )
    found = {a: Turnout(int(n), int(v or 0)) for a, n, v in rows}
    return {a: found.get(a, Turnout(0, 0)) for a in appraisal_ids}


def turnout_of(people: list[tuple[AppraisalMember, Person]]) -> Turnout:
    """turnout() of one appraisal whose members (members()) are already loaded."""
    return Turnout(sum(m.can_vote for m, _p in people), sum(m.can_vote and m.has_voted for m, _p in people))


# ---- opening


@dataclass(frozen=True)
class Opened:
    appraisal: Appraisal
    branch: OrgUnit
    notified: int


def _window(args: str, today: date, cfg: AppraisalConfig) -> tuple[date, date]:
    words = args.split()
    days = []
    for w in words:
        d = parse_day(w, today, short="this_year")
        if d is None:
            raise Refused(strings.BAD_DAY.format(text=w))
        days.append(d)
    if len(days) > 2:
        raise Refused(strings.OPEN_USAGE.format(days=cfg.window_days))
    start = days[0] if len(days) == 2 else today
    end = days[-1] if days else today + timedelta(days=cfg.window_days - 1)
    if start < today:
        raise Refused(strings.START_PAST.format(day=fmt_full_day(start)))
    if end < start:
        raise Refused(strings.END_BEFORE_START.format(start=fmt_full_day(start), end=fmt_full_day(end)))
    if (end - start).days + 1 > cfg.max_window_days:
        raise Refused(strings.WINDOW_TOO_LONG.format(n=cfg.max_window_days))
    if start.year != end.year:
        raise Refused(strings.SPLIT_YEAR)
    return start, end


def _refuse_if_open(session: Session, branch: OrgUnit, year: int, tz: ZoneInfo) -> None:
    existing = of_branch(session, branch.id, year)
    if existing is not None:
        start, end = window_text(existing, tz)
        raise Refused(
            strings.ALREADY_OPEN.format(branch=branch.name, year=year, start=start, end=end), status=409
        )


def member_card(
    a: Appraisal,
    branch: OrgUnit,
    tz: ZoneInfo,
    *,
    manager: bool = False,
    member: bool = True,
    status: str = "",
) -> Card:
    """The card of the appraisal: its page for a member, its management page for a manager (a 书记 sent
    from another branch manages it without being one of its members)."""
    start, end = window_text(a, tz)
    buttons = [Button(label=strings.CARD_BUTTON, url=member_url(a.id))] if member else []
    if manager:
        buttons.append(Button(label=strings.MANAGE_BUTTON, url=manage_url(a.id)))
    text = strings.CARD_TEXT.format(branch=md_escape(branch.name), year=a.year, start=start, end=end)
    if status:
        text += "\n\n" + md_escape(status)
    return Card(title=strings.CARD_TITLE.format(year=a.year), text=text, buttons=tuple(buttons))


def open_appraisal(
    session: Session,
    actor: Person | None,
    args: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    cfg: AppraisalConfig,
    send,
) -> Opened:
    """Open the branch's appraisal of the year with its window, snapshot its members (who is appraised
    and who votes stays fixed for the count) and send each member the card. `send(person_ids, card,
    dedup_key)` queues the card (HandlerContext.send)."""
    branches = managed_branches(session, actor, cfg)
    if not branches:
        raise Refused(strings.NOT_MANAGER.format(managers=roles_in_words(cfg.manager_roles)), status=403)
    # A 书记 of several branches names the one (开始民主评议 河西村党支部 12-05 12-12); else their own first.
    words = args.split()
    named = [b for b in branches if b.name in words]
    branch = named[0] if named else branches[0]
    today = local_day(now, tz)
    start, end = _window(" ".join(w for w in words if w != branch.name), today, cfg)
    _refuse_if_open(session, branch, start.year, tz)
    people = list(
        session.scalars(
            select(Person).where(Person.branch_id == branch.id, Person.active.is_(True)).order_by(Person.id)
        )
    )
    full = [p for p in people if p.status == MemberStatus.FULL]
    if len(full) < 2:
        raise Refused(strings.TOO_FEW.format(branch=branch.name, n=len(people)))
    a = Appraisal(
        branch_id=branch.id, year=start.year, opens_at=start_of(start, tz), closes_at=start_of(end + timedelta(days=1), tz),
        opened_by_id=actor.id,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(a)
            session.flush()
    except IntegrityError:
        # Opened twice at once (two secretaries, a retry): the other one stands.
        _refuse_if_open(session, branch, start.year, tz)
        raise
    session.add_all(
        AppraisalMember(appraisal_id=a.id, person_id=p.id, probationary=p.status != MemberStatus.FULL)
        for p in people
    )
    session.flush()
    notified = send([p.id for p in people], member_card(a, branch, tz), f"appraisal:{a.id}:open")
    return Opened(a, branch, notified)


# ---- 个人自评 and 留党察看


def save_self_assessment(
    session: Session,
    person: Person,
    appraisal_id: int,
    text: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    cfg: AppraisalConfig,
) -> AppraisalMember:
    a = get_appraisal(session, appraisal_id)
    row = membership(session, a, person)
    check_window(a, now, tz)
    text = (text or "").strip()
    if not text:
        raise Refused(strings.SELF_EMPTY, ("self_assessment",), status=422)
    if len(text) > cfg.self_assessment_max:
        raise Refused(
            strings.SELF_TOO_LONG.format(n=cfg.self_assessment_max), ("self_assessment",), status=422
        )
    row.self_assessment, row.self_assessed_at = text, now
    session.flush()
    return row


def set_suspended(
    session: Session, manager: Person, appraisal_id: int, person_id: int, suspended: bool, *, now: datetime,
    cfg: AppraisalConfig,
) -> None:  # fmt: skip
    """Mark a member as under 留党察看 (no vote) or not: only before the first ballot, as a ballot cast
    cannot be taken out again (it names no voter)."""
    a = get_appraisal(session, appraisal_id)
    require_manager(session, a, manager, cfg)
    if now >= a.closes_at:
        raise Refused(strings.SUSPENDED_CLOSED, status=409)
    voted = session.scalar(
        select(AppraisalMember.person_id)
        .where(AppraisalMember.appraisal_id == a.id, AppraisalMember.has_voted.is_(True))
        .limit(1)
    )
    if voted is not None:
        raise Refused(strings.SUSPENDED_AFTER_VOTES, status=409)
    row = session.get(AppraisalMember, (a.id, person_id))
    if row is None:
        raise Refused(strings.PAGE_NOT_MEMBER, status=404)
    if row.probationary:
        raise Refused(strings.SUSPENDED_PROBATIONARY, status=422)
    row.suspended = suspended
    session.flush()
