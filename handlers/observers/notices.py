"""观察提示: observers hear of their branches' coming meetings, and of their cancellation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, Text, md_escape
from handlers.common import dates
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
            (strings.FIELD_TIME, dates.fmt_when(meeting.starts_at, cfg.tz)),
            (strings.FIELD_PLACE, meeting.place),
            (strings.FIELD_TOPIC, meeting.topic),
        ),
        buttons=(
            Button(strings.BUTTON_ATTEND, action=ACTION_ATTEND, params={"meeting": str(meeting.id)}),
            Button(strings.BUTTON_EVALUATE, url=form_url(public_base_url, meeting.id)),
        ),
        card_key=f"observe:{meeting.id}",
    )


NOTICES_PREFIX = "observers:notices:"
_OLD_PREFIX = "observers:notice:"  # one row per meeting, before one card per run; still in the outbox
_KEY_LENGTH = 200  # OutboxMessage.dedup_key
# WeCom cuts a markdown message at 2,048 bytes (bot/platforms/wecom/render.py), which would drop the
# list's last meetings and the line saying how to attend; a list stays under it, with room to spare.
_CARD_BYTES = 1900


def notices_key(observer_id: int, meetings: Sequence[Meeting]) -> str:
    """The dedup key of one card to one observer: it names every (meeting, version) announced, so it
    is also the record of who was told of what (told_of). A moved meeting gets a new version and is
    announced again with its new time and place. Ids in hex keep two dozen meetings in one key."""
    return f"{NOTICES_PREFIX}{observer_id}:" + ".".join(f"{m.id:x}-{m.version:x}" for m in meetings)


def told_of(dedup_key: str) -> set[tuple[int, int]]:
    """The (meeting id, version) pairs a notice key announced; empty for any other key."""
    if dedup_key.startswith(NOTICES_PREFIX):
        pairs = dedup_key.rsplit(":", 1)[1].split(".")
        return {(int(m, 16), int(v, 16)) for m, v in (p.split("-") for p in pairs if p)}
    if dedup_key.startswith(_OLD_PREFIX):
        meeting_id, version = dedup_key[len(_OLD_PREFIX) :].split(":v")
        return {(int(meeting_id), int(version))}
    return set()


def _told(session: Session, observer_ids: Collection[int], since: datetime | None = None) -> dict[int, set]:
    """{observer: {(meeting, version) told}} from the notices in the outbox (created after `since`)."""
    stmt = select(OutboxMessage.person_id, OutboxMessage.dedup_key).where(
        OutboxMessage.person_id.in_(list(observer_ids)),
        or_(
            OutboxMessage.dedup_key.startswith(NOTICES_PREFIX),
            OutboxMessage.dedup_key.startswith(_OLD_PREFIX),
        ),
    )
    if since is not None:
        stmt = stmt.where(OutboxMessage.created_at >= since)
    told: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for person_id, key in session.execute(stmt):
        told[person_id] |= told_of(key)
    return told


def notices_card(
    meetings: Sequence[Meeting],
    units: Mapping[int, OrgUnit],
    cfg: ObserversConfig,
    public_base_url: str,
    new: int = 0,
) -> Card:
    """Several coming meetings in one card, soonest first: 列席 by replying 我要列席 with the number.
    `new`: how many the observer has not been told of, when not all of them fit."""
    lines = "\n".join(
        strings.NOTICES_LINE.format(
            id=m.id,
            when=dates.fmt_when(m.starts_at, cfg.tz),
            branch=md_escape(units[m.branch_id].name),
            title=md_escape(m.title),
            place=md_escape(m.place),
            # The seed and most secretaries title a meeting by its topic: say it once.
            topic=strings.NOTICES_TOPIC.format(topic=md_escape(m.topic)) if m.topic != m.title else "",
            url=form_url(public_base_url, m.id),
        )
        for m in meetings
    )
    return Card(
        title=strings.NOTICES_TITLE.format(count=len(meetings)),
        text=strings.NOTICES_TEXT.format(lines=lines, example=meetings[0].id)
        + (strings.NOTICES_MORE.format(count=new - len(meetings)) if new > len(meetings) else ""),
    )


def send_notices(session: Session, *, now: datetime, cfg: ObserversConfig, public_base_url: str) -> int:
    """Tell observers of every coming meeting of their branches: at most one card per observer and
    run, listing what they have not been told yet (a new assignment may bring a dozen meetings at
    once). Returns the cards queued. Safe at any cadence; meetings need not call us.

    Finds the scheduled meetings of assigned branches starting within the horizon and announces each
    (meeting, version) once per observer; the outbox's unique key makes a concurrent repeat a no-op.
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
    # A meeting starting within the horizon was announced after it entered the horizon.
    told = _told(session, {o for _, o in rows}, since=now - cfg.notice_horizon)
    todo: dict[int, list[Meeting]] = defaultdict(list)
    meeting_ids: set[int] = set()
    # Soonest first, at most `notices_per_run` meetings: a backlog (first start, a bulk import) is worked
    # off over a few runs instead of holding one long transaction.
    for meeting, observer_id in sorted(rows, key=lambda r: (r[0].starts_at, r[0].id)):
        if (meeting.id, meeting.version) in told[observer_id]:
            continue
        if meeting.id not in meeting_ids and len(meeting_ids) >= cfg.notices_per_run:
            continue
        # What does not fit in one card's key waits for the next run.
        if len(notices_key(observer_id, [*todo[observer_id], meeting])) > _KEY_LENGTH:
            continue
        meeting_ids.add(meeting.id)
        todo[observer_id].append(meeting)
    units = {
        u.id: u
        for u in session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_({m.branch_id for ms in todo.values() for m in ms}))
        )
    }
    items = []
    for observer_id, ms in todo.items():
        if not ms:
            continue
        # What does not fit in one message waits for the next run, and the card says so.
        listed = ms
        while len(listed) > 1 and _too_long(notices_card(listed, units, cfg, public_base_url, len(ms))):
            listed = listed[:-1]
        if len(listed) == 1:
            card = notice_card(listed[0], units[listed[0].branch_id], cfg, public_base_url)
        else:
            card = notices_card(listed, units, cfg, public_base_url, len(ms))
        ms = listed
        items.append(outbox.Queued([observer_id], card, notices_key(observer_id, ms)))
    return outbox.enqueue_many(session, items, now=now)


def _too_long(card: Card) -> bool:
    return len(f"**{card.title}**\n\n{card.text}".encode()) > _CARD_BYTES


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
    # Who was told of which meeting: one query over the notices to these observers.
    told: dict[int, set[int]] = defaultdict(set)
    observer_ids = {observer_id for _, observer_id in rows}
    for observer_id, pairs in _told(session, observer_ids, since=now - cfg.notice_horizon).items():
        for meeting_id, _ in pairs:
            told[meeting_id].add(observer_id)
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
            when=dates.fmt_when(meeting.starts_at, cfg.tz),
            title=meeting.title,
            reason=meeting.cancel_reason or "",
        )
        sent += outbox.enqueue_to_people(
            session, people, Text(text), dedup_key=f"observers:cancelled:{meeting.id}", now=now
        )
    return sent
