"""Meetings: schedule (from a plan or ad hoc), move, cancel, notices, reminders and the month's list.

Use cases take the session, the acting person, `now` (aware UTC) and the config, check roles first
and raise Refused before writing anything; they never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.core import outbox
from bot.core.messages import Button, Card
from handlers.common.dates import period_bounds
from handlers.meetings import activity, strings
from handlers.meetings.types import (
    PRESENT_STATUSES,
    MeetingsConfig,
    Refused,
    check_group,
    expected_person_ids,
    local_day,
    managed_branch,
    require_role,
    types_label,
)
from models.meetings import (
    Attendance,
    Invitee,
    Meeting,
    MeetingKind,
    MeetingStatus,
    MeetingType,
)
from models.observers import invalidated_meeting_ids
from models.org import OrgUnit, Person
from models.workcalendar import calendar_for_unit

ACTION_LEAVE = "meetings.leave"
ACTION_DETAIL = "meetings.detail"
ACTION_SIGNIN_CODE = "meetings.signin_code"
ACTION_MINUTES = "meetings.minutes"

LIMITS = {"title": 200, "topic": 500, "place": 200}


def _clean(value: str | None, field: str, label: str, *, form_field: str | None = None) -> str:
    """The text stripped and within LIMITS[field]; a refusal names `form_field` (default `field`)."""
    value = (value or "").strip()
    at = (form_field or field,)
    if not value:
        raise Refused(strings.EMPTY_FIELD.format(field=label), at)
    if len(value) > LIMITS[field]:
        raise Refused(strings.TOO_LONG.format(field=label, limit=LIMITS[field]), at)
    return value


def validate_types(types: Iterable[MeetingType | str]) -> list[MeetingType]:
    out: list[MeetingType] = []
    for t in types:
        try:
            mt = MeetingType(t)
        except ValueError:
            from handlers.meetings.types import parse_type

            mt = parse_type(str(t))
        if mt not in out:
            out.append(mt)
    if not out:
        raise Refused(strings.NO_TYPES)
    return out


def invitee_ids(session: Session, meeting_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Invitee.person_id).where(Invitee.meeting_id == meeting_id).order_by(Invitee.person_id)
        )
    )


def invitees_by_meeting(session: Session, meeting_ids: list[int]) -> dict[int, list[int]]:
    """invitee_ids for many meetings in one query (for the jobs that walk many meetings)."""
    out: dict[int, list[int]] = {}
    if meeting_ids:
        rows = session.execute(
            select(Invitee.meeting_id, Invitee.person_id)
            .where(Invitee.meeting_id.in_(meeting_ids))
            .order_by(Invitee.meeting_id, Invitee.person_id)
        )
        for meeting_id, person_id in rows:
            out.setdefault(meeting_id, []).append(person_id)
    return out


def notice_card(meeting: Meeting, cfg: MeetingsConfig, *, title: str, text: str) -> Card:
    return Card(
        title=title,
        text=text,
        fields=(
            (strings.FIELD_NUMBER, f"#{meeting.id}"),
            (strings.FIELD_TIME, strings.fmt_when(meeting.starts_at, cfg.tz)),
            (strings.FIELD_PLACE, meeting.place),
            (strings.FIELD_TOPIC, meeting.topic),
            (strings.FIELD_TYPES, types_label(meeting.types)),
        ),
        buttons=(
            Button(strings.BUTTON_LEAVE, action=ACTION_LEAVE, params={"meeting": str(meeting.id)}),
            Button(strings.BUTTON_DETAIL, action=ACTION_DETAIL, params={"meeting": str(meeting.id)}),
        ),
        card_key=f"meeting:{meeting.id}",
    )


def activity_day_note(session: Session, meeting: Meeting, cfg: MeetingsConfig) -> str:
    """A 主题党日's line on the 党员活动日 (on it, or not the same day: allowed, but said); "" for other
    types or without a fixed day."""
    if cfg.activity.rule == activity.DayRule.NONE or MeetingType.THEME_DAY not in meeting.types:
        return ""
    cal = calendar_for_unit(session, meeting.branch_id)
    return activity.meeting_day_note(local_day(meeting.starts_at, cfg), cfg.activity, cal)


def _with_note(text: str, note: str) -> str:
    return f"{text}\n\n{note}" if note else text


def create_meeting(
    session: Session,
    *,
    branch_id: int,
    types: Sequence[MeetingType | str],
    starts_at: datetime,
    place: str,
    topic: str,
    now: datetime,
    cfg: MeetingsConfig,
    title: str = "",
    group_id: int | None = None,
    created_by_id: int | None = None,
    notify: bool = True,
) -> Meeting:
    """Schedule a meeting (no role check: callers check), fix its invitees and send the notice."""
    kinds = validate_types(types)
    place = _clean(place, "place", strings.FIELD_PLACE)
    topic = _clean(topic, "topic", strings.FIELD_TOPIC)
    title = (title or "").strip() or f"{types_label(kinds)}：{topic}"[: LIMITS["title"]]
    if starts_at.tzinfo is None:
        raise Refused(strings.BAD_TIME)
    check_group(session, branch_id, group_id)
    if MeetingType.GROUP_MEETING in kinds and group_id is None:
        raise Refused(strings.GROUP_REQUIRED, ("group_id",))
    people = expected_person_ids(session, branch_id, kinds, cfg, group_id)
    meeting = Meeting(
        branch_id=branch_id,
        group_id=group_id,
        title=title,
        topic=topic,
        place=place,
        starts_at=starts_at,
        created_by_id=created_by_id,
        kinds=[MeetingKind(type=k) for k in kinds],
    )
    session.add(meeting)
    session.flush()
    session.add_all(Invitee(meeting_id=meeting.id, person_id=pid) for pid in people)
    session.flush()
    if notify:
        outbox.enqueue_to_people(
            session,
            people,
            notice_card(
                meeting,
                cfg,
                title=strings.NOTICE_TITLE.format(title=meeting.title),
                text=_with_note(strings.NOTICE_TEXT, activity_day_note(session, meeting, cfg)),
            ),
            dedup_key=f"meeting:{meeting.id}:notice",
            now=now,
        )
    return meeting


def schedule_meeting(
    session: Session,
    actor: Person | None,
    *,
    types: Sequence[MeetingType | str],
    starts_at: datetime,
    place: str,
    topic: str,
    now: datetime,
    cfg: MeetingsConfig,
    title: str = "",
    group_id: int | None = None,
) -> Meeting:
    """An ad hoc meeting by the branch's secretary (or a configured role)."""
    branch = managed_branch(session, actor, cfg)
    if starts_at <= now:
        raise Refused(strings.TIME_IN_PAST)
    return create_meeting(
        session,
        branch_id=branch.id,
        types=types,
        starts_at=starts_at,
        place=place,
        topic=topic,
        now=now,
        cfg=cfg,
        title=title,
        group_id=group_id,
        created_by_id=actor.id,
    )


def get_managed_meeting(
    session: Session, actor: Person | None, meeting_id: int, cfg: MeetingsConfig, *, authorised: bool = False
) -> Meeting:
    """The meeting, if `actor` manages its branch; otherwise a refusal (never another branch's).

    `authorised`: the caller has already checked the right to act on this meeting by other means
    (the JSON API's token scope), so no person's role is required and `actor` may be None.
    """
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise Refused(strings.NO_MEETING, status=404)
    if authorised:
        return meeting
    if actor is None:
        raise Refused(strings.NOT_BOUND, status=403)
    require_role(session, actor, meeting.branch_id, cfg.manager_roles)
    return meeting


def move_meeting(
    session: Session,
    actor: Person | None,
    meeting_id: int,
    *,
    now: datetime,
    cfg: MeetingsConfig,
    starts_at: datetime | None = None,
    place: str | None = None,
    authorised: bool = False,
) -> int:
    meeting = get_managed_meeting(session, actor, meeting_id, cfg, authorised=authorised)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused(strings.MEETING_CANCELLED, status=409)
    if starts_at is not None and starts_at <= now:
        raise Refused(strings.TIME_IN_PAST, ("starts_at",))
    if place is not None:
        place = _clean(place, "place", strings.FIELD_PLACE)
    # The notice says what changed from what: people remember the old time, not the new one.
    was = strings.MOVED_FROM.format(when=strings.fmt_when(meeting.starts_at, cfg.tz), place=meeting.place)
    if starts_at is not None:
        meeting.starts_at = starts_at
    if place is not None:
        meeting.place = place
    meeting.version += 1
    session.flush()
    return outbox.enqueue_to_people(
        session,
        invitee_ids(session, meeting.id),
        notice_card(
            meeting,
            cfg,
            title=strings.MOVED_TITLE.format(title=meeting.title),
            text=_with_note(strings.MOVED_TEXT.format(was=was), activity_day_note(session, meeting, cfg)),
        ),
        dedup_key=f"meeting:{meeting.id}:v{meeting.version}:moved",
        now=now,
    )


def cancel_meeting(
    session: Session,
    actor: Person | None,
    meeting_id: int,
    *,
    reason: str,
    now: datetime,
    cfg: MeetingsConfig,
    authorised: bool = False,
) -> int:
    meeting = get_managed_meeting(session, actor, meeting_id, cfg, authorised=authorised)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused(strings.MEETING_CANCELLED, status=409)
    reason = _clean(reason, "topic", strings.CANCEL_REASON, form_field="reason")
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancel_reason = reason
    session.flush()
    from bot.core.messages import Text

    return outbox.enqueue_to_people(
        session,
        invitee_ids(session, meeting.id),
        Text(
            strings.CANCELLED_TITLE.format(title=meeting.title)
            + "\n"
            + strings.CANCELLED_TEXT.format(reason=reason)
        ),
        dedup_key=f"meeting:{meeting.id}:cancelled",
        now=now,
    )


def send_reminders(session: Session, *, now: datetime, cfg: MeetingsConfig) -> int:
    """Remind invitees of meetings starting within each configured offset. Safe to run at any cadence.

    Each (meeting, version, offset) has its own dedup key, so a repeat run, a restart or a second
    scheduler adds nothing, and a moved meeting (new version) is reminded again.
    """
    sent = 0
    for offset in sorted(cfg.reminder_offsets, reverse=True):
        meetings = session.scalars(
            select(Meeting)
            .options(selectinload(Meeting.kinds))
            .where(
                Meeting.status == MeetingStatus.SCHEDULED,
                Meeting.starts_at > now,
                Meeting.starts_at <= now + offset,
            )
        ).all()
        # Skip the long reminder when the meeting is already inside a shorter one's reach
        # (scheduled late), so people are not reminded twice within minutes.
        shorter = [o for o in cfg.reminder_offsets if o < offset]
        if shorter:
            meetings = [m for m in meetings if m.starts_at > now + max(shorter)]
        invitees = invitees_by_meeting(session, [m.id for m in meetings])
        minutes = int(offset.total_seconds() // 60)
        for meeting in meetings:
            sent += outbox.enqueue_to_people(
                session,
                invitees.get(meeting.id, []),
                notice_card(
                    meeting,
                    cfg,
                    title=strings.REMINDER_TITLE.format(title=meeting.title),
                    text=strings.REMINDER_TEXT.format(when=strings.fmt_when(meeting.starts_at, cfg.tz)),
                ),
                dedup_key=f"meeting:{meeting.id}:v{meeting.version}:remind:{minutes}m",
                now=now,
            )
    return sent


def signin_window(meeting: Meeting, cfg: MeetingsConfig) -> tuple[datetime, datetime]:
    return meeting.starts_at - cfg.signin_opens_before, meeting.starts_at + cfg.signin_closes_after


def current_meeting(session: Session, branch_id: int, now: datetime, cfg: MeetingsConfig) -> Meeting | None:
    """The branch's meeting whose sign-in window holds `now` (the nearest start if several)."""
    rows = session.scalars(
        select(Meeting)
        .where(
            Meeting.branch_id == branch_id,
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at >= now - cfg.signin_closes_after,
            Meeting.starts_at <= now + cfg.signin_opens_before,
        )
        .order_by(Meeting.starts_at)
    ).all()
    if not rows:
        return None
    return min(rows, key=lambda m: abs((m.starts_at - now).total_seconds()))


def month_bounds_utc(month: date, cfg: MeetingsConfig) -> tuple[datetime, datetime]:
    """The month holding `month`, local midnight to local midnight, in UTC."""
    start, end = (
        datetime.combine(d, time(0), tzinfo=cfg.tz).astimezone(UTC) for d in period_bounds(month, 1)
    )
    return start, end


def meeting_state(
    meeting: Meeting,
    now: datetime,
    cfg: MeetingsConfig,
    present: int,
    expected: int,
    *,
    reopened: bool = False,
) -> str:
    opens, closes = signin_window(meeting, cfg)
    if meeting.status == MeetingStatus.CANCELLED:
        return strings.STATE_CANCELLED
    if now < opens:
        return strings.STATE_UPCOMING
    if now <= closes:
        return strings.STATE_OPEN
    if reopened:
        # The same rule as held_meeting_kinds: it does not count, with or without minutes.
        return strings.STATE_REOPENED.format(present=present, expected=expected)
    if meeting.minutes is None:
        return strings.STATE_NO_MINUTES.format(present=present, expected=expected)
    state = strings.STATE_HELD.format(present=present, expected=expected)
    if meeting.minutes.needs_reconvene:
        # A vote without its quorum (handlers/meetings/quorum.py): the secretary sees it in the list.
        state += (
            strings.STATE_RECONVENED if meeting.minutes.reconvened_by_id else strings.STATE_NEEDS_RECONVENE
        )
    return state


def month_overview(
    session: Session, actor: Person | None, *, month: date, now: datetime, cfg: MeetingsConfig
) -> tuple[OrgUnit, list[tuple[Meeting, str]]]:
    """The branch's meetings in `month` with their state, for its secretary (four queries in all)."""
    branch = managed_branch(session, actor, cfg)
    start, end = month_bounds_utc(month, cfg)
    meetings = session.scalars(
        select(Meeting)
        .options(selectinload(Meeting.kinds), selectinload(Meeting.minutes))
        .where(Meeting.branch_id == branch.id, Meeting.starts_at >= start, Meeting.starts_at < end)
        .order_by(Meeting.starts_at)
    ).all()
    ids = [m.id for m in meetings]
    expected = dict(
        session.execute(
            select(Invitee.meeting_id, func.count())
            .where(Invitee.meeting_id.in_(ids))
            .group_by(Invitee.meeting_id)
        ).all()
    )
    present = dict(
        session.execute(
            select(Attendance.meeting_id, func.count())
            .where(
                Attendance.meeting_id.in_(ids),
                Attendance.status.in_(PRESENT_STATUSES),
            )
            .group_by(Attendance.meeting_id)
        ).all()
    )
    # An observer's 责令重开 (handlers/observers) means the meeting no longer counts as held.
    reopened = set(
        session.scalars(
            select(Meeting.id).where(Meeting.id.in_(ids), Meeting.id.in_(invalidated_meeting_ids()))
        )
    )
    return branch, [
        (
            m,
            meeting_state(
                m, now, cfg, present.get(m.id, 0), expected.get(m.id, 0), reopened=m.id in reopened
            ),
        )
        for m in meetings
    ]


def upcoming_for_member(
    session: Session, person_id: int, now: datetime, cfg: MeetingsConfig
) -> Meeting | None:
    """The member's next meeting that has not started yet and they have not signed in to (for 请假
    by message: one whose window is open and that they are at is not the one they mean)."""
    signed_in = select(Attendance.meeting_id).where(Attendance.person_id == person_id)
    return session.scalars(
        select(Meeting)
        .join(Invitee, Invitee.meeting_id == Meeting.id)
        .where(
            Invitee.person_id == person_id,
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
            Meeting.id.not_in(signed_in),
        )
        .order_by(Meeting.starts_at)
        .limit(1)
    ).first()
