"""The weekly 待办 card to each branch secretary: what waits on them. Nothing is sent when the list is empty.

Each kind of item is one GROUP BY statement over every branch, so the card costs the same for a
county or a city.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card
from handlers.meetings.plans import branches_without_plan, plan_deadline, plan_month_for
from handlers.meetings.types import MeetingsConfig
from handlers.meetings.types import get_config as meetings_config
from handlers.monthly import strings
from handlers.monthly.config import MonthlyConfig, get_config
from handlers.monthly.recipients import RoleBook
from models.fees import FeePayment, PaymentStatus
from models.meetings import (
    LeaveRequest,
    LeaveStatus,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MeetingStatus,
    Minutes,
)


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def todo_items(
    session: Session, *, now: datetime, mcfg: MonthlyConfig, cfg: MeetingsConfig
) -> dict[int, list[str]]:
    """branch → the lines of its 待办 (only branches with something waiting)."""
    tz = cfg.tz
    today = now.astimezone(tz).date()
    items: dict[int, list[str]] = defaultdict(list)

    month = plan_month_for(now, cfg)
    deadline = plan_deadline(month, cfg)
    if deadline.date() - today <= timedelta(days=mcfg.todo_plan_days):
        text = strings.TODO_PLAN_LATE if deadline.date() < today else strings.TODO_PLAN
        line = text.format(month=strings.fmt_month(month), deadline=_day(deadline.date()))
        for branch in branches_without_plan(session, month):
            items[branch.id].append(line)

    for branch_id, n, first in session.execute(
        select(Meeting.branch_id, func.count(), func.min(Meeting.starts_at))
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at <= now, Minutes.id.is_(None))
        .group_by(Meeting.branch_id)
    ):
        items[branch_id].append(strings.TODO_MINUTES.format(n=n, first=_day(first.astimezone(tz).date())))

    simple = (
        (
            select(Meeting.branch_id, func.count())
            .join(LeaveRequest, LeaveRequest.meeting_id == Meeting.id)
            .where(LeaveRequest.status == LeaveStatus.PENDING, Meeting.status == MeetingStatus.SCHEDULED)
            .group_by(Meeting.branch_id),
            strings.TODO_LEAVE,
        ),
        (
            select(Meeting.branch_id, func.count())
            .join(MakeupTask, MakeupTask.meeting_id == Meeting.id)
            .where(MakeupTask.status == MakeupStatus.REPORTED)
            .group_by(Meeting.branch_id),
            strings.TODO_MAKEUP,
        ),
        (
            select(FeePayment.branch_id, func.count())
            .where(FeePayment.status == PaymentStatus.REPORTED, FeePayment.branch_id.is_not(None))
            .group_by(FeePayment.branch_id),
            strings.TODO_FEES,
        ),
    )
    for stmt, text in simple:
        for branch_id, n in session.execute(stmt):
            items[branch_id].append(text.format(n=n))

    try:
        from models.observers import Rectification, RectificationStatus
    except ImportError:  # the observers feature is not installed
        Rectification = None  # noqa: N806
    if Rectification is not None:
        for branch_id, n, first in session.execute(
            select(Rectification.branch_id, func.count(), func.min(Rectification.due_on))
            .where(
                Rectification.status != RectificationStatus.CLOSED,
                Rectification.due_on <= today + timedelta(days=7),
            )
            .group_by(Rectification.branch_id)
        ):
            items[branch_id].append(strings.TODO_RECT.format(n=n, first=_day(first)))
    return dict(items)


def week_of(now: datetime, cfg: MeetingsConfig) -> date:
    day = now.astimezone(cfg.tz).date()
    return day - timedelta(days=day.weekday())


def send_todos(
    session: Session,
    *,
    now: datetime,
    base_url: str = "",
    mcfg: MonthlyConfig | None = None,
    cfg: MeetingsConfig | None = None,
) -> int:
    mcfg = mcfg or get_config()
    cfg = cfg or meetings_config()
    items = todo_items(session, now=now, mcfg=mcfg, cfg=cfg)
    if not items:
        return 0
    from handlers.monthly.scoring import load_units

    units = load_units(session)
    book = RoleBook(session, set(mcfg.branch_manager_roles))
    week = week_of(now, cfg)
    cards = []
    for branch_id, lines in sorted(items.items()):
        unit = units.get(branch_id)
        people = book.on(branch_id, mcfg.branch_manager_roles)
        if unit is None or not people:
            continue
        buttons = ()
        if base_url:
            buttons = (Button(strings.TODO_BUTTON, url=f"{base_url.rstrip('/')}/h5/meetings/new"),)
        card = Card(
            title=strings.TODO_TITLE.format(branch=unit.name),
            text="\n".join(f"- {line}" for line in lines),
            buttons=buttons,
        )
        cards.append(outbox.Queued(people, card, f"monthly:todo:{week.isoformat()}:{branch_id}"))
    return outbox.enqueue_many(session, cards, now=now)
