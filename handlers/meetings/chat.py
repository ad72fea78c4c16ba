"""Chat commands and card actions of the meetings feature. Thin: parse, call a use case, answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps

from sqlalchemy import select

from bot.core.context import HandlerContext
from bot.core.messages import Button, Card, Image, Markdown, Text, md_escape
from bot.core.router import Router
from handlers.meetings import leave as leave_uc
from handlers.meetings import makeup as makeup_uc
from handlers.meetings import plans as plans_uc
from handlers.meetings import signin as signin_uc
from handlers.meetings import strings
from handlers.meetings.meetings import (
    ACTION_DETAIL,
    ACTION_LEAVE,
    ACTION_SIGNIN_CODE,
    cancel_meeting,
    current_meeting,
    get_managed_meeting,
    month_overview,
    move_meeting,
    notice_card,
    signin_window,
    upcoming_for_member,
)
from handlers.meetings.types import MeetingsConfig, Refused, get_config, managed_branch, types_label
from models.meetings import Attendance, Invitee, LeaveRequest, Meeting, MeetingStatus
from models.workcalendar import calendar_for_unit

router = Router("meetings")

ACTION_LEAVE_REASON = "meetings.leave_reason"
_REF = re.compile(r"^#?(\d+)\s*(.*)$", re.S)


def cfg_of(ctx: HandlerContext) -> MeetingsConfig:
    return get_config(ctx.config.tz)


def _is_manager(ctx: HandlerContext) -> bool:
    return any(r.role in get_config().manager_roles for r in ctx.roles)


def _is_reviewer(ctx: HandlerContext) -> bool:
    return any(r.role in get_config().plan_reviewer_roles for r in ctx.roles)


def _is_member(ctx: HandlerContext) -> bool:
    return ctx.person is not None


def _refusals(fn: Callable) -> Callable:
    """A refusal becomes the Chinese reply; nothing was written before it was raised."""

    @wraps(fn)
    def wrapper(ctx: HandlerContext, arg) -> None:
        try:
            fn(ctx, arg)
        except Refused as exc:
            ctx.reply(Text(str(exc)))

    return wrapper


def _split_ref(args: str) -> tuple[int | None, str]:
    m = _REF.match(args.strip())
    if m and args.strip().startswith("#"):
        return int(m.group(1)), m.group(2).strip()
    return None, args.strip()


def _int(params: dict[str, str], key: str) -> int:
    try:
        return int(params.get(key, ""))
    except ValueError:
        raise Refused(strings.NO_MEETING) from None


def _h5(ctx: HandlerContext, path: str) -> str:
    return f"{ctx.config.public_base_url.rstrip('/')}/h5/meetings{path}"


# Secretary: overview and forms


@router.command("本月会议", help=strings.HELP_MONTH, audience=_is_manager)
@_refusals
def month_meetings(ctx: HandlerContext, _args: str) -> None:
    _overview(ctx, include_next=False)


@router.command("会议", help=strings.HELP_MEETINGS, audience=_is_manager)
@_refusals
def meetings(ctx: HandlerContext, _args: str) -> None:
    _overview(ctx, include_next=True)


def _overview(ctx: HandlerContext, include_next: bool) -> None:
    cfg = cfg_of(ctx)
    month = ctx.local_now.date().replace(day=1)
    months = [month] + ([plans_uc.next_month(month)] if include_next else [])
    parts = []
    branch = None
    for m in months:
        branch, rows = month_overview(ctx.session, ctx.person, month=m, now=ctx.now, cfg=cfg)
        lines = [
            strings.MONTH_MEETING_LINE.format(
                when=strings.fmt_when(mt.starts_at, cfg.tz),
                title=md_escape(mt.title),
                types=types_label(mt.types),
                state=state,
            )
            for mt, state in rows
        ]
        parts.append(
            f"**{strings.fmt_month(m)}**\n\n"
            + ("\n".join(lines) or strings.MONTH_MEETINGS_EMPTY.format(month=strings.fmt_month(m)))
        )
    title = strings.MONTH_MEETINGS_TITLE.format(branch=branch.name, month=strings.fmt_month(month))
    ctx.reply(Markdown(title=title, text="\n\n".join(parts)))


@router.command("安排会议", help=strings.HELP_NEW_MEETING, audience=_is_manager)
@_refusals
def new_meeting(ctx: HandlerContext, _args: str) -> None:
    managed_branch(ctx.session, ctx.person, cfg_of(ctx))
    ctx.reply(
        Card(
            title=strings.NEW_MEETING_TITLE,
            text=strings.NEW_MEETING_TEXT,
            buttons=(Button(strings.NEW_MEETING_BUTTON, url=_h5(ctx, "/new")),),
        )
    )


@router.command("月度计划", "提交计划", "计划", help=strings.HELP_PLAN, audience=_is_manager)
@_refusals
def plan(ctx: HandlerContext, _args: str) -> None:
    cfg = cfg_of(ctx)
    branch = managed_branch(ctx.session, ctx.person, cfg)
    month = plans_uc.plan_month_for(ctx.now, cfg)
    existing = plans_uc.get_plan(ctx.session, branch.id, month)
    from models.meetings import PlanStatus

    status = existing.status if existing else PlanStatus.DRAFT
    deadline = plans_uc.plan_deadline(month, cfg, calendar_for_unit(ctx.session, branch))
    extra = strings.PLAN_CARD_DEADLINE.format(day=deadline.day)
    if existing is not None and existing.return_reason:
        extra = strings.PLAN_RETURNED_TEXT.format(
            month=strings.fmt_month(month), reason=md_escape(existing.return_reason)
        )
    ctx.reply(
        Card(
            title=strings.PLAN_CARD_TITLE.format(month=strings.fmt_month(month)),
            text=strings.PLAN_CARD_TEXT.format(status=strings.PLAN_STATUS_LABELS[status], extra=extra),
            buttons=(Button(strings.PLAN_FORM_BUTTON, url=_h5(ctx, f"/plan?month={month:%Y-%m}")),),
        )
    )


@router.command("调整会议", help=strings.HELP_MOVE, audience=_is_manager)
@_refusals
def move(ctx: HandlerContext, args: str) -> None:
    meeting_id, rest = _split_ref(args)
    parts = rest.split()
    if meeting_id is None or len(parts) < 2:
        raise Refused(strings.MOVE_USAGE)
    try:
        starts_at = datetime.strptime(f"{parts[0]} {parts[1]}", "%Y-%m-%d %H:%M").replace(
            tzinfo=ctx.config.tz
        )
    except ValueError:
        raise Refused(strings.BAD_TIME) from None
    place = " ".join(parts[2:]) or None
    count = move_meeting(
        ctx.session, ctx.person, meeting_id, starts_at=starts_at, place=place, now=ctx.now, cfg=cfg_of(ctx)
    )
    title = ctx.session.get(Meeting, meeting_id).title
    ctx.reply(Text(strings.MEETING_MOVED_REPLY.format(title=title, count=count)))


@router.command("取消会议", help=strings.HELP_CANCEL, audience=_is_manager)
@_refusals
def cancel(ctx: HandlerContext, args: str) -> None:
    meeting_id, reason = _split_ref(args)
    if meeting_id is None:
        raise Refused(strings.CANCEL_USAGE)
    count = cancel_meeting(ctx.session, ctx.person, meeting_id, reason=reason, now=ctx.now, cfg=cfg_of(ctx))
    title = ctx.session.get(Meeting, meeting_id).title
    ctx.reply(Text(strings.MEETING_CANCELLED_REPLY.format(title=title, count=count)))


# Committee: plan review


@router.action(plans_uc.ACTION_APPROVE)
@_refusals
def plan_approve(ctx: HandlerContext, params: dict[str, str]) -> None:
    plan = plans_uc.review_plan(
        ctx.session, ctx.person, _int(params, "plan"), approve=True, now=ctx.now, cfg=cfg_of(ctx)
    )
    ctx.reply(
        Text(strings.PLAN_APPROVED_TEXT.format(month=strings.fmt_month(plan.month), count=len(plan.items)))
    )


@router.action(plans_uc.ACTION_RETURN)
@_refusals
def plan_return_button(ctx: HandlerContext, params: dict[str, str]) -> None:
    ctx.reply(Text(strings.PLAN_RETURN_HINT.format(id=_int(params, "plan"))))


@router.command("退回计划", help=strings.HELP_PLAN_RETURN, audience=_is_reviewer)
@_refusals
def plan_return(ctx: HandlerContext, args: str) -> None:
    plan_id, reason = _split_ref(args)
    if plan_id is None:
        raise Refused(strings.PLAN_RETURN_USAGE)
    plan = plans_uc.review_plan(
        ctx.session, ctx.person, plan_id, approve=False, reason=reason, now=ctx.now, cfg=cfg_of(ctx)
    )
    ctx.reply(
        Text(
            strings.PLAN_RETURNED_TEXT.format(month=strings.fmt_month(plan.month), reason=plan.return_reason)
        )
    )


# Sign-in


def _signin_meeting(ctx: HandlerContext, cfg: MeetingsConfig) -> Meeting:
    branch = managed_branch(ctx.session, ctx.person, cfg)
    meeting = current_meeting(ctx.session, branch.id, ctx.now, cfg)
    if meeting is None:
        # Before the window opens the secretary may still want the code to print or project.
        meeting = ctx.session.scalars(
            select(Meeting)
            .where(
                Meeting.branch_id == branch.id,
                Meeting.status == MeetingStatus.SCHEDULED,
                Meeting.starts_at > ctx.now,
                Meeting.starts_at <= ctx.now + timedelta(hours=12),
            )
            .order_by(Meeting.starts_at)
        ).first()
    if meeting is None:
        raise Refused(strings.NO_SIGNIN_MEETING)
    return meeting


def _send_code(ctx: HandlerContext, meeting: Meeting, cfg: MeetingsConfig) -> None:
    secret, base = ctx.config.secret_key, ctx.config.public_base_url
    token = signin_uc.chat_token(secret, meeting, ctx.now, cfg)
    opens, closes = signin_window(meeting, cfg)
    ctx.reply(Image(url=signin_uc.qr_image_url(base, meeting.id, token), title=meeting.title))
    ctx.reply(
        Card(
            title=strings.SIGNIN_CODE_TITLE.format(title=meeting.title),
            text=strings.SIGNIN_CODE_TEXT.format(
                opens=strings.fmt_when(opens, cfg.tz),
                closes=strings.fmt_when(closes, cfg.tz),
                valid_until=strings.fmt_when(signin_uc.chat_token_expiry(meeting, ctx.now, cfg), cfg.tz),
                refresh=cfg.qr_refresh_seconds,
            ),
            buttons=(
                Button(
                    strings.SIGNIN_PROJECTOR_BUTTON, url=signin_uc.projector_url(base, secret, meeting, cfg)
                ),
                Button(strings.SIGNIN_LINK, url=signin_uc.signin_url(base, meeting.id, token)),
            ),
        )
    )


@router.command("签到码", "签到二维码", help=strings.HELP_CODE, audience=_is_manager)
@_refusals
def signin_code(ctx: HandlerContext, _args: str) -> None:
    cfg = cfg_of(ctx)
    _send_code(ctx, _signin_meeting(ctx, cfg), cfg)


@router.action(ACTION_SIGNIN_CODE)
@_refusals
def signin_code_button(ctx: HandlerContext, params: dict[str, str]) -> None:
    cfg = cfg_of(ctx)
    _send_code(ctx, get_managed_meeting(ctx.session, ctx.person, _int(params, "meeting"), cfg), cfg)


@router.command("代签", help=strings.HELP_PROXY, audience=_is_manager)
@_refusals
def proxy(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    parts = args.split(maxsplit=1)
    if not parts:
        raise Refused(strings.PROXY_USAGE)
    meeting = _signin_meeting(ctx, cfg)
    ctx.reply(
        Text(
            signin_uc.proxy_sign_in(
                ctx.session,
                ctx.person,
                meeting.id,
                name=parts[0],
                reason=parts[1] if len(parts) > 1 else "",
                now=ctx.now,
                cfg=cfg,
            )
        )
    )


@router.command("签到情况", "出勤", "到会情况", help=strings.HELP_ATTENDANCE, audience=_is_manager)
@_refusals
def attendance(ctx: HandlerContext, _args: str) -> None:
    cfg = cfg_of(ctx)
    branch = managed_branch(ctx.session, ctx.person, cfg)
    meeting = (
        current_meeting(ctx.session, branch.id, ctx.now, cfg)
        or ctx.session.scalars(
            select(Meeting)
            .where(
                Meeting.branch_id == branch.id,
                Meeting.status == MeetingStatus.SCHEDULED,
                Meeting.starts_at <= ctx.now,
            )
            .order_by(Meeting.starts_at.desc())
        ).first()
    )
    if meeting is None:
        raise Refused(strings.NO_SIGNIN_MEETING)
    sheet = signin_uc.attendance_sheet(ctx.session, meeting)
    ctx.reply(
        Markdown(
            title=strings.ATTENDANCE_TITLE.format(title=meeting.title),
            text=md_escape(signin_uc.attendance_text(sheet)),
        )
    )


# Members: notice buttons, leave, 补学


@router.action(ACTION_DETAIL)
@_refusals
def detail(ctx: HandlerContext, params: dict[str, str]) -> None:
    cfg = cfg_of(ctx)
    meeting = ctx.session.get(Meeting, _int(params, "meeting"))
    if meeting is None or ctx.person is None:
        raise Refused(strings.NO_MEETING)
    invited = ctx.session.scalar(
        select(Invitee.id).where(Invitee.meeting_id == meeting.id, Invitee.person_id == ctx.person.id)
    )
    if invited is None and not any(
        r.role in cfg.manager_roles and r.org_unit_id == meeting.branch_id for r in ctx.roles
    ):
        raise Refused(strings.DETAIL_NOT_YOURS)
    status = strings.MY_STATUS_NONE
    row = ctx.session.scalars(
        select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.person_id == ctx.person.id)
    ).first()
    leave = ctx.session.scalars(
        select(LeaveRequest).where(
            LeaveRequest.meeting_id == meeting.id, LeaveRequest.person_id == ctx.person.id
        )
    ).first()
    if row is not None:
        status = strings.ATTENDANCE_LABELS[row.status]
    elif leave is not None:
        status = f"{strings.BUTTON_LEAVE}{strings.LEAVE_STATUS_LABELS[leave.status]}"
    card = notice_card(meeting, cfg, title=meeting.title, text=f"{strings.DETAIL_MY_STATUS}：{status}")
    ctx.reply(Card(title=card.title, text=card.text, fields=card.fields, buttons=card.buttons[:1]))


@router.action(ACTION_LEAVE)
@_refusals
def leave_button(ctx: HandlerContext, params: dict[str, str]) -> None:
    meeting = ctx.session.get(Meeting, _int(params, "meeting"))
    if meeting is None:
        raise Refused(strings.NO_MEETING)
    ctx.reply(
        Card(
            title=strings.LEAVE_CARD_ASK_TITLE.format(title=meeting.title),
            text=strings.LEAVE_CARD_ASK_TEXT.format(id=meeting.id),
            buttons=tuple(
                Button(
                    reason, action=ACTION_LEAVE_REASON, params={"meeting": str(meeting.id), "reason": reason}
                )
                for reason in cfg_of(ctx).leave_reasons
            ),
        )
    )


@router.action(ACTION_LEAVE_REASON)
@_refusals
def leave_with_reason(ctx: HandlerContext, params: dict[str, str]) -> None:
    cfg = cfg_of(ctx)
    req = leave_uc.request_leave(
        ctx.session,
        ctx.person,
        _int(params, "meeting"),
        reason=params.get("reason", ""),
        now=ctx.now,
        cfg=cfg,
    )
    ctx.reply(Text(leave_uc.submitted_reply(ctx.session, req, cfg)))


@router.command("请假", help=strings.HELP_LEAVE, audience=_is_member)
@_refusals
def ask_leave(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    if ctx.person is None:
        raise Refused(strings.NOT_BOUND)
    meeting_id, reason = _split_ref(args)
    if meeting_id is None:
        meeting = upcoming_for_member(ctx.session, ctx.person.id, ctx.now, cfg)
        if meeting is None:
            raise Refused(strings.LEAVE_NO_MEETING)
        meeting_id = meeting.id
    req = leave_uc.request_leave(ctx.session, ctx.person, meeting_id, reason=reason, now=ctx.now, cfg=cfg)
    ctx.reply(Text(leave_uc.submitted_reply(ctx.session, req, cfg)))


@router.action(leave_uc.ACTION_APPROVE)
@_refusals
def leave_approve(ctx: HandlerContext, params: dict[str, str]) -> None:
    leave_uc.decide_leave(
        ctx.session, ctx.person, _int(params, "leave"), approve=True, now=ctx.now, cfg=cfg_of(ctx)
    )


@router.action(leave_uc.ACTION_REJECT)
@_refusals
def leave_reject(ctx: HandlerContext, params: dict[str, str]) -> None:
    leave_uc.decide_leave(
        ctx.session, ctx.person, _int(params, "leave"), approve=False, now=ctx.now, cfg=cfg_of(ctx)
    )


@router.command("补学完成", help=strings.HELP_MAKEUP_DONE, audience=_is_member)
@_refusals
def makeup_done(ctx: HandlerContext, args: str) -> None:
    task_id, note = _split_ref(args)
    task = makeup_uc.report_makeup(
        ctx.session, ctx.person, note=note, task_id=task_id, now=ctx.now, cfg=cfg_of(ctx)
    )
    ctx.reply(Text(makeup_uc.reported_reply(ctx.session, task, cfg_of(ctx))))


@router.command("我的补学", help=strings.HELP_MY_MAKEUP, audience=_is_member)
@_refusals
def my_makeup(ctx: HandlerContext, _args: str) -> None:
    cfg = cfg_of(ctx)
    if ctx.person is None:
        raise Refused(strings.NOT_BOUND)
    tasks = makeup_uc.my_tasks(ctx.session, ctx.person.id)
    if not tasks:
        ctx.reply(Text(strings.MAKEUP_NONE_OPEN))
        return
    lines = [
        strings.MY_MAKEUP_LINE.format(
            title=md_escape(t.meeting.title),
            when=strings.fmt_when(t.meeting.starts_at, cfg.tz),
            due=strings.fmt_day(t.due_on),
            status=strings.MAKEUP_STATUS_LABELS[t.status],
        )
        for t in tasks
    ]
    ctx.reply(Markdown(title=strings.MY_MAKEUP_TITLE, text="\n".join(lines)))


@router.action(makeup_uc.ACTION_CONFIRM)
@_refusals
def makeup_confirm(ctx: HandlerContext, params: dict[str, str]) -> None:
    makeup_uc.decide_makeup(
        ctx.session, ctx.person, _int(params, "task"), confirm=True, now=ctx.now, cfg=cfg_of(ctx)
    )


@router.action(makeup_uc.ACTION_RETURN)
@_refusals
def makeup_return(ctx: HandlerContext, params: dict[str, str]) -> None:
    makeup_uc.decide_makeup(
        ctx.session, ctx.person, _int(params, "task"), confirm=False, now=ctx.now, cfg=cfg_of(ctx)
    )
