"""会议记录: due within N working days of the branch's calendar (models/workcalendar.py: national
holidays and 调休 plus the local days off), recorded from the H5 form, reminded when missing.

A meeting without minutes, or one an observer ordered reconvened, does not count as held: the
definition (meeting_counts, held_condition) is at the end of this module, and scoring, digests and
held_meeting_kinds all read it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, literal, or_, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, Text, md_escape
from handlers.common.roles import committee_people, people_with_roles
from handlers.meetings import activity, quorum, strings
from handlers.meetings.meetings import ACTION_MINUTES, get_managed_meeting, month_bounds_utc
from handlers.meetings.signin import AttendanceSheet, attendance_sheet, count_hosts_present, meeting_hosts
from handlers.meetings.types import MeetingsConfig, Refused, local_day
from models import attachments
from models.fees import LocalHoliday
from models.meetings import (
    LeaveRequest,
    LeaveStatus,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MeetingKind,
    MeetingStatus,
    MeetingType,
    Minutes,
    VoteKind,
)
from models.observers import invalidated_meeting_ids
from models.org import OrgUnit, Person
from models.workcalendar import NATIONAL, CalendarBook, WorkCalendar, add_working_days, calendar_for_unit

log = logging.getLogger(__name__)


# The old name of the shared calendar's add_working_days (national calendar by default), which the
# monthly tests still import from here.
add_workdays = add_working_days


def minutes_due_on(meeting: Meeting, cfg: MeetingsConfig, cal: WorkCalendar = NATIONAL) -> date:
    """The last day for the minutes: `minutes_workdays` working days after the meeting's day (rule 22),
    on the branch's calendar (`cal`: calendar_for_unit(session, meeting.branch_id))."""
    return cal.add_working_days(local_day(meeting.starts_at, cfg), cfg.minutes_workdays)


@dataclass(frozen=True)
class MinutesInput:
    chair: str
    recorder: str
    topics: str
    decisions: str = ""
    vote: quorum.VoteInput = quorum.VoteInput()  # whether a vote was taken, and its count (rules 10–15)
    # A 主题党日's menu items done and its 自选动作 (activity.py); None: keep what is recorded.
    menu: activity.MenuInput | None = None


def minutes_headcount(
    session: Session,
    meeting: Meeting,
    sheet: AttendanceSheet | None = None,
    hosts: Collection[int] | None = None,
) -> quorum.Headcount:
    """应到/实到 split 正式/预备 and the voting bases, from the invitees and who is present
    (rule 20). `hosts`: the 主持人 and 记录人 about to be saved, counted as count_hosts_present will
    record them (present, and a presumed host they do not include no longer present)."""
    sheet = sheet or attendance_sheet(session, meeting)
    invited = [p for p, _ in sheet.present] + sheet.leave + sheet.missing
    present = {p.id for p, _ in sheet.present}
    if hosts is not None:
        presumed = {p.id for p, a in sheet.present if a.reason == strings.HOST_PRESUMED}
        present = (present - presumed) | set(hosts)
    return quorum.headcount(session, meeting, invited, present)


def record_minutes(
    session: Session,
    actor: Person | None,
    meeting_id: int,
    data: MinutesInput,
    *,
    now: datetime,
    cfg: MeetingsConfig,
    photos: Sequence[attachments.Photo] = (),
) -> Minutes:
    """Save (or correct) the minutes. Attendance and absentees come from sign-in, not from the form.

    `photos` (already vetted by attachments.check_photos) are added in the same transaction.
    """
    meeting = get_managed_meeting(session, actor, meeting_id, cfg)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused(strings.MEETING_CANCELLED)
    if now < meeting.starts_at:
        raise Refused(strings.MINUTES_BEFORE_START)
    fields = {
        "chair": (data.chair, strings.FIELD_CHAIR, 50),
        "recorder": (data.recorder, strings.FIELD_RECORDER, 50),
    }
    clean = {}
    for key, (value, label, limit) in fields.items():
        value = (value or "").strip()
        if not value:
            raise Refused(strings.EMPTY_FIELD.format(field=label))
        if len(value) > limit:
            raise Refused(strings.TOO_LONG.format(field=label, limit=limit))
        clean[key] = value
    topics = (data.topics or "").strip()
    if not topics:
        raise Refused(strings.EMPTY_FIELD.format(field=strings.FIELD_CONTENT))
    if len(topics) > 10000:
        raise Refused(strings.TOO_LONG.format(field=strings.FIELD_CONTENT, limit=10000), ("topics",))
    if len(data.decisions or "") > 10000:
        raise Refused(strings.TOO_LONG.format(field=strings.FIELD_DECISIONS, limit=10000), ("decisions",))
    menu = None
    if data.menu is not None and MeetingType.THEME_DAY in meeting.types:
        menu = activity.check_menu(data.menu, cfg.activity)
    hosts = meeting_hosts(session, meeting, chair=clean["chair"], recorder=clean["recorder"])
    # Judged (and refused) before anything is written, with the hosts counted as they will be.
    result = quorum.judge(minutes_headcount(session, meeting, hosts=hosts), meeting.types, data.vote)
    minutes = meeting.minutes
    if minutes is None:
        due = minutes_due_on(meeting, cfg, calendar_for_unit(session, meeting.branch_id))
        minutes = Minutes(meeting=meeting, due_on=due, submitted_at=now)
        session.add(minutes)
    minutes.chair, minutes.recorder = clean["chair"], clean["recorder"]
    minutes.topics, minutes.decisions = topics, (data.decisions or "").strip()
    if menu is not None:
        minutes.menu_done, minutes.menu_extra = menu[0], menu[1] or None
    session.flush()
    count_hosts_present(session, meeting, now=now, cfg=cfg)
    sheet = attendance_sheet(session, meeting)
    head = minutes_headcount(session, meeting, sheet)
    tasks = list(session.scalars(select(MakeupTask).where(MakeupTask.meeting_id == meeting.id)))

    reasons = {
        lr.person_id: lr.reason
        for lr in session.scalars(
            select(LeaveRequest).where(
                LeaveRequest.meeting_id == meeting.id, LeaveRequest.status == LeaveStatus.APPROVED
            )
        )
    }
    absentees = [
        {"person_id": p.id, "name": p.name, "reason": reasons.get(p.id, strings.ATTENDANCE_LEAVE)}
        for p in sheet.leave
    ] + [{"person_id": p.id, "name": p.name, "reason": strings.ABSENT_NO_REASON} for p in sheet.missing]
    minutes.absentees = absentees
    minutes.expected_count, minutes.present_count = sheet.expected, len(sheet.present)
    minutes.expected_full, minutes.expected_probationary = head.expected_full, head.expected_probationary
    minutes.present_full, minutes.present_probationary = head.present_full, head.present_probationary
    was_void = minutes.needs_reconvene
    _record_vote(minutes, result)
    minutes.submitted_at, minutes.submitted_by_id = now, actor.id
    session.flush()
    try:
        attachments.attach_photos(session, attachments.MINUTES, minutes.id, list(photos), actor.id)
    except attachments.PhotoError as exc:
        raise Refused(str(exc)) from None
    if result.needs_reconvene:
        _flag_void_vote(session, meeting, result, now=now, cfg=cfg)
    elif was_void:
        _tell_no_longer_void(session, meeting, now=now, cfg=cfg)
    if result.quorum_met:
        _close_earlier_reconvenes(session, meeting, result.body)
    # Members with open 补学 for this meeting now have the material they are to study.
    holders = [
        t.person_id
        for t in tasks
        if t.status in (MakeupStatus.OPEN, MakeupStatus.RETURNED, MakeupStatus.REPORTED)
    ]
    if holders:
        outbox.enqueue_to_people(
            session,
            holders,
            Text(f"{strings.MAKEUP_TITLE.format(title=meeting.title)}\n{strings.MAKEUP_MINUTES}：{topics}"),
            dedup_key=f"meeting:{meeting.id}:minutes-to-makeup",
            now=now,
        )
    return minutes


def record_menu(
    session: Session,
    actor: Person | None,
    meeting_id: int,
    data: activity.MenuInput,
    *,
    cfg: MeetingsConfig,
) -> Minutes:
    """Record (or correct) which of the menu's fixed items a 主题党日 did and its 自选动作, from chat,
    once its minutes are saved; the form records them with the minutes. Refused before any write."""
    meeting = get_managed_meeting(session, actor, meeting_id, cfg)
    if MeetingType.THEME_DAY not in meeting.types:
        raise Refused(strings.MENU_NOT_THEME_DAY.format(id=meeting.id))
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused(strings.MEETING_CANCELLED)
    done, extra = activity.check_menu(data, cfg.activity)
    if meeting.minutes is None:
        raise Refused(strings.MENU_NEEDS_MINUTES.format(id=meeting.id))
    meeting.minutes.menu_done, meeting.minutes.menu_extra = done, extra or None
    session.flush()
    return meeting.minutes


def menu_form_context(meeting: Meeting, cfg: MeetingsConfig) -> dict[str, Any]:
    """The minutes form's menu block for a 主题党日 (checkboxes and the 自选动作); {} for other types."""
    if MeetingType.THEME_DAY not in meeting.types:
        return {}
    m = meeting.minutes
    return {"menu": activity.form_menu(cfg.activity, m.menu_done if m else None, m.menu_extra if m else None)}


def theme_days_without_menu(session: Session, branch_id: int) -> list[Meeting]:
    """The branch's held 主题党日 whose minutes record no menu yet, latest first (chat's 党日动作)."""
    return list(
        session.scalars(
            select(Meeting)
            .join(MeetingKind, MeetingKind.meeting_id == Meeting.id)
            .join(Minutes, Minutes.meeting_id == Meeting.id)
            .where(
                Meeting.branch_id == branch_id,
                MeetingKind.type == MeetingType.THEME_DAY,
                meeting_counts(),
                Minutes.menu_done.is_(None),
            )
            .order_by(Meeting.starts_at.desc())
        )
    )


def menu_shortfall(
    session: Session, lo: datetime, hi: datetime, acfg: activity.ActivityConfig
) -> dict[int, list[str]]:
    """Branch → the fixed items its 主题党日 minutes of [lo, hi) left out (those that record a menu;
    several 主题党日 in the month: what none of them did). One statement for every branch."""
    done: dict[int, set[str]] = {}
    rows = session.execute(
        select(Meeting.branch_id, Minutes.menu_done)
        .join(MeetingKind, MeetingKind.meeting_id == Meeting.id)
        .join(Minutes, Minutes.meeting_id == Meeting.id)
        .where(
            MeetingKind.type == MeetingType.THEME_DAY,
            meeting_counts(),
            Meeting.starts_at >= lo,
            Meeting.starts_at < hi,
            Minutes.menu_done.is_not(None),
        )
    )
    for branch_id, items in rows:
        done.setdefault(branch_id, set()).update(items or ())
    out = {b: activity.missing_items(items, acfg) for b, items in done.items()}
    return {b: items for b, items in out.items() if items}


def minutes_photo(
    session: Session, person: Person, meeting_id: int, photo_id: int, cfg: MeetingsConfig
) -> attachments.Attachment:
    """A photo of a meeting's minutes, for the branch's members and those who manage its meetings;
    404 when there is no such photo of these minutes, 403 for anyone else."""
    meeting = session.get(Meeting, meeting_id)
    photo = session.get(attachments.Attachment, photo_id)
    if (
        meeting is None
        or meeting.minutes is None
        or photo is None
        or photo.owner_kind != attachments.MINUTES
        or photo.owner_id != meeting.minutes.id
    ):
        raise Refused(strings.NO_PHOTO, status=404)
    if person.branch_id != meeting.branch_id:
        try:
            get_managed_meeting(session, person, meeting_id, cfg)
        except Refused:
            raise Refused(strings.PHOTO_NOT_YOURS, status=403) from None
    return photo


def _record_vote(minutes: Minutes, result: quorum.VoteResult) -> None:
    vote, limits = result.vote, result.limits
    minutes.vote_held = vote.held
    minutes.vote_kind = vote.kind if vote.held else None
    minutes.votes_for = vote.votes_for if vote.held else None
    minutes.written_votes = vote.written if vote.held else 0
    minutes.voting_base = limits.base if limits else None
    minutes.voting_present = limits.present if limits else None
    minutes.quorum_met = result.quorum_met
    minutes.vote_passed = result.passed
    minutes.needs_reconvene = result.needs_reconvene
    if not result.needs_reconvene:
        minutes.reconvened_by_id = None


def _void_vote_recipients(session: Session, meeting: Meeting, cfg: MeetingsConfig) -> list[int]:
    """The branch's secretaries and the committee's 组织委员 (MeetingsConfig.void_vote_committee_roles)."""
    people = set(people_with_roles(session, meeting.branch_id, cfg.manager_roles))
    people.update(committee_people(session, meeting.branch_id, cfg.void_vote_committee_roles))
    return sorted(people)


def _flag_void_vote(
    session: Session, meeting: Meeting, result: quorum.VoteResult, *, now: datetime, cfg: MeetingsConfig
) -> None:
    """A decision without its quorum: told, not silently saved (once per headcount, so a correction
    that is still short is told again with the new numbers)."""
    limits = result.limits
    if result.body == quorum.Body.COMMITTEE:
        template = strings.RECONVENE_COMMITTEE
    elif result.vote.kind == VoteKind.ELECTION:
        template = strings.RECONVENE_ELECTION
    else:
        template = strings.RECONVENE_CONGRESS
    branch = session.get(OrgUnit, meeting.branch_id)
    text = template.format(
        branch=md_escape(branch.name if branch else ""),
        when=strings.fmt_when(meeting.starts_at, cfg.tz),
        title=md_escape(meeting.title),
        present=limits.present,
        base=limits.base,
        needed=limits.quorum_needed,
    )
    outbox.enqueue_to_people(
        session,
        _void_vote_recipients(session, meeting, cfg),
        Card(title=strings.RECONVENE_TITLE.format(title=meeting.title), text=text),
        dedup_key=f"minutes:{meeting.id}:void:{result.vote.kind}:{limits.present}of{limits.base}",
        now=now,
    )


def _tell_no_longer_void(session: Session, meeting: Meeting, *, now: datetime, cfg: MeetingsConfig) -> None:
    outbox.enqueue_to_people(
        session,
        _void_vote_recipients(session, meeting, cfg),
        Card(
            title=strings.RECONVENE_CLEARED_TITLE.format(title=meeting.title),
            text=strings.RECONVENE_CLEARED_TEXT.format(title=md_escape(meeting.title)),
        ),
        dedup_key=f"minutes:{meeting.id}:void-cleared:{now:%Y%m%d%H%M}",
        now=now,
    )


def _close_earlier_reconvenes(session: Session, meeting: Meeting, body: quorum.Body | None) -> None:
    """A later meeting of the same body of the branch that reaches its quorum is the 补开."""
    earlier = session.scalars(
        select(Minutes)
        .join(Meeting, Meeting.id == Minutes.meeting_id)
        .where(
            Meeting.branch_id == meeting.branch_id,
            Meeting.starts_at < meeting.starts_at,
            Meeting.status == MeetingStatus.SCHEDULED,
            Minutes.needs_reconvene.is_(True),
            Minutes.reconvened_by_id.is_(None),
        )
    ).all()
    for m in earlier:
        if quorum.deciding_body(m.meeting.types) == body:
            m.reconvened_by_id = meeting.id


def meetings_missing_minutes(
    session: Session, *, now: datetime, branch_id: int | None = None
) -> list[Meeting]:
    stmt = (
        select(Meeting)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at <= now, Minutes.id.is_(None))
        .order_by(Meeting.branch_id, Meeting.starts_at)
    )
    if branch_id is not None:
        stmt = stmt.where(Meeting.branch_id == branch_id)
    return list(session.scalars(stmt))


def remind_missing_minutes(session: Session, *, now: datetime, cfg: MeetingsConfig) -> int:
    """One 待办 per branch per day listing meetings without minutes whose due day has come."""
    today = local_day(now, cfg)
    by_branch: dict[int, list[tuple[Meeting, date]]] = {}
    calendars = CalendarBook(session)
    for meeting in meetings_missing_minutes(session, now=now):
        due = minutes_due_on(meeting, cfg, calendars.for_unit(meeting.branch_id))
        if due <= today:
            by_branch.setdefault(meeting.branch_id, []).append((meeting, due))
    sent = 0
    for branch_id, items in by_branch.items():
        lines = "\n".join(
            strings.MINUTES_LINE.format(
                title=md_escape(m.title), when=strings.fmt_when(m.starts_at, cfg.tz), due=strings.fmt_day(due)
            )
            for m, due in items
        )
        # An action button, so it works without the public address: one meeting opens its form,
        # several answer with the list (handlers/meetings/chat.py, as 会议记录 does).
        one = {"meeting": str(items[0][0].id)} if len(items) == 1 else {}
        buttons = (Button(strings.MINUTES_BUTTON, action=ACTION_MINUTES, params=one),)
        sent += outbox.enqueue_to_people(
            session,
            people_with_roles(session, branch_id, cfg.manager_roles),
            Card(
                title=strings.MINUTES_REMINDER_TITLE,
                text=strings.MINUTES_REMINDER_TEXT.format(days=cfg.minutes_workdays, items=lines),
                buttons=buttons,
            ),
            dedup_key=f"minutes:{branch_id}:remind:{today:%Y%m%d}",
            now=now,
        )
    return sent


# --- held meetings: the one definition -------------------------------------------------------------
#
# Scoring, the digest and every other count of "meetings held" read these, so a rule changes once.


def meeting_counts() -> ColumnElement[bool]:
    """A meeting counts at all: not cancelled, and not ordered reconvened by an observer.

    An observer's 责令重开 (domain.md rule 58 ④, handlers/observers) voids the meeting: it is neither
    held nor a meeting whose minutes or sign-ins count; the branch has to hold it again.
    """
    return and_(Meeting.status == MeetingStatus.SCHEDULED, Meeting.id.not_in(invalidated_meeting_ids()))


def minutes_not_due_from(now: datetime, cfg: MeetingsConfig, cal: WorkCalendar = NATIONAL) -> datetime:
    """The first instant from which a meeting's minutes are not yet due on `now`'s local day, on
    the calendar `cal` (minutes_due_on's).

    A due day is non-decreasing in the meeting's day, so "not due yet" is one cut-off that SQL can
    compare with, instead of a working-day calendar per meeting.
    """
    today = local_day(now, cfg)
    day = today
    while cal.add_working_days(day - timedelta(days=1), cfg.minutes_workdays) >= today:
        day -= timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=cfg.tz).astimezone(UTC)


def local_calendars(session: Session) -> dict[str, WorkCalendar]:
    """The path of each unit with local days off → the calendar of the branches under it (its own
    and its ancestors' local days). One small statement, and one more only when there are some."""
    units = session.execute(
        select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(select(LocalHoliday.org_unit_id)))
    ).all()
    if not units:
        return {}
    book = CalendarBook(session)
    return {path: book.for_path(int(p) for p in path.strip("/").split("/") if p) for _, path in units}


def held_condition(
    now: datetime | None, cfg: MeetingsConfig, local: Mapping[str, WorkCalendar] | None = None
) -> ColumnElement[bool]:
    """Held, for a meeting that counts (meeting_counts) with its Minutes outer-joined: minutes
    recorded, or, as of `now`, started and not due yet on its branch's calendar (a meeting on the
    30th is not "missing" on the 1st). Without `now`, only recorded minutes make a meeting held.

    `local` (local_calendars) gives the branches under a unit with local days off their own cut-off;
    without it, or when those days change nothing now, every branch has the national one.
    """
    recorded = Minutes.id.is_not(None)
    if now is None:
        return recorded
    national = minutes_not_due_from(now, cfg)
    # The nearest unit with local days decides a branch's calendar, so deeper paths are tested first.
    whens = [
        (Meeting.branch_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(path))),
         minutes_not_due_from(now, cfg, cal))
        for path, cal in sorted((local or {}).items(), key=lambda pc: -len(pc[0]))
    ]  # fmt: skip
    cutoff: Any = national
    if any(c != national for _, c in whens):
        as_column = Meeting.starts_at.type
        cutoff = case(*((w, literal(c, as_column)) for w, c in whens), else_=literal(national, as_column))
    return or_(recorded, and_(Meeting.starts_at >= cutoff, Meeting.starts_at <= now))


def meeting_records(
    lo: datetime,
    hi: datetime,
    cfg: MeetingsConfig,
    *,
    now: datetime,
    local: Mapping[str, WorkCalendar] | None = None,
) -> Select:
    """Every meeting-type record that counts, started by `now` and starting in [lo, hi), with its
    minutes and whether it is held: (branch_id, type, group_id, starts_at, meeting_id,
    submitted_at, due_on, held). One row per type (an event counting as several types)."""
    return (
        select(
            Meeting.branch_id,
            MeetingKind.type,
            Meeting.group_id,
            Meeting.starts_at,
            Meeting.id,
            Minutes.submitted_at,
            Minutes.due_on,
            held_condition(now, cfg, local).label("held"),
        )
        .join(MeetingKind, MeetingKind.meeting_id == Meeting.id)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(meeting_counts(), Meeting.starts_at >= lo, Meeting.starts_at < hi, Meeting.starts_at <= now)
    )


def held_meeting_kinds(
    session: Session,
    start: date,
    end: date,
    cfg: MeetingsConfig,
    *,
    branch_ids: list[int] | None = None,
    now: datetime | None = None,
) -> list[tuple[int, MeetingType, int | None, datetime, bool]]:
    """(branch, type, group, start, minutes on time) of each held meeting-type record in [start, end).

    Held: counts (meeting_counts: not cancelled, not ordered reconvened) and minutes recorded, or,
    given `now`, minutes not due yet then on the branch's calendar (held_condition). One row per
    type. "On time" is False for a meeting held only because its minutes are not due yet.
    """
    local = local_calendars(session) if now is not None else None
    lo, _ = month_bounds_utc(start, cfg)
    hi, _ = month_bounds_utc(end, cfg)
    stmt = (
        select(
            Meeting.branch_id,
            MeetingKind.type,
            Meeting.group_id,
            Meeting.starts_at,
            Minutes.submitted_at,
            Minutes.due_on,
        )
        .join(MeetingKind, MeetingKind.meeting_id == Meeting.id)
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(
            meeting_counts(), Meeting.starts_at >= lo, Meeting.starts_at < hi, held_condition(now, cfg, local)
        )
    )
    if branch_ids is not None:
        stmt = stmt.where(Meeting.branch_id.in_(branch_ids))
    return [
        (b, t, g, s, sub is not None and local_day(sub, cfg) <= due)
        for b, t, g, s, sub, due in session.execute(stmt)
    ]
