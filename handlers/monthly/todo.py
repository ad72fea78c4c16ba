"""Reminders to the people who run a branch: the weekly 待办 card to each branch secretary (what
waits on them; nothing is sent when the list is empty), and, when a month is scored, the month's
未落实提醒 to the branch's 书记, 组织委员 and 支部联系人 (宿松县, seed 000).

Each kind of 待办 item is one GROUP BY statement over every branch, so the card costs the same for a
county or a city; the 未落实提醒 is built from the month's scores, with no statement of its own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.messages import Button, Card, md_escape
from handlers.common import dates
from handlers.meetings.meetings import ACTION_MINUTES
from handlers.meetings.plans import branches_without_plan, plan_deadline, plan_month_for
from handlers.meetings.signin import H5_PREFIX as MEETINGS_H5
from handlers.meetings.strings import TYPE_LABELS
from handlers.meetings.types import MeetingsConfig
from handlers.monthly import strings
from handlers.monthly.config import MonthlyConfig
from handlers.monthly.recipients import RoleBook
from handlers.monthly.scoring import MonthScores
from models.fees import FeePayment, PaymentStatus
from models.meetings import (
    LeaveRequest,
    LeaveStatus,
    MakeupStatus,
    MakeupTask,
    Meeting,
    MeetingStatus,
    MeetingType,
    Minutes,
)
from models.org import ROLE_LABELS, Role


@dataclass(frozen=True)
class TodoLine:
    """One line of the 待办 and what does it: a page (`link`, a path under the public URL) and/or a
    chat action (`action` with `params`: its answer opens the page, used when the job knows no
    public URL or when there are several things to choose from); neither when it is done on the cards
    the secretary already received, which the line then says."""

    text: str
    button: str = ""
    link: str = ""
    action: str = ""
    params: tuple[tuple[str, str], ...] = ()


def todo_items(
    session: Session, *, now: datetime, mcfg: MonthlyConfig, cfg: MeetingsConfig
) -> dict[int, list[TodoLine]]:
    """branch → the lines of its 待办 (only branches with something waiting)."""
    tz = cfg.tz
    today = now.astimezone(tz).date()
    items: dict[int, list[TodoLine]] = defaultdict(list)

    month = plan_month_for(now, cfg)
    deadline = plan_deadline(month, cfg)
    if deadline.date() - today <= timedelta(days=mcfg.todo_plan_days):
        text = strings.TODO_PLAN_LATE if deadline.date() < today else strings.TODO_PLAN
        line = TodoLine(
            text.format(month=strings.fmt_month(month), deadline=dates.fmt_day(deadline.date())),
            strings.TODO_PLAN_BUTTON.format(month=strings.fmt_month(month)),
            link=f"{MEETINGS_H5}/plan?month={month:%Y-%m}",
        )
        for branch in branches_without_plan(session, month):
            items[branch.id].append(line)

    for branch_id, n, first, meeting_id in session.execute(
        select(Meeting.branch_id, func.count(), func.min(Meeting.starts_at), func.min(Meeting.id))
        .outerjoin(Minutes, Minutes.meeting_id == Meeting.id)
        .where(Meeting.status == MeetingStatus.SCHEDULED, Meeting.starts_at <= now, Minutes.id.is_(None))
        .group_by(Meeting.branch_id)
    ):
        text = strings.TODO_MINUTES.format(n=n, first=dates.fmt_day(first.astimezone(tz).date()))
        if n == 1:  # the minutes form of that meeting
            line = TodoLine(text, strings.TODO_MINUTES_ONE, link=f"{MEETINGS_H5}/{meeting_id}/minutes",
                            action=ACTION_MINUTES, params=(("meeting", str(meeting_id)),))  # fmt: skip
        else:  # the meetings feature's list of the meetings awaiting minutes, a form button each
            line = TodoLine(text, strings.TODO_MINUTES_MANY, action=ACTION_MINUTES)
        items[branch_id].append(line)

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
            items[branch_id].append(TodoLine(text.format(n=n)))

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
            items[branch_id].append(TodoLine(strings.TODO_RECT.format(n=n, first=dates.fmt_day(first))))
    return dict(items)


def week_of(now: datetime, cfg: MeetingsConfig) -> date:
    day = now.astimezone(cfg.tz).date()
    return day - timedelta(days=day.weekday())


def send_todos(
    session: Session,
    *,
    now: datetime,
    base_url: str = "",
    mcfg: MonthlyConfig,
    cfg: MeetingsConfig,
) -> int:
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
        # A button per line that has a page or an action, in the lines' order (at most two: the
        # plan and the minutes; the platforms show three or more).
        buttons = tuple(
            Button(line.button, url=f"{base_url.rstrip('/')}{line.link}")
            if line.link and base_url
            else Button(line.button, action=line.action, params=dict(line.params))
            for line in lines
            if (line.link and base_url) or line.action
        )
        card = Card(
            title=strings.TODO_TITLE.format(branch=unit.name),
            text="\n".join(f"- {line.text}" for line in lines),
            buttons=buttons,
        )
        cards.append(outbox.Queued(people, card, f"monthly:todo:{week.isoformat()}:{branch_id}"))
    return outbox.enqueue_many(session, cards, now=now)


# --- 未落实提醒 (宿松县, seed 000) -----------------------------------------------------------------------


def reminder_lines(exp: dict, month: date, *, mcfg: MonthlyConfig, cfg: MeetingsConfig) -> list[str]:
    """The month's 未落实 items of one branch, each with what to do about it (from its score's explanation)."""
    periods = {m["type"]: m["period"] for m in exp.get("meetings", [])}
    month_label = strings.fmt_month(month)
    out = []
    for m in exp.get("missing", []):
        key, text = m["key"], strings.REMIND_ITEMS.get(m["key"])
        if text is None:
            continue
        if key == "meeting":
            out.append(text.format(type=TYPE_LABELS[MeetingType(m["type"])], held=m["held"],
                                   required=m["required"], days=cfg.minutes_workdays,
                                   period=strings.REMIND_PERIOD.get(periods.get(m["type"], ""), "")))  # fmt: skip
        elif key == "plan":
            deadline = plan_deadline(month, cfg).date()
            out.append(
                text.format(month=month_label, deadline=dates.fmt_day(deadline), day=cfg.plan_deadline_day)
            )
        else:
            out.append(text.format(count=m.get("count", 0), month=month_label, days=cfg.minutes_workdays))
    obs = exp.get("observers") or {}
    quality = obs.get("quality")
    if (
        mcfg.reminder_quality_below is not None
        and obs.get("observations")
        and quality is not None
        and quality < mcfg.reminder_quality_below
    ):
        grades = strings.REMIND_GRADES.format(grades="、".join(obs["grades"])) if obs.get("grades") else "—"
        out.append(strings.REMIND_ITEMS["quality"].format(quality=strings.pct(quality), grades=grades))
    return out


def month_reminders(
    scores: MonthScores, *, mcfg: MonthlyConfig, cfg: MeetingsConfig, book: RoleBook
) -> list[outbox.Queued]:
    """One 未落实提醒 per branch with something left undone, to the roles its committee asked for."""
    units = scores.units
    month_label = strings.fmt_month(scores.month)
    out = []
    for branch_id, s in sorted(scores.branches.items()):
        lines = reminder_lines(s.explanation, scores.month, mcfg=mcfg, cfg=cfg)
        unit = units.get(branch_id)
        if not lines or unit is None:
            continue
        path = [(uid, units[uid].name) for uid in unit.ancestors() if uid in units]
        roles = mcfg.reminder_roles_for(path)
        people = book.on(branch_id, roles)
        if not people:
            continue
        card = Card(
            title=strings.REMIND_TITLE.format(month=month_label, branch=unit.name),
            text=strings.REMIND_TEXT.format(
                branch=md_escape(unit.name),
                month=month_label,
                n=len(lines),
                items="\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1)),
                roles="、".join(ROLE_LABELS[r] for r in Role if r in roles),
            ),
        )
        out.append(outbox.Queued(people, card, f"monthly:remind:{branch_id}:{scores.month:%Y-%m}"))
    return out


def send_month_reminders(
    session: Session,
    scores: MonthScores,
    *,
    now: datetime,
    mcfg: MonthlyConfig,
    cfg: MeetingsConfig,
    book: RoleBook,
) -> int:
    """Queue the month's 未落实提醒 (each branch and month at most once: a rerun adds nothing)."""
    return outbox.enqueue_many(session, month_reminders(scores, mcfg=mcfg, cfg=cfg, book=book), now=now)
