"""The 自行脱党 watch's records that only people can make (domain.md §2, rules 32–34, E14–E15).

党章第九条's third condition (不做党所分配的工作) and a member's loss of contact with the Party
organisation are facts the software cannot see: the branch's 书记, 副书记 or 组织委员 records them by
chat, with a reason, and the monthly member ladder (handlers.monthly.ladder) counts them like
attendance and fees. The software lists; the 支部大会 decides; nothing is removed automatically.

Loss of contact (E15) is taken from the branch's record, not inferred from the data: the rule
(党员教育管理工作条例 第二十四条) is about a member who still cannot be found after searching, which
only the people who searched know. A member who stops attending and paying is already followed by
the first two counters; a chat message that cannot be delivered shows that an account left the
corp's directory, not that the branch cannot reach the person (a member who changed jobs may still
answer the phone). So a data-driven guess would list the wrong people and add nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from bot.core.messages import md_escape
from handlers.common.dates import add_months, month_start, months_between, parse_month
from handlers.common.roles import units_where
from handlers.monthly import strings
from handlers.phones import normalize_phone
from models.monthly import LostContact, WorkNotDone
from models.org import OrgUnit, Person, Role, UnitKind

# Who keeps these records: the branch committee members who handle members' affairs (组织委员 does
# 党员管理 in practice), never a plain member.
RECORDER_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER})
# 党员教育管理工作条例 第二十四条: 失去联系6个月以上 → 停止党籍 (domain.md rule 34).
LOST_CONTACT_MONTHS = 6
# How far back a month may be recorded: far enough for a month-end backlog, near enough that a
# mistyped year (2016 for 2026) is refused rather than stored.
WORK_BACKFILL_MONTHS = 12


@dataclass
class MemberRun:
    """One member's run on one counter, ending with the month asked about."""

    n: int
    name: str
    branch_id: int
    first: date | None
    months: list[date] = field(default_factory=list)  # the months counted, oldest first
    note: str = ""  # the latest recorded reason (work) or the search done (lost contact)


# --- parsing -----------------------------------------------------------------------------------


def _month_arg(text: str, today: date) -> date:
    month = parse_month(text, today)
    if month is None:
        raise Refused(strings.WATCH_BAD_MONTH.format(text=text))
    if month > month_start(today):
        raise Refused(strings.WATCH_FUTURE.format(month=strings.fmt_month(month)))
    return month


# --- who records, about whom --------------------------------------------------------------------


def recorder_branch(session: Session, actor: Person | None) -> OrgUnit:
    """The branch `actor` keeps these records for: where they are 书记, 副书记 or 组织委员 (their own
    branch first). A committee's officers hold these roles on the committee, not on a branch, so
    they are refused here: the branch records, the committee is told."""
    if actor is None:
        raise Refused(strings.NOT_BOUND)
    units = units_where(session, actor.id, RECORDER_ROLES, kind=UnitKind.BRANCH)
    if actor.branch_id in units:
        return session.get(OrgUnit, actor.branch_id)
    if len(units) == 1:
        return session.get(OrgUnit, units.pop())
    raise Refused(strings.WATCH_NO_ROLE)


def find_member(session: Session, branch: OrgUnit, who: str, example: str) -> Person:
    """An active member of `branch` by name, or by phone when names repeat. Someone of another branch
    is 'not found', whatever their name: a secretary learns nothing about other branches here."""
    who = who.strip()
    phone = normalize_phone(who)
    cond = Person.phone == phone if phone else Person.name == who
    people = session.scalars(
        select(Person).where(Person.branch_id == branch.id, Person.active.is_(True), cond)
    ).all()
    if not people:
        raise Refused(strings.WATCH_NO_PERSON.format(name=who))
    if len(people) > 1:
        raise Refused(strings.WATCH_AMBIGUOUS.format(n=len(people), name=who, example=example))
    return people[0]


def _subject(session: Session, actor: Person | None, who: str, example: str) -> tuple[OrgUnit, Person]:
    branch = recorder_branch(session, actor)
    person = find_member(session, branch, who, example)
    # Nobody keeps the record of their own case (as nobody decides their own leave).
    if person.id == actor.id:
        raise Refused(strings.WATCH_OWN)
    return branch, person


def _who(person: Person, typed: str) -> str:
    """How to name the member in a follow-up command: as the secretary typed them (name or phone)."""
    return typed.strip() or person.name


# --- 不做党所分配的工作 -----------------------------------------------------------------------------


def record_work_not_done(
    session: Session, actor: Person | None, args: str, *, now: datetime, today: date
) -> str:
    """「未做分配工作 张三 2026-11 原因」: one member, one month, with a reason (re-recording updates it)."""
    parts = args.split(maxsplit=2)
    if len(parts) < 2:
        raise Refused(strings.WORK_USAGE)
    month = _month_arg(parts[1], today)
    if months_between(month, month_start(today)) >= WORK_BACKFILL_MONTHS:
        raise Refused(strings.WATCH_TOO_OLD.format(n=WORK_BACKFILL_MONTHS, month=strings.fmt_month(month)))
    reason = parts[2].strip() if len(parts) > 2 else ""
    if not reason:
        raise Refused(strings.WATCH_NEED_REASON)
    branch, person = _subject(session, actor, parts[0], f"未做分配工作 13800000000 {month:%Y-%m} {reason}")
    row = session.scalar(
        select(WorkNotDone).where(WorkNotDone.person_id == person.id, WorkNotDone.month == month)
    )
    updated = row is not None and row.withdrawn_at is None
    if row is None:
        row = WorkNotDone(person_id=person.id, month=month)
        session.add(row)
    row.branch_id, row.reason, row.recorded_by_id, row.recorded_at = branch.id, reason[:500], actor.id, now
    row.withdrawn_at = row.withdrawn_by_id = None
    session.flush()
    # Plain-text replies: names and reasons go back as typed (md_escape is for markdown cards).
    name, shown = person.name, strings.fmt_month(month)
    lines = [
        (strings.WORK_UPDATED if updated else strings.WORK_DONE).format(name=name, month=shown, reason=reason)
    ]
    run = work_runs(session, month, person_ids=[person.id]).get(person.id)
    if run is not None and run.n > 1:
        lines.append(strings.WORK_RUN.format(name=name, n=run.n, since=strings.fmt_month(run.first)))
    lines.append(strings.WORK_AFTER.format(who=_who(person, parts[0]), ym=f"{month:%Y-%m}"))
    return "\n\n".join(lines)


def withdraw_work_not_done(
    session: Session, actor: Person | None, args: str, *, now: datetime, today: date
) -> str:
    parts = args.split()
    if len(parts) < 2:
        raise Refused(strings.WORK_UNDO_USAGE)
    month = _month_arg(parts[1], today)
    _branch, person = _subject(session, actor, parts[0], f"撤销未做分配工作 13800000000 {month:%Y-%m}")
    row = session.scalar(
        select(WorkNotDone).where(
            WorkNotDone.person_id == person.id, WorkNotDone.month == month, WorkNotDone.withdrawn_at.is_(None)
        )
    )
    shown = strings.fmt_month(month)
    if row is None:
        return strings.WORK_NOT_FOUND.format(name=person.name, month=shown)
    row.withdrawn_at, row.withdrawn_by_id = now, actor.id
    session.flush()
    return strings.WORK_WITHDRAWN.format(name=person.name, month=shown)


def work_list(session: Session, actor: Person | None, *, today: date) -> tuple[str, str]:
    """(title, text): the branch's records of the last 12 months, per member, and how to add one."""
    branch = recorder_branch(session, actor)
    start = add_months(month_start(today), -(WORK_BACKFILL_MONTHS - 1))
    rows = session.execute(
        select(Person.name, WorkNotDone.month, WorkNotDone.reason)
        .join(Person, Person.id == WorkNotDone.person_id)
        .where(
            WorkNotDone.branch_id == branch.id, WorkNotDone.withdrawn_at.is_(None), WorkNotDone.month >= start
        )
        .order_by(Person.name, WorkNotDone.month)
    ).all()
    by_name: dict[str, list[tuple[date, str]]] = defaultdict(list)
    for name, month, reason in rows:
        by_name[name].append((month, reason))
    lines = [
        strings.WORK_LIST_LINE.format(name=md_escape(name), months=strings.fmt_months([m for m, _ in items]),
                                      reason=md_escape(items[-1][1]))
        for name, items in by_name.items()
    ] or [strings.WORK_LIST_EMPTY]  # fmt: skip
    return strings.WORK_LIST_TITLE.format(branch=branch.name), "\n".join(lines) + "\n\n" + strings.WORK_USAGE


def work_runs(session: Session, month: date, *, person_ids: list[int] | None = None) -> dict[int, MemberRun]:
    """person → the run of consecutive recorded months ending with `month`, for the active members
    with a record for `month` (one statement).

    A month without a record breaks the run: the branch states month by month that the assigned
    work was not done, and a month it did not state is not assumed.
    """
    this_month = select(WorkNotDone.person_id).where(
        WorkNotDone.month == month, WorkNotDone.withdrawn_at.is_(None)
    )
    stmt = (
        select(WorkNotDone.person_id, WorkNotDone.month, WorkNotDone.reason, Person.name, Person.branch_id)
        .join(Person, Person.id == WorkNotDone.person_id)
        .where(
            WorkNotDone.person_id.in_(this_month),
            WorkNotDone.month <= month,
            WorkNotDone.withdrawn_at.is_(None),
            Person.active.is_(True),
            Person.branch_id.is_not(None),
        )
    )
    if person_ids is not None:
        stmt = stmt.where(WorkNotDone.person_id.in_(person_ids))
    months: dict[int, dict[date, str]] = defaultdict(dict)
    who: dict[int, tuple[str, int]] = {}
    for pid, m, reason, name, branch_id in session.execute(stmt):
        months[pid][m] = reason
        who[pid] = (name, branch_id)
    out = {}
    for pid, recorded in months.items():
        run, m = [], month
        while m in recorded:
            run.append(m)
            m = add_months(m, -1)
        run.reverse()
        out[pid] = MemberRun(len(run), *who[pid], run[0], run, recorded[month])
    return out


# --- 失去联系 (E15) -------------------------------------------------------------------------------


def _open_lost(session: Session, person_id: int) -> LostContact | None:
    return session.scalar(
        select(LostContact).where(LostContact.person_id == person_id, LostContact.restored_at.is_(None))
    )


def record_lost_contact(
    session: Session, actor: Person | None, args: str, *, now: datetime, today: date
) -> str:
    """「失联 张三 2026-05 寻找情况」: the first month without contact, and what the branch tried."""
    parts = args.split(maxsplit=2)
    if len(parts) < 2:
        raise Refused(strings.LOST_USAGE)
    since = _month_arg(parts[1], today)
    note = parts[2].strip() if len(parts) > 2 else ""
    if not note:
        raise Refused(strings.WATCH_NEED_NOTE)
    branch, person = _subject(session, actor, parts[0], f"失联 13800000000 {since:%Y-%m} {note}")
    row = _open_lost(session, person.id)
    updated = row is not None
    if row is None:
        row = LostContact(person_id=person.id)
        session.add(row)
    row.branch_id, row.since, row.note, row.recorded_by_id, row.recorded_at = (
        branch.id,
        since,
        note[:500],
        actor.id,
        now,
    )
    session.flush()
    name = person.name
    text = (strings.LOST_UPDATED if updated else strings.LOST_DONE).format(
        name=name, since=strings.fmt_month(since), note=note
    )
    n = months_between(since, month_start(today)) + 1
    who = _who(person, parts[0])
    if n >= LOST_CONTACT_MONTHS:
        after = strings.LOST_OVERDUE.format(n=n, name=name, who=who)
    else:
        due = strings.fmt_month(add_months(since, LOST_CONTACT_MONTHS - 1))
        after = strings.LOST_DUE.format(due=f"{due}底", name=name, who=who)
    return f"{text}\n\n{after}"


def restore_contact(session: Session, actor: Person | None, args: str, *, now: datetime, today: date) -> str:
    parts = args.split(maxsplit=1)
    if not parts:
        raise Refused(strings.RESTORE_USAGE)
    _branch, person = _subject(session, actor, parts[0], "恢复联系 13800000000")
    row = _open_lost(session, person.id)
    if row is None:
        return strings.LOST_NOT_FOUND.format(name=person.name)
    row.restored_at, row.restored_by_id = now, actor.id
    row.restored_note = (parts[1].strip() if len(parts) > 1 else "")[:500] or None
    session.flush()
    return strings.LOST_RESTORED.format(name=person.name, since=strings.fmt_month(row.since))


def lost_list(session: Session, actor: Person | None, *, today: date) -> tuple[str, str]:
    branch = recorder_branch(session, actor)
    rows = session.execute(
        select(Person.name, LostContact.since, LostContact.note)
        .join(Person, Person.id == LostContact.person_id)
        .where(LostContact.branch_id == branch.id, LostContact.restored_at.is_(None))
        .order_by(LostContact.since, Person.name)
    ).all()
    lines = [
        strings.LOST_LIST_LINE.format(name=md_escape(name), since=strings.fmt_month(since),
                                      n=months_between(since, month_start(today)) + 1, note=md_escape(note))
        for name, since, note in rows
    ] or [strings.LOST_LIST_EMPTY]  # fmt: skip
    return strings.LOST_LIST_TITLE.format(branch=branch.name), "\n".join(lines) + "\n\n" + strings.LOST_USAGE


def lost_contact_runs(session: Session, month: date) -> dict[int, MemberRun]:
    """person → months without contact up to `month`, for every active member with an open record
    that started by then (one statement). The ladder lists those at LOST_CONTACT_MONTHS or more."""
    rows = session.execute(
        select(LostContact.person_id, LostContact.since, LostContact.note, Person.name, Person.branch_id)
        .join(Person, Person.id == LostContact.person_id)
        .where(
            LostContact.restored_at.is_(None),
            LostContact.since <= month,
            Person.active.is_(True),
            Person.branch_id.is_not(None),
        )
    )
    return {
        pid: MemberRun(months_between(since, month) + 1, name, branch_id, since, [], note)
        for pid, since, note, name, branch_id in rows
    }
