"""观察提示: observers hear of their branches' coming meetings, and of their cancellation."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, Text
from handlers.observers import strings
from handlers.observers.forms import H5_PREFIX, ObserversConfig
from models.meetings import Meeting, MeetingStatus
from models.observers import ObserverAssignment
from models.org import OrgUnit
from models.outbox import OutboxMessage

ACTION_ATTEND = "observers.attend"


def form_url(public_base_url: str, meeting_id: int) -> str:
    return f"{public_base_url.rstrip('/')}{H5_PREFIX}/{meeting_id}/form"


def notice_card(meeting: Meeting, branch: OrgUnit, cfg: ObserversConfig, public_base_url: str) -> Card:
    return Card(
        title=strings.NOTICE_TITLE.format(branch=branch.name, title=meeting.title),
        text=strings.NOTICE_TEXT,
        fields=(
            (strings.FIELD_BRANCH, branch.name),
            (strings.FIELD_TIME, strings.fmt_when(meeting.starts_at, cfg.tz)),
            (strings.FIELD_PLACE, meeting.place),
            (strings.FIELD_TOPIC, meeting.topic),
        ),
        buttons=(
            Button(strings.BUTTON_ATTEND, action=ACTION_ATTEND, params={"meeting": str(meeting.id)}),
            Button(strings.BUTTON_EVALUATE, url=form_url(public_base_url, meeting.id)),
        ),
        card_key=f"observe:{meeting.id}",
    )


def notice_key(meeting: Meeting) -> str:
    # Keyed by the meeting's version: a moved meeting is announced again with its new time and place.
    return f"observers:notice:{meeting.id}:v{meeting.version}"


def send_notices(session: Session, *, now: datetime, cfg: ObserversConfig, public_base_url: str) -> int:
    """Tell observers of every coming meeting of their branches. Safe at any cadence.

    Finds the scheduled meetings of assigned branches starting within the horizon and sends each
    (meeting, version) once per observer: keys already in the outbox are skipped up front, and the
    outbox's unique key makes a concurrent repeat a no-op. Meetings need not call us.
    """
    rows = session.execute(
        select(Meeting, ObserverAssignment.observer_id)
        .join(ObserverAssignment, ObserverAssignment.branch_id == Meeting.branch_id)
        .where(
            ObserverAssignment.active.is_(True),
            Meeting.status == MeetingStatus.SCHEDULED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + cfg.notice_horizon,
        )
    ).all()
    if not rows:
        return 0
    keys = sorted({notice_key(m) for m, _ in rows})
    done: set[tuple[str, int]] = set()
    for start in range(0, len(keys), 500):  # bounded IN lists: SQLite caps bound parameters
        done.update(
            session.execute(
                select(OutboxMessage.dedup_key, OutboxMessage.person_id).where(
                    OutboxMessage.dedup_key.in_(keys[start : start + 500])
                )
            ).all()
        )
    todo: dict[int, tuple[Meeting, list[int]]] = {}
    # Soonest first, at most `notices_per_run` meetings: a backlog (first start, a bulk import) is worked
    # off over a few runs instead of holding one long transaction.
    for meeting, observer_id in sorted(rows, key=lambda r: (r[0].starts_at, r[0].id)):
        if (notice_key(meeting), observer_id) not in done:
            if meeting.id not in todo and len(todo) >= cfg.notices_per_run:
                continue
            todo.setdefault(meeting.id, (meeting, []))[1].append(observer_id)
    units = {
        u.id: u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_({m.branch_id for m, _ in todo.values()}))
        )
    }
    sent = 0
    for meeting, people in todo.values():
        sent += outbox.enqueue_to_people(
            session,
            people,
            notice_card(meeting, units[meeting.branch_id], cfg, public_base_url),
            dedup_key=notice_key(meeting),
            now=now,
        )
    return sent


def send_cancellations(session: Session, *, now: datetime, cfg: ObserversConfig) -> int:
    """Observers who were told of a meeting hear when it is cancelled (once per meeting and observer)."""
    rows = session.execute(
        select(Meeting, ObserverAssignment.observer_id)
        .join(ObserverAssignment, ObserverAssignment.branch_id == Meeting.branch_id)
        .where(
            ObserverAssignment.active.is_(True),
            Meeting.status == MeetingStatus.CANCELLED,
            Meeting.starts_at > now,
            Meeting.starts_at <= now + cfg.notice_horizon,
        )
    ).all()
    meetings = {m.id: m for m, _ in rows}
    observers: dict[int, set[int]] = defaultdict(set)
    for meeting, observer_id in rows:
        observers[meeting.id].add(observer_id)
    if not meetings:
        return 0
    # Who was told of which meeting: one query over the notices of these meetings to these observers.
    told: dict[int, set[int]] = defaultdict(set)
    for person_id, key in session.execute(
        select(OutboxMessage.person_id, OutboxMessage.dedup_key).where(
            OutboxMessage.person_id.in_({observer_id for _, observer_id in rows}),
            or_(*(OutboxMessage.dedup_key.startswith(f"observers:notice:{mid}:v") for mid in meetings)),
        )
    ):
        told[int(key.split(":")[2])].add(person_id)
    units = {
        u.id: u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_({m.branch_id for m in meetings.values()}))
        )
    }
    sent = 0
    for meeting_id, meeting in meetings.items():
        people = told[meeting_id] & observers[meeting_id]
        if not people:
            continue
        text = strings.CANCELLED_TEXT.format(
            branch=units[meeting.branch_id].name,
            when=strings.fmt_when(meeting.starts_at, cfg.tz),
            title=meeting.title,
            reason=meeting.cancel_reason or "",
        )
        sent += outbox.enqueue_to_people(
            session, people, Text(text), dedup_key=f"observers:cancelled:{meeting.id}", now=now
        )
    return sent
