"""请假: one request per member per meeting, before it starts; the approver decides from a card."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, CardUpdate, Text, md_escape
from handlers.meetings import strings
from handlers.meetings.types import (
    MeetingsConfig,
    PendingDecision,
    Refused,
    deciders,
    require_pending_decision,
    routing_note,
)
from models.meetings import Attendance, Invitee, LeaveRequest, LeaveStatus, Meeting, MeetingStatus
from models.org import Person

ACTION_APPROVE = "leave.approve"
ACTION_REJECT = "leave.reject"


def _card_key(leave: LeaveRequest) -> str:
    return f"leave:{leave.id}"


def request_leave(
    session: Session,
    person: Person | None,
    meeting_id: int,
    *,
    reason: str,
    now: datetime,
    cfg: MeetingsConfig,
) -> LeaveRequest:
    if person is None:
        raise Refused(strings.NOT_BOUND)
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise Refused(strings.NO_MEETING)
    if (
        session.scalar(
            select(Invitee.id).where(Invitee.meeting_id == meeting.id, Invitee.person_id == person.id)
        )
        is None
    ):
        raise Refused(strings.LEAVE_NOT_EXPECTED)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused(strings.MEETING_CANCELLED)
    if now >= meeting.starts_at:
        raise Refused(strings.LEAVE_AFTER_START.format(start=strings.fmt_when(meeting.starts_at, cfg.tz)))
    existing = session.scalars(
        select(LeaveRequest).where(LeaveRequest.meeting_id == meeting.id, LeaveRequest.person_id == person.id)
    ).first()
    if existing is not None:
        raise Refused(strings.LEAVE_DUPLICATE.format(status=strings.LEAVE_STATUS_LABELS[existing.status]))
    if (
        session.scalar(
            select(Attendance.id).where(
                Attendance.meeting_id == meeting.id, Attendance.person_id == person.id
            )
        )
        is not None
    ):
        raise Refused(strings.LEAVE_ALREADY_SIGNED)
    reason = (reason or "").strip()
    if not reason:
        raise Refused(strings.LEAVE_USAGE)
    if len(reason) > 500:
        raise Refused(strings.TOO_LONG.format(field=strings.LEAVE_REASON, limit=500))
    leave = LeaveRequest(meeting_id=meeting.id, person_id=person.id, reason=reason, requested_at=now)
    session.add(leave)
    session.flush()
    when = strings.fmt_when(meeting.starts_at, cfg.tz)
    params = {"leave": str(leave.id)}
    # Never to the member themselves: a secretary's own leave goes to the 副书记 or the committee.
    outbox.enqueue_to_people(
        session,
        deciders(session, meeting.branch_id, cfg.leave_approver_roles, person.id, cfg).people,
        Card(
            title=strings.LEAVE_CARD_TITLE.format(name=person.name),
            text=strings.LEAVE_CARD_TEXT.format(
                name=md_escape(person.name), title=md_escape(meeting.title), when=when
            ),
            fields=((strings.LEAVE_REASON, reason),),
            buttons=(
                Button(strings.LEAVE_APPROVE, action=ACTION_APPROVE, params=params),
                Button(strings.LEAVE_REJECT, action=ACTION_REJECT, params=params),
            ),
            card_key=_card_key(leave),
        ),
        dedup_key=f"leave:{leave.id}:ask",
        now=now,
    )
    return leave


def submitted_reply(session: Session, leave: LeaveRequest, cfg: MeetingsConfig) -> str:
    """The member's answer to a request: submitted, and who decides when it is not the usual people."""
    meeting = leave.meeting
    found = deciders(session, meeting.branch_id, cfg.leave_approver_roles, leave.person_id, cfg)
    when = strings.fmt_when(meeting.starts_at, cfg.tz)
    note = routing_note(session, found, what=strings.WHAT_LEAVE, verb=strings.VERB_LEAVE)
    if note:
        return strings.LEAVE_SUBMITTED_ROUTED.format(title=meeting.title, when=when, note=note)
    return strings.LEAVE_SUBMITTED.format(title=meeting.title, when=when)


LEAVE = PendingDecision(
    LeaveRequest,
    missing=strings.NO_MEETING,
    own_case=strings.LEAVE_SELF_DECISION,
    waiting=LeaveStatus.PENDING,
    not_waiting=strings.LEAVE_NOT_PENDING,
    labels=strings.LEAVE_STATUS_LABELS,
)


def decide_leave(
    session: Session,
    actor: Person | None,
    leave_id: int,
    *,
    approve: bool,
    now: datetime,
    cfg: MeetingsConfig,
    note: str = "",
) -> LeaveRequest:
    leave, found = require_pending_decision(session, actor, LEAVE, leave_id, cfg.leave_approver_roles, cfg)
    meeting = leave.meeting
    leave.status = LeaveStatus.APPROVED if approve else LeaveStatus.REJECTED
    leave.decided_at = now
    leave.decided_by_id = actor.id
    leave.decision_note = (note or "").strip()[:500] or None
    session.flush()
    member = session.get(Person, leave.person_id)
    decision = strings.LEAVE_APPROVE if approve else strings.LEAVE_REJECT
    status = strings.LEAVE_DECIDED_STATUS.format(decision=decision)
    outbox.enqueue_to_people(
        session,
        found.people,
        CardUpdate(
            card_key=_card_key(leave),
            title=strings.LEAVE_DECIDED_TITLE.format(decision=decision, name=member.name),
            text=strings.LEAVE_CARD_TEXT.format(
                name=md_escape(member.name),
                title=md_escape(meeting.title),
                when=strings.fmt_when(meeting.starts_at, cfg.tz),
            ),
            fields=((strings.LEAVE_REASON, leave.reason),),
            status_label=status,
        ),
        dedup_key=f"leave:{leave.id}:card",
        now=now,
    )
    told = (
        strings.LEAVE_APPROVED_TO_MEMBER.format(title=meeting.title)
        if approve
        else strings.LEAVE_REJECTED_TO_MEMBER.format(title=meeting.title, note=leave.decision_note or "")
    )
    outbox.enqueue_to_people(session, [member.id], Text(told), dedup_key=f"leave:{leave.id}:told", now=now)
    return leave
