"""整改: the items of a 责令纠正, reported fixed by the branch's secretary, signed off (销号) or sent
back by the observer (or the committee when the observer answers for the branch), and reminded
when due or overdue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.errors import Refused
from bot.core.messages import Button, Card, Text, md_escape
from handlers.common import dates
from handlers.common.roles import committee_people, liaison_cadres, people_with_roles
from handlers.observers import strings
from handlers.observers.assignments import answers_for_branch
from handlers.observers.forms import FormInput, ObserversConfig
from handlers.observers.periods import local_day
from models.observers import Observation, Outcome, Rectification, RectificationStatus
from models.org import OrgUnit, Person

ACTION_RECT_CONFIRM = "observers.rect_confirm"
ACTION_RECT_REOPEN = "observers.rect_reopen"


def sync_rectifications(session: Session, obs: Observation, data: FormInput) -> None:
    """Items from a 责令纠正; on an edit, untouched open items follow the form, reported ones stay."""
    current = list(session.scalars(select(Rectification).where(Rectification.observation_id == obs.id)))
    wanted = data.issues if data.outcome == Outcome.CORRECT else []
    kept = set()
    for rect in current:
        if rect.text in wanted and rect.text not in kept:
            kept.add(rect.text)
            if rect.status in (RectificationStatus.OPEN, RectificationStatus.REOPENED):
                rect.due_on = data.correct_by
        elif rect.status == RectificationStatus.OPEN:
            session.delete(rect)
    for text in wanted:
        if text not in kept:
            kept.add(text)
            session.add(
                Rectification(
                    observation_id=obs.id, branch_id=obs.branch_id, text=text, due_on=data.correct_by
                )
            )
    session.flush()
    session.expire(obs, ["rectifications"])


def rect_lines(rects: Iterable[Rectification], *, markdown: bool = False) -> str:
    """One line per item; `markdown` when the lines go into a card or markdown message (the item's
    text is the observer's own words)."""
    esc = md_escape if markdown else str
    return "\n".join(
        strings.RECT_LINE.format(
            id=r.id,
            text=esc(r.text),
            status=strings.RECT_STATUS_LABELS[r.status],
            due=dates.fmt_full_day(r.due_on),
        )
        for r in rects
    )


def _rect(session: Session, rect_id: int) -> Rectification:
    rect = session.get(Rectification, rect_id)
    if rect is None:
        raise Refused(strings.NO_RECT.format(id=rect_id))
    return rect


def report_fixed(
    session: Session, person: Person | None, rect_id: int, note: str, *, now: datetime, cfg: ObserversConfig
) -> Rectification:
    """The branch's secretary reports an item fixed, with a note; the observer gets a card to confirm."""
    if person is None:
        raise Refused(strings.NOT_BOUND)
    rect = _rect(session, rect_id)
    if person.id not in people_with_roles(session, rect.branch_id, cfg.manager_roles):
        raise Refused(strings.RECT_NOT_YOURS)
    note = (note or "").strip()
    if not note:
        raise Refused(strings.RECT_NOTE_REQUIRED.format(id=rect.id))
    if rect.status not in (RectificationStatus.OPEN, RectificationStatus.REOPENED):
        raise Refused(strings.RECT_WRONG_STATE.format(state=strings.RECT_STATUS_LABELS[rect.status]))
    rect.status = RectificationStatus.REPORTED
    rect.report_note = note[:1000]
    rect.reported_at = now
    session.flush()
    branch = session.get(OrgUnit, rect.branch_id)
    params = {"rect": str(rect.id)}
    outbox.enqueue_to_people(
        session,
        rect_confirmers(session, rect, cfg),
        Card(
            title=strings.RECT_REVIEW_TITLE.format(branch=branch.name),
            text=strings.RECT_REVIEW_TEXT.format(
                id=rect.id, text=md_escape(rect.text), note=md_escape(rect.report_note)
            ),
            buttons=(
                Button(strings.BUTTON_CONFIRM, action=ACTION_RECT_CONFIRM, params=params),
                Button(strings.BUTTON_REOPEN, action=ACTION_RECT_REOPEN, params=params),
            ),
            card_key=f"rect:{rect.id}",
        ),
        dedup_key=f"observers:rect:{rect.id}:reported:{rect.reopen_count}",
        now=now,
    )
    return rect


def rect_confirmers(session: Session, rect: Rectification, cfg: ObserversConfig) -> list[int]:
    """Who signs off (销号) a reported item: the observer who ordered it, unless they answer for the
    branch themselves; then the committee's `committee_roles` (组织委员) who do not. Maybe nobody."""
    observer_id = rect.observation.observer_id
    if not answers_for_branch(session, observer_id, rect.branch_id, cfg):
        return [observer_id]
    return [
        pid
        for pid in committee_people(session, rect.branch_id, cfg.committee_roles)
        if not answers_for_branch(session, pid, rect.branch_id, cfg)
    ]


def rect_reported_reply(session: Session, rect: Rectification, cfg: ObserversConfig) -> str:
    """The secretary's answer to 整改完成: who signs it off, when it is not the observer."""
    confirmers = rect_confirmers(session, rect, cfg)
    if confirmers == [rect.observation.observer_id]:
        return strings.RECT_REPORTED_REPLY.format(id=rect.id, text=rect.text)
    if not confirmers:
        return strings.RECT_REPORTED_NOBODY.format(id=rect.id, text=rect.text)
    names = "、".join(
        session.scalars(select(Person.name).where(Person.id.in_(confirmers)).order_by(Person.id))
    )
    return strings.RECT_REPORTED_ROUTED.format(id=rect.id, text=rect.text, names=names)


def _observer_rect(
    session: Session, person: Person | None, rect_id: int, cfg: ObserversConfig
) -> Rectification:
    if person is None:
        raise Refused(strings.NOT_BOUND)
    rect = _rect(session, rect_id)
    if person.id not in rect_confirmers(session, rect, cfg):
        candidate = person.id == rect.observation.observer_id or person.id in committee_people(
            session, rect.branch_id, cfg.committee_roles
        )
        if candidate and answers_for_branch(session, person.id, rect.branch_id, cfg):
            raise Refused(strings.RECT_SELF_CONFIRM)
        raise Refused(strings.RECT_NOT_YOURS)
    if rect.status != RectificationStatus.REPORTED:
        raise Refused(strings.RECT_WRONG_STATE.format(state=strings.RECT_STATUS_LABELS[rect.status]))
    return rect


def confirm_fixed(
    session: Session, person: Person | None, rect_id: int, *, now: datetime, cfg: ObserversConfig
) -> Rectification:
    """The observer confirms (销号), or the committee when the observer answers for the branch;
    the secretary is told."""
    rect = _observer_rect(session, person, rect_id, cfg)
    rect.status = RectificationStatus.CLOSED
    rect.closed_at = now
    session.flush()
    outbox.enqueue_to_people(
        session,
        people_with_roles(session, rect.branch_id, cfg.manager_roles),
        Text(
            strings.RECT_CONFIRMED_TO_SECRETARY.format(id=rect.id, text=rect.text)
            if person.id == rect.observation.observer_id
            else strings.RECT_CONFIRMED_BY_COMMITTEE.format(name=person.name, id=rect.id, text=rect.text)
        ),
        dedup_key=f"observers:rect:{rect.id}:closed",
        now=now,
    )
    return rect


def reopen_rect(
    session: Session, person: Person | None, rect_id: int, reason: str, *, now: datetime, cfg: ObserversConfig
) -> Rectification:
    """The observer sends an item back with a reason; the secretary must report again."""
    rect = _observer_rect(session, person, rect_id, cfg)
    reason = (reason or "").strip()
    if not reason:
        raise Refused(strings.RECT_REASON_REQUIRED.format(id=rect.id))
    rect.status = RectificationStatus.REOPENED
    rect.reopen_reason = reason[:500]
    rect.reopen_count += 1
    session.flush()
    outbox.enqueue_to_people(
        session,
        people_with_roles(session, rect.branch_id, cfg.manager_roles),
        Text(
            strings.RECT_REOPENED_TO_SECRETARY.format(id=rect.id, text=rect.text, reason=rect.reopen_reason)
        ),
        dedup_key=f"observers:rect:{rect.id}:reopened:{rect.reopen_count}",
        now=now,
    )
    return rect


def open_rectifications(
    session: Session, person: Person | None, *, cfg: ObserversConfig
) -> list[Rectification]:
    """Items not yet closed that this person answers for: as a branch's secretary or as the observer."""
    if person is None:
        raise Refused(strings.NOT_BOUND)
    managed = [
        b
        for b in ([person.branch_id] if person.branch_id else [])
        if person.id in people_with_roles(session, b, cfg.manager_roles)
    ]
    stmt = (
        select(Rectification)
        .join(Observation, Observation.id == Rectification.observation_id)
        .where(Rectification.status != RectificationStatus.CLOSED)
        .where((Rectification.branch_id.in_(managed)) | (Observation.observer_id == person.id))
        .order_by(Rectification.due_on, Rectification.id)
    )
    return list(session.scalars(stmt))


def remind_rectifications(session: Session, *, now: datetime, cfg: ObserversConfig) -> int:
    """Due-tomorrow items to the secretary; overdue ones to the secretary, copied to the committee.

    Overdue items are reminded once a week (keyed by the week since the deadline), so a daily run
    neither spams nor forgets.
    """
    today = local_day(now, cfg)
    rows = session.scalars(
        select(Rectification)
        .where(
            Rectification.status.in_([RectificationStatus.OPEN, RectificationStatus.REOPENED]),
            Rectification.due_on <= today + timedelta(days=1),
        )
        .order_by(Rectification.branch_id, Rectification.id)
    ).all()
    by_branch: dict[int, list[Rectification]] = defaultdict(list)
    for r in rows:
        by_branch[r.branch_id].append(r)
    # 包保联系: an overdue item copied to the committee reaches its 包保 cadres too.
    cadres = liaison_cadres(
        session, [b for b, rects in by_branch.items() if any(r.due_on < today for r in rects)]
    )
    sent = 0
    for branch_id, rects in by_branch.items():
        branch = session.get(OrgUnit, branch_id)
        secretaries = people_with_roles(session, branch_id, cfg.manager_roles)
        due = [r for r in rects if r.due_on >= today]
        late = [r for r in rects if r.due_on < today]
        if due:
            sent += outbox.enqueue_to_people(
                session,
                secretaries,
                Text(strings.RECT_DUE_TITLE + "\n" + strings.RECT_DUE_TEXT.format(items=rect_lines(due))),
                dedup_key=f"observers:rect_due:{branch_id}:{today:%Y%m%d}",
                now=now,
            )
        # Copied to the committee and its 包保 cadres: read once for the branch's overdue items.
        copied = (
            set(secretaries)
            | set(committee_people(session, branch_id, cfg.committee_roles))
            | set(cadres.get(branch_id, []))
            if late
            else set()
        )
        for r in late:
            week = (today - r.due_on).days // 7
            sent += outbox.enqueue_to_people(
                session,
                copied,
                Text(
                    strings.RECT_OVERDUE_TITLE.format(branch=branch.name)
                    + "\n"
                    + strings.RECT_OVERDUE_TEXT.format(items=rect_lines([r]))
                ),
                dedup_key=f"observers:rect_overdue:{r.id}:{r.reopen_count}:w{week}",
                now=now,
            )
    return sent
