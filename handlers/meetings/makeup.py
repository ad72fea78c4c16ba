"""补学: tasks for approved leave and unexcused absence, the member's report, the secretary's check,
reminders, and the per-member absence counts the monthly scoring reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, CardUpdate, Text, md_escape
from handlers.common.dates import add_months
from handlers.meetings import strings
from handlers.meetings.meetings import month_bounds_utc
from handlers.meetings.types import (
    MeetingsConfig,
    PendingDecision,
    Refused,
    deciders,
    local_day,
    require_pending_decision,
    routing_note,
)
from models.meetings import (
    Attendance,
    AttendanceStatus,
    MakeupOrigin,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MeetingStatus,
)
from models.org import Person
from models.workcalendar import NATIONAL, WorkCalendar, calendar_for_unit

ACTION_CONFIRM = "makeup.confirm"
ACTION_RETURN = "makeup.return"
OPEN_STATES = (MakeupStatus.OPEN, MakeupStatus.RETURNED)


def makeup_card(task: MakeupTask, meeting: Meeting, cfg: MeetingsConfig) -> Card:
    origin = (
        strings.MAKEUP_ORIGIN_LEAVE if task.origin == MakeupOrigin.LEAVE else strings.MAKEUP_ORIGIN_ABSENCE
    )
    fields = [(strings.MAKEUP_MATERIAL, meeting.topic)]
    if meeting.minutes is not None:
        fields.append((strings.MAKEUP_MINUTES, meeting.minutes.topics))
    return Card(
        title=strings.MAKEUP_TITLE.format(title=meeting.title),
        text=strings.MAKEUP_TEXT.format(
            origin=origin,
            title=md_escape(meeting.title),
            when=strings.fmt_when(meeting.starts_at, cfg.tz),
            due=strings.fmt_day(task.due_on),
        ),
        fields=tuple(fields),
        card_key=f"makeup:{task.id}",
    )


def makeup_due_on(meeting: Meeting, cfg: MeetingsConfig, cal: WorkCalendar = NATIONAL) -> date:
    """`makeup_days` calendar days after the meeting (rule 51: 7 days); a last day that falls on a
    rest day of the branch's calendar moves to the next working day, as a period ending on a holiday
    does (民法典 第二百零三条), unless `makeup_due_moves_off_rest_days` is off."""
    due = local_day(meeting.starts_at, cfg) + timedelta(days=cfg.makeup_days)
    return cal.next_working_day(due) if cfg.makeup_due_moves_off_rest_days else due


def create_makeup_tasks(
    session: Session,
    meeting: Meeting,
    missed: dict[int, AttendanceStatus],
    *,
    now: datetime,
    cfg: MeetingsConfig,
) -> list[MakeupTask]:
    due = makeup_due_on(meeting, cfg, calendar_for_unit(session, meeting.branch_id))
    existing = set(session.scalars(select(MakeupTask.person_id).where(MakeupTask.meeting_id == meeting.id)))
    tasks = [
        MakeupTask(
            meeting_id=meeting.id,
            person_id=pid,
            origin=MakeupOrigin.LEAVE if status == AttendanceStatus.LEAVE else MakeupOrigin.ABSENCE,
            due_on=due,
        )
        for pid, status in missed.items()
        if pid not in existing
    ]
    session.add_all(tasks)
    session.flush()
    for task in tasks:
        outbox.enqueue_to_people(
            session,
            [task.person_id],
            makeup_card(task, meeting, cfg),
            dedup_key=f"makeup:{task.id}:new",
            now=now,
        )
    return tasks


def withdraw_makeup(session: Session, meeting: Meeting, person_id: int, *, now: datetime) -> None:
    """A 补学 not yet reported is dropped when its holder turns out to have been present (the host or
    recorder, issue 15 point 5, or a late 代签); the member is told so. One already reported or
    confirmed stays."""
    for task in session.scalars(
        select(MakeupTask).where(
            MakeupTask.meeting_id == meeting.id,
            MakeupTask.person_id == person_id,
            MakeupTask.status.in_(OPEN_STATES),
        )
    ):
        session.delete(task)
        outbox.enqueue_to_people(
            session,
            [person_id],
            Text(strings.MAKEUP_WITHDRAWN.format(title=meeting.title)),
            dedup_key=f"makeup:{task.id}:withdrawn",
            now=now,
        )
    session.flush()


def open_tasks(session: Session, person_id: int) -> list[MakeupTask]:
    return list(
        session.scalars(
            select(MakeupTask)
            .where(MakeupTask.person_id == person_id, MakeupTask.status.in_(OPEN_STATES))
            .order_by(MakeupTask.due_on, MakeupTask.id)
        )
    )


def my_tasks(session: Session, person_id: int, limit: int = 20) -> list[MakeupTask]:
    return list(
        session.scalars(
            select(MakeupTask)
            .where(MakeupTask.person_id == person_id)
            .order_by(MakeupTask.due_on.desc(), MakeupTask.id.desc())
            .limit(limit)
        )
    )


def report_makeup(
    session: Session,
    person: Person | None,
    *,
    note: str,
    now: datetime,
    cfg: MeetingsConfig,
    task_id: int | None = None,
) -> MakeupTask:
    """The member says the make-up study is done (the earliest open task unless one is named)."""
    if person is None:
        raise Refused(strings.NOT_BOUND)
    tasks = open_tasks(session, person.id)
    if task_id is not None:
        tasks = [t for t in tasks if t.id == task_id]
    if not tasks:
        raise Refused(strings.MAKEUP_NONE_OPEN)
    note = (note or "").strip()
    if not note:
        raise Refused(strings.MAKEUP_NOTE_REQUIRED)
    task = tasks[0]
    task.status = MakeupStatus.REPORTED
    task.note = note[:1000]
    task.reported_at = now
    task.return_reason = None
    session.flush()
    meeting = task.meeting
    attempt = int(now.timestamp())
    params = {"task": str(task.id)}
    # Never to the member themselves: a secretary's own 补学 is checked by someone else.
    outbox.enqueue_to_people(
        session,
        deciders(session, meeting.branch_id, cfg.manager_roles, person.id, cfg).people,
        Card(
            title=strings.MAKEUP_CONFIRM_TITLE.format(name=person.name),
            text=strings.MAKEUP_CONFIRM_TEXT.format(
                name=md_escape(person.name), title=md_escape(meeting.title), note=md_escape(task.note)
            ),
            buttons=(
                Button(strings.MAKEUP_CONFIRM, action=ACTION_CONFIRM, params=params),
                Button(strings.MAKEUP_RETURN, action=ACTION_RETURN, params=params),
            ),
            card_key=f"makeup:{task.id}:check",
        ),
        dedup_key=f"makeup:{task.id}:reported:{attempt}",
        now=now,
    )
    return task


def reported_reply(session: Session, task: MakeupTask, cfg: MeetingsConfig) -> str:
    """The member's answer to a report: sent, and who confirms when it is not the usual people."""
    meeting = task.meeting
    found = deciders(session, meeting.branch_id, cfg.manager_roles, task.person_id, cfg)
    note = routing_note(session, found, what=strings.WHAT_MAKEUP, verb=strings.VERB_MAKEUP)
    if note:
        return strings.MAKEUP_REPORTED_ROUTED.format(title=meeting.title, note=note)
    return strings.MAKEUP_REPORTED.format(title=meeting.title)


MAKEUP = PendingDecision(
    MakeupTask,
    missing=strings.MAKEUP_NONE_OPEN,
    own_case=strings.MAKEUP_SELF_DECISION,
    waiting=MakeupStatus.REPORTED,
    not_waiting=strings.MAKEUP_NOT_REPORTED,
    labels=strings.MAKEUP_STATUS_LABELS,
)


def decide_makeup(
    session: Session,
    actor: Person | None,
    task_id: int,
    *,
    confirm: bool,
    now: datetime,
    cfg: MeetingsConfig,
    reason: str = "",
) -> MakeupTask:
    task, found = require_pending_decision(session, actor, MAKEUP, task_id, cfg.manager_roles, cfg)
    meeting = task.meeting
    stamp = int(task.reported_at.timestamp()) if task.reported_at else 0
    if confirm:
        task.status = MakeupStatus.CONFIRMED
        task.confirmed_at = now
        task.confirmed_by_id = actor.id
        told = strings.MAKEUP_CONFIRMED_TO_MEMBER.format(title=meeting.title)
        decision = strings.MAKEUP_CONFIRM
    else:
        task.status = MakeupStatus.RETURNED
        task.return_reason = (reason or "").strip()[:500] or strings.MAKEUP_RETURN_REASON_DEFAULT
        told = strings.MAKEUP_RETURNED_TO_MEMBER.format(title=meeting.title, reason=task.return_reason)
        decision = strings.MAKEUP_RETURN
    session.flush()
    member = session.get(Person, task.person_id)
    status = strings.MAKEUP_DECIDED_STATUS.format(decision=decision)
    outbox.enqueue_to_people(
        session,
        found.people,
        CardUpdate(
            card_key=f"makeup:{task.id}:check",
            title=strings.MAKEUP_CONFIRM_TITLE.format(name=member.name) + f"（{status}）",
            text=strings.MAKEUP_CONFIRM_TEXT.format(
                name=md_escape(member.name), title=md_escape(meeting.title), note=md_escape(task.note or "")
            ),
            status_label=status,
        ),
        dedup_key=f"makeup:{task.id}:decided:{stamp}",
        now=now,
    )
    outbox.enqueue_to_people(
        session, [member.id], Text(told), dedup_key=f"makeup:{task.id}:told:{stamp}", now=now
    )
    return task


def remind_makeup(session: Session, *, now: datetime, cfg: MeetingsConfig) -> int:
    """Open tasks due tomorrow get one reminder; overdue ones one a day (run daily by the scheduler)."""
    today = local_day(now, cfg)
    tasks = session.scalars(
        select(MakeupTask).where(
            MakeupTask.status.in_(OPEN_STATES), MakeupTask.due_on <= today + timedelta(days=1)
        )
    ).all()
    sent = 0
    for task in tasks:
        title = task.meeting.title
        due = strings.fmt_day(task.due_on)
        if task.due_on < today:
            text, key = strings.MAKEUP_OVERDUE_TEXT.format(title=title, due=due), f"overdue:{today:%Y%m%d}"
        else:
            text, key = strings.MAKEUP_DUE_TEXT.format(title=title, due=due), "due"
        sent += outbox.enqueue_to_people(
            session,
            [task.person_id],
            Text(f"{strings.MAKEUP_REMINDER_TITLE}：{text}"),
            dedup_key=f"makeup:{task.id}:{key}",
            now=now,
        )
    return sent


@dataclass(frozen=True)
class AbsenceCount:
    absent_in_month: int  # unexcused absences at meetings in the month
    consecutive: int  # unexcused absences in a row, ending with the member's last meeting in the month


def absence_counts(
    session: Session,
    month: date,
    cfg: MeetingsConfig,
    *,
    branch_ids: Iterable[int] | None = None,
    lookback_months: int = 12,
) -> dict[int, AbsenceCount]:
    """Per member with at least one unexcused absence: counts for `month` (one query, no N+1).

    A streak is broken by any attendance other than 缺席 (present, late, or approved leave).
    Only closed meetings count, looking back `lookback_months` for the streak.
    """
    start, end = month_bounds_utc(month, cfg)
    lookback_start, _ = month_bounds_utc(add_months(month, -lookback_months), cfg)
    stmt = (
        select(Attendance.person_id, Attendance.status, Meeting.starts_at)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at >= lookback_start,
            Meeting.starts_at < end,
        )
        .order_by(Attendance.person_id, Meeting.starts_at.desc())
    )
    if branch_ids is not None:
        stmt = stmt.where(Meeting.branch_id.in_(list(branch_ids)))
    out: dict[int, AbsenceCount] = {}
    current, in_month, streak, broken = None, 0, 0, False

    def flush() -> None:
        if current is not None and (in_month or streak):
            out[current] = AbsenceCount(in_month, streak)

    for pid, status, starts_at in session.execute(stmt):
        if pid != current:
            flush()
            current, in_month, streak, broken = pid, 0, 0, False
        absent = status == AttendanceStatus.ABSENT
        if absent and starts_at >= start:
            in_month += 1
        if not broken:
            if absent:
                streak += 1
            else:
                broken = True
    flush()
    return out
