"""Chat commands of 督查/巡查. Thin: parse, call a use case, answer."""

from __future__ import annotations

import re

from sqlalchemy import and_, or_, select

from bot.core.context import HandlerContext
from bot.core.errors import Refused
from bot.core.messages import Text
from bot.core.router import Router
from handlers.common import dates
from handlers.inspection import rounds, strings
from models.inspection import InspectionRectification, InspectionRound, RoundUnit
from models.observers import RectificationStatus
from models.org import OrgUnit, Role

router = Router("inspection")

_REPORT = re.compile(r"^#?\s*(\d+)\s*(.*)$", re.S)


def _inspects(ctx: HandlerContext) -> bool:
    return (
        ctx.person is not None
        and ctx.session.scalar(
            select(RoundUnit.id)
            .join(InspectionRound, InspectionRound.id == RoundUnit.round_id)
            .where(RoundUnit.inspector_id == ctx.person.id, InspectionRound.closed_at.is_(None))
            .limit(1)
        )
        is not None
    )


def _theirs(ctx: HandlerContext):
    """The condition on a rectification still to report on or awaiting sign-off that is the person's:
    as owner, or as the 书记 of the branch (the same people `督查整改` accepts a report from)."""
    led = [r.org_unit_id for r in ctx.roles if r.role == Role.SECRETARY and r.org_unit_id is not None]
    return and_(
        InspectionRectification.status != RectificationStatus.CLOSED,
        or_(InspectionRectification.owner_id == ctx.person.id, InspectionRectification.branch_id.in_(led)),
    )


def _open_rectifications(ctx: HandlerContext) -> list[tuple[InspectionRectification, str]]:
    if ctx.person is None:
        return []
    return list(
        ctx.session.execute(
            select(InspectionRectification, OrgUnit.name)
            .join(OrgUnit, OrgUnit.id == InspectionRectification.branch_id)
            .where(_theirs(ctx))
            .order_by(InspectionRectification.due_on, InspectionRectification.id)
        ).all()
    )


def _has_tasks(ctx: HandlerContext) -> bool:
    return _inspects(ctx) or _owns_rectification(ctx)


@router.command("督查任务", "巡查任务", help=strings.HELP_TASKS, audience=_has_tasks)
def tasks(ctx: HandlerContext, _args: str) -> None:
    """The inspector's units in rounds still open (a patrol list included: it is theirs to check), and
    the rectifications the person has to report on (a branch's 书记 asks here, not in the observers' 整改)."""
    if ctx.person is None:
        ctx.reply(Text(strings.TASKS_NONE))
        return
    rows = ctx.session.execute(
        select(RoundUnit, InspectionRound, OrgUnit.name)
        .join(InspectionRound, InspectionRound.id == RoundUnit.round_id)
        .join(OrgUnit, OrgUnit.id == RoundUnit.branch_id)
        .where(RoundUnit.inspector_id == ctx.person.id, InspectionRound.closed_at.is_(None))
        .order_by(InspectionRound.id, OrgUnit.path)
    ).all()
    rects = _open_rectifications(ctx)
    if not rows and not rects:
        ctx.reply(Text(strings.TASKS_NONE))
        return
    parts = []
    if rows:
        lines = [
            strings.TASK_LINE.format(
                round=rnd.id,
                title=rnd.title,
                unit=name,
                done=strings.TASK_DONE.format(n=len(ru.findings)) if ru.findings else "",
            )  # fmt: skip
            for ru, rnd, name in rows
        ]
        parts.append(strings.TASKS_HEAD + "\n" + "\n".join(lines))
    if rects:
        lines = [
            strings.RECT_TASK_LINE.format(
                id=r.id,
                branch=name,
                status=strings.RECT_STATUS_LABELS[r.status],
                due=dates.fmt_full_day(r.due_on),
                overdue=strings.RECT_TASK_OVERDUE if r.due_on < ctx.local_now.date() else "",
                text=r.text,
            )  # fmt: skip
            for r, name in rects
        ]
        parts.append(strings.RECT_TASKS_HEAD + "\n" + "\n".join(lines) + "\n" + strings.RECT_TASKS_HINT)
    ctx.reply_privately(Text("\n\n".join(parts)))


def _owns_rectification(ctx: HandlerContext) -> bool:
    """Whoever has a rectification to report on: its owner, or the 书记 of its branch."""
    if ctx.person is None:
        return False
    return ctx.session.scalar(select(InspectionRectification.id).where(_theirs(ctx)).limit(1)) is not None


@router.command("督查整改", help=strings.HELP_REPORT, audience=_owns_rectification)
def report(ctx: HandlerContext, args: str) -> None:
    """The owner reports a problem found fixed: 督查整改 12 已补齐会议记录."""
    m = _REPORT.match(args.strip())
    if not m or not m.group(2).strip():
        raise Refused(strings.REPORT_USAGE)
    if ctx.person is None:
        raise Refused(strings.NOT_OWNER)
    rect = rounds.get_rect(ctx.session, int(m.group(1)))
    rounds.report_fixed(ctx.session, ctx.person, rect, m.group(2), now=ctx.now)
    ctx.reply(Text(strings.REPORTED.format(text=rect.text)))
