"""Chat commands and card actions of the meetings feature. Thin: parse, call a use case, answer."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.core.context import HandlerContext
from bot.core.messages import Button, Card, Image, Markdown, Text, md_escape
from bot.core.router import Router
from handlers.common import dates
from handlers.meetings import activity, strings
from handlers.meetings import leave as leave_uc
from handlers.meetings import makeup as makeup_uc
from handlers.meetings import minutes as minutes_uc
from handlers.meetings import plans as plans_uc
from handlers.meetings import signin as signin_uc
from handlers.meetings.meetings import (
    ACTION_DETAIL,
    ACTION_LEAVE,
    ACTION_MINUTES,
    ACTION_SIGNIN_CODE,
    cancel_meeting,
    current_meeting,
    get_managed_meeting,
    meeting_state,
    month_overview,
    move_meeting,
    notice_card,
    signin_window,
    upcoming_for_member,
)
from handlers.meetings.types import MeetingsConfig, Refused, managed_branch, meetings_config, types_label
from models.meetings import Attendance, Invitee, LeaveRequest, Meeting, MeetingStatus, MeetingType
from models.org import UnitKind
from models.workcalendar import CalendarBook, calendar_for_unit

router = Router("meetings")

ACTION_LEAVE_REASON = "meetings.leave_reason"
ACTION_PROXY = "meetings.proxy"
ACTION_END_SIGNIN = "meetings.end_signin"
ACTION_MOVE = "meetings.move"
ACTION_CANCEL = "meetings.cancel"
# The most buttons a card shows on DingTalk and WeCom (see ../shared/reference/platforms.md).
MAX_BUTTONS = 6
_REF = re.compile(r"^#?(\d+)\s*(.*)$", re.S)


def cfg_of(ctx: HandlerContext) -> MeetingsConfig:
    return meetings_config(ctx.config)


def _is_manager(ctx: HandlerContext) -> bool:
    return any(r.role in cfg_of(ctx).manager_roles for r in ctx.roles)


def _is_reviewer(ctx: HandlerContext) -> bool:
    """A reviewer role on a 党委 (as review_plan checks), not the same role on a branch."""
    return any(
        r.role in cfg_of(ctx).plan_reviewer_roles
        and r.org_unit is not None
        and r.org_unit.kind == UnitKind.COMMITTEE
        for r in ctx.roles
    )


def _is_member(ctx: HandlerContext) -> bool:
    return ctx.person is not None


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
def month_meetings(ctx: HandlerContext, _args: str) -> None:
    _overview(ctx, include_next=False)


@router.command("会议", help=strings.HELP_MEETINGS, audience=_is_manager)
def meetings(ctx: HandlerContext, args: str) -> None:
    # 会议 #40 is the meeting's 详情 button, for a meeting the list has no button for.
    meeting_id, _rest = _split_ref(args)
    if meeting_id is not None:
        detail(ctx, {"meeting": str(meeting_id)})
        return
    _overview(ctx, include_next=True)


def _types_suffix(meeting: Meeting) -> str:
    """（主题党日） after a meeting's title in a list; "" when the title says it (主题党日：学习…)."""
    label = types_label(meeting.types)
    if meeting.title.startswith(f"{label}："):
        return ""
    return strings.MONTH_MEETING_TYPES.format(types=label)


def _overview(ctx: HandlerContext, include_next: bool) -> None:
    cfg = cfg_of(ctx)
    month = ctx.local_now.date().replace(day=1)
    months = [month] + ([dates.add_months(month, 1)] if include_next else [])
    parts = []
    branch = None
    listed: list[Meeting] = []
    for m in months:
        branch, rows = month_overview(ctx.session, ctx.person, month=m, now=ctx.now, cfg=cfg)
        listed += [mt for mt, _ in rows if mt.status != MeetingStatus.CANCELLED]
        lines = [
            strings.MONTH_MEETING_LINE.format(
                id=mt.id,
                when=strings.fmt_when(mt.starts_at, cfg.tz),
                title=md_escape(mt.title),
                types=_types_suffix(mt),
                state=state,
            )
            for mt, state in rows
        ]
        parts.append(
            f"**{strings.fmt_month(m)}**\n\n"
            + ("\n".join(lines) or strings.MONTH_MEETINGS_EMPTY.format(month=strings.fmt_month(m)))
        )
    title = strings.MONTH_MEETINGS_TITLE.format(branch=branch.name, month=strings.fmt_month(month))
    # A button per meeting does what its number does (the platforms show six at most): the nearest;
    # the others are named with the command that opens them (会议 #40).
    by_distance = sorted(listed, key=lambda mt: abs((mt.starts_at - ctx.now).total_seconds()))
    nearest, rest = by_distance[:MAX_BUTTONS], by_distance[MAX_BUTTONS:]
    buttons = tuple(
        Button(f"#{mt.id} {strings.BUTTON_DETAIL}", action=ACTION_DETAIL, params={"meeting": str(mt.id)})
        for mt in sorted(nearest, key=lambda mt: mt.starts_at)
    )
    if rest:
        ids = "、".join(f"#{mt.id}" for mt in sorted(rest, key=lambda mt: mt.starts_at))
        parts.append(strings.MONTH_MEETINGS_MORE.format(count=len(rest), ids=ids, example=rest[0].id))
    ctx.reply(Card(title=title, text="\n\n".join(parts), buttons=buttons))


@router.command("安排会议", help=strings.HELP_NEW_MEETING, audience=_is_manager)
def new_meeting(ctx: HandlerContext, _args: str) -> None:
    cfg = cfg_of(ctx)
    branch = managed_branch(ctx.session, ctx.person, cfg)
    # This month's 党员活动日, for a 主题党日 (empty without a fixed day).
    fixed = activity.month_line(
        ctx.local_now.date().replace(day=1), cfg.activity, calendar_for_unit(ctx.session, branch)
    )
    ctx.reply(
        Card(
            title=strings.NEW_MEETING_TITLE,
            text=strings.NEW_MEETING_TEXT + (f"\n\n{fixed}。" if fixed else ""),
            buttons=(Button(strings.NEW_MEETING_BUTTON, url=_h5(ctx, "/new")),),
        )
    )


@router.command("月度计划", "提交计划", "计划", help=strings.HELP_PLAN, audience=_is_manager)
def plan(ctx: HandlerContext, _args: str) -> None:
    cfg = cfg_of(ctx)
    branch = managed_branch(ctx.session, ctx.person, cfg)
    month = plans_uc.plan_month_for(ctx.now, cfg)
    existing = plans_uc.get_plan(ctx.session, branch.id, month)
    from models.meetings import PlanStatus

    status = existing.status if existing else PlanStatus.DRAFT
    deadline = plans_uc.plan_deadline(month, cfg, calendar_for_unit(ctx.session, branch))
    # Say what happens next for this status: a submitted plan is not asked for again.
    if status == PlanStatus.SUBMITTED:
        extra = strings.PLAN_CARD_SUBMITTED
    elif status == PlanStatus.APPROVED:
        extra = strings.PLAN_CARD_APPROVED
    elif existing is not None and existing.return_reason:
        extra = strings.PLAN_RETURNED_TEXT.format(
            month=strings.fmt_month(month), reason=md_escape(existing.return_reason)
        )
    else:
        extra = strings.PLAN_CARD_DEADLINE.format(day=deadline.day)
    extra += plans_uc.required_text(ctx.session, branch, month, cfg)
    ctx.reply(
        Card(
            title=strings.PLAN_CARD_TITLE.format(month=strings.fmt_month(month)),
            text=strings.PLAN_CARD_TEXT.format(status=strings.PLAN_STATUS_LABELS[status], extra=extra),
            buttons=(Button(strings.PLAN_FORM_BUTTON, url=_h5(ctx, f"/plan?month={month:%Y-%m}")),),
        )
    )


@router.command("调整会议", help=strings.HELP_MOVE, audience=_is_manager)
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
def cancel(ctx: HandlerContext, args: str) -> None:
    meeting_id, reason = _split_ref(args)
    if meeting_id is None:
        raise Refused(strings.CANCEL_USAGE)
    count = cancel_meeting(ctx.session, ctx.person, meeting_id, reason=reason, now=ctx.now, cfg=cfg_of(ctx))
    title = ctx.session.get(Meeting, meeting_id).title
    ctx.reply(Text(strings.MEETING_CANCELLED_REPLY.format(title=title, count=count)))


# Committee: plan review


@router.action(plans_uc.ACTION_APPROVE)
def plan_approve(ctx: HandlerContext, params: dict[str, str]) -> None:
    plan = plans_uc.review_plan(
        ctx.session, ctx.person, _int(params, "plan"), approve=True, now=ctx.now, cfg=cfg_of(ctx)
    )
    ctx.reply(
        Text(strings.PLAN_APPROVED_TEXT.format(month=strings.fmt_month(plan.month), count=len(plan.items)))
    )


@router.action(plans_uc.ACTION_RETURN)
def plan_return_button(ctx: HandlerContext, params: dict[str, str]) -> None:
    ctx.reply(Text(strings.PLAN_RETURN_HINT.format(id=_int(params, "plan"))))


@router.command("退回计划", help=strings.HELP_PLAN_RETURN, audience=_is_reviewer)
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
def signin_code(ctx: HandlerContext, _args: str) -> None:
    cfg = cfg_of(ctx)
    _send_code(ctx, _signin_meeting(ctx, cfg), cfg)


@router.action(ACTION_SIGNIN_CODE)
def signin_code_button(ctx: HandlerContext, params: dict[str, str]) -> None:
    cfg = cfg_of(ctx)
    _send_code(ctx, get_managed_meeting(ctx.session, ctx.person, _int(params, "meeting"), cfg), cfg)


@router.command("代签", help=strings.HELP_PROXY, audience=_is_manager)
def proxy(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    meeting_id, rest = _split_ref(args)
    parts = rest.split(maxsplit=1)
    if not parts:
        raise Refused(strings.PROXY_USAGE)
    meeting = _signin_meeting(ctx, cfg) if meeting_id is None else ctx.session.get(Meeting, meeting_id)
    if meeting is None:
        raise Refused(strings.NO_MEETING)
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
def detail(ctx: HandlerContext, params: dict[str, str]) -> None:
    """The meeting's card with the viewer's own actions: the branch's secretary runs the meeting,
    an invited member sees their status and may ask for leave."""
    cfg = cfg_of(ctx)
    meeting = ctx.session.get(Meeting, _int(params, "meeting"))
    if meeting is None or ctx.person is None:
        raise Refused(strings.NO_MEETING)
    manages = any(r.role in cfg.manager_roles and r.org_unit_id == meeting.branch_id for r in ctx.roles)
    invited = ctx.session.scalar(
        select(Invitee.id).where(Invitee.meeting_id == meeting.id, Invitee.person_id == ctx.person.id)
    )
    if invited is None and not manages:
        raise Refused(strings.DETAIL_NOT_YOURS)
    if manages:
        ctx.reply(_secretary_card(ctx, meeting, cfg))
        return
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
    # 请假 only while it can still be asked for: before the start, not signed in, not asked yet.
    can_leave = (
        meeting.status == MeetingStatus.SCHEDULED
        and ctx.now < meeting.starts_at
        and row is None
        and leave is None
    )
    ctx.reply(
        Card(
            title=card.title,
            text=card.text,
            fields=card.fields,
            buttons=card.buttons[:1] if can_leave else (),
        )
    )


def _secretary_card(ctx: HandlerContext, meeting: Meeting, cfg: MeetingsConfig) -> Card:
    sheet = signin_uc.attendance_sheet(ctx.session, meeting)
    state = meeting_state(meeting, ctx.now, cfg, len(sheet.present), sheet.expected)
    text = strings.DETAIL_MEETING_STATE.format(state=state)
    if meeting.status == MeetingStatus.CANCELLED:
        card = notice_card(meeting, cfg, title=meeting.title, text=text)
        return Card(title=card.title, text=card.text, fields=card.fields)
    if ctx.now >= signin_window(meeting, cfg)[0]:
        text += "\n\n" + md_escape(signin_uc.attendance_text(sheet))
    card = notice_card(meeting, cfg, title=meeting.title, text=text)
    ref = {"meeting": str(meeting.id)}
    started, closed = ctx.now >= meeting.starts_at, meeting.closed_at is not None
    # Only what can be done now: no 调整/取消 once it has started, no minutes before it, no code after.
    actions = (
        (strings.BUTTON_SIGNIN_CODE, ACTION_SIGNIN_CODE, not closed),
        (strings.BUTTON_PROXY, ACTION_PROXY, True),
        (strings.BUTTON_END_SIGNIN, ACTION_END_SIGNIN, started and not closed),
        (strings.BUTTON_MINUTES, ACTION_MINUTES, started),
        (strings.BUTTON_MOVE, ACTION_MOVE, not started),
        (strings.BUTTON_CANCEL, ACTION_CANCEL, not started),
    )
    return Card(
        title=card.title,
        text=card.text,
        fields=card.fields,
        buttons=tuple(Button(label, action=action, params=ref) for label, action, now in actions if now),
        card_key=f"meeting:{meeting.id}:manage",
    )


@router.action(ACTION_PROXY)
def proxy_button(ctx: HandlerContext, params: dict[str, str]) -> None:
    cfg = cfg_of(ctx)
    meeting = get_managed_meeting(ctx.session, ctx.person, _int(params, "meeting"), cfg)
    missing = signin_uc.attendance_sheet(ctx.session, meeting).missing
    names = strings.PROXY_HINT_MISSING.format(names="、".join(p.name for p in missing)) if missing else ""
    ctx.reply(Text(strings.PROXY_HINT.format(id=meeting.id, missing=names)))


@router.action(ACTION_END_SIGNIN)
def end_signin_button(ctx: HandlerContext, params: dict[str, str]) -> None:
    cfg = cfg_of(ctx)
    meeting = signin_uc.end_signin(ctx.session, ctx.person, _int(params, "meeting"), now=ctx.now, cfg=cfg)
    summary = signin_uc.attendance_text(signin_uc.attendance_sheet(ctx.session, meeting))
    ctx.reply(
        Text(strings.SIGNIN_ENDED_REPLY.format(title=meeting.title, summary=summary.replace("\n\n", " ")))
    )


@router.action(ACTION_MOVE)
def move_button(ctx: HandlerContext, params: dict[str, str]) -> None:
    cfg = cfg_of(ctx)
    meeting = get_managed_meeting(ctx.session, ctx.person, _int(params, "meeting"), cfg)
    example = (meeting.starts_at + timedelta(days=1)).astimezone(cfg.tz).strftime("%Y-%m-%d %H:%M")
    ctx.reply(Text(strings.MOVE_HINT.format(id=meeting.id, example=f"{example} {meeting.place}")))


@router.action(ACTION_CANCEL)
def cancel_button(ctx: HandlerContext, params: dict[str, str]) -> None:
    meeting = get_managed_meeting(ctx.session, ctx.person, _int(params, "meeting"), cfg_of(ctx))
    ctx.reply(Text(strings.CANCEL_HINT.format(id=meeting.id)))


# Minutes from chat


@router.command("会议记录", "填写会议记录", "补填会议记录", help=strings.HELP_MINUTES, audience=_is_manager)
def minutes_command(ctx: HandlerContext, args: str) -> None:
    meeting_id, _ = _split_ref(args)
    _minutes(ctx, meeting_id)


@router.action(ACTION_MINUTES)
def minutes_button(ctx: HandlerContext, params: dict[str, str]) -> None:
    _minutes(ctx, _int(params, "meeting") if params.get("meeting") else None)


def _minutes(ctx: HandlerContext, meeting_id: int | None) -> None:
    """The form of one meeting; without a number, the one awaiting minutes, or the list of them."""
    cfg = cfg_of(ctx)
    if meeting_id is None:
        branch = managed_branch(ctx.session, ctx.person, cfg)
        waiting = minutes_uc.meetings_missing_minutes(ctx.session, now=ctx.now, branch_id=branch.id)
        if not waiting:
            raise Refused(strings.MINUTES_NONE_WAITING)
        if len(waiting) > 1:
            ctx.reply(_minutes_list(ctx, waiting, cfg))
            return
        meeting_id = waiting[0].id
    meeting = get_managed_meeting(ctx.session, ctx.person, meeting_id, cfg)
    if meeting.status == MeetingStatus.CANCELLED:
        raise Refused(strings.MEETING_CANCELLED)
    if ctx.now < meeting.starts_at:
        raise Refused(strings.MINUTES_BEFORE_START)
    if meeting.minutes is not None:
        state = strings.MINUTES_CARD_DONE.format(at=strings.fmt_when(meeting.minutes.submitted_at, cfg.tz))
    else:
        due = minutes_uc.minutes_due_on(meeting, cfg, calendar_for_unit(ctx.session, meeting.branch_id))
        late = due < ctx.local_now.date()
        state = (strings.MINUTES_CARD_OVERDUE if late else strings.MINUTES_CARD_DUE).format(
            due=strings.fmt_day(due)
        )
    text = strings.MINUTES_CARD_TEXT.format(
        id=meeting.id, when=strings.fmt_when(meeting.starts_at, cfg.tz), state=state
    )
    if MeetingType.THEME_DAY in meeting.types:
        text += "\n\n" + strings.MENU_HINT.format(id=meeting.id)
    ctx.reply(
        Card(
            title=strings.MINUTES_CARD_TITLE.format(title=meeting.title),
            text=text,
            buttons=(Button(strings.BUTTON_MINUTES, url=_h5(ctx, f"/{meeting.id}/minutes")),),
        )
    )


def _minutes_list(ctx: HandlerContext, waiting: list[Meeting], cfg: MeetingsConfig) -> Card:
    book = CalendarBook(ctx.session)
    lines = [
        strings.MINUTES_WAITING_LINE.format(
            id=m.id,
            when=strings.fmt_when(m.starts_at, cfg.tz),
            title=md_escape(m.title),
            due=strings.fmt_day(minutes_uc.minutes_due_on(m, cfg, book.for_unit(m.branch_id))),
        )
        for m in waiting
    ]
    return Card(
        title=strings.MINUTES_WAITING_TITLE.format(count=len(waiting)),
        text="\n".join(lines),
        # The platforms show six buttons at most: the oldest first, as they are the most overdue.
        buttons=tuple(
            Button(f"#{m.id} {strings.BUTTON_MINUTES}", url=_h5(ctx, f"/{m.id}/minutes"))
            for m in waiting[:MAX_BUTTONS]
        ),
    )


# The 主题党日's menu (4+X / 7+X) from chat; the minutes form records it too


# 党日动作 #12 1 2 3 自选：… records; 党日动作 #12 shows what is recorded; without a number, the 主题党日
# whose minutes record no menu yet (and with items, the one such meeting).
@router.command("党日动作", "主题党日动作", "规定动作", audience=_is_manager, help=strings.HELP_MENU)
def menu_command(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    acfg = cfg.activity
    meeting_id, rest = _split_ref(args)
    if meeting_id is None:
        branch = managed_branch(ctx.session, ctx.person, cfg)
        waiting = minutes_uc.theme_days_without_menu(ctx.session, branch.id)
        if not rest or len(waiting) != 1:
            lines = [
                f"#{m.id} {strings.fmt_when(m.starts_at, cfg.tz)} {md_escape(m.title)}" for m in waiting[:6]
            ]
            head = "\n".join(lines) if lines else strings.MENU_NO_THEME_DAY
            example = str(waiting[0].id) if waiting else "12"
            ctx.reply(
                Text(head + "\n\n" + strings.MENU_USAGE.format(id=example, items=activity.menu_text(acfg)))
            )
            return
        meeting_id = waiting[0].id
    if not rest:
        meeting = get_managed_meeting(ctx.session, ctx.person, meeting_id, cfg)
        if MeetingType.THEME_DAY not in meeting.types:
            raise Refused(strings.MENU_NOT_THEME_DAY.format(id=meeting.id))
        m = meeting.minutes
        state = (
            strings.MENU_STATE.format(
                id=meeting.id, title=meeting.title, done=activity.done_text(m.menu_done, m.menu_extra)
            )
            if m is not None and m.menu_done is not None
            else strings.MENU_STATE_NONE.format(id=meeting.id, title=meeting.title)
        )
        usage = strings.MENU_USAGE.format(id=meeting.id, items=activity.menu_text(acfg))
        ctx.reply(Text(state + "\n\n" + usage))
        return
    saved = minutes_uc.record_menu(
        ctx.session, ctx.person, meeting_id, activity.parse_menu_text(rest), cfg=cfg
    )
    missing = activity.missing_items(saved.menu_done, acfg)
    ctx.reply(
        Text(
            strings.MENU_SAVED.format(
                id=meeting_id,
                done=activity.done_text(saved.menu_done, saved.menu_extra),
                missing=strings.MENU_SAVED_MISSING.format(items="、".join(missing))
                if missing
                else strings.MENU_SAVED_ALL,
            )
        )
    )


@router.action(ACTION_LEAVE)
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
def leave_approve(ctx: HandlerContext, params: dict[str, str]) -> None:
    leave_uc.decide_leave(
        ctx.session, ctx.person, _int(params, "leave"), approve=True, now=ctx.now, cfg=cfg_of(ctx)
    )


@router.action(leave_uc.ACTION_REJECT)
def leave_reject(ctx: HandlerContext, params: dict[str, str]) -> None:
    leave_uc.decide_leave(
        ctx.session, ctx.person, _int(params, "leave"), approve=False, now=ctx.now, cfg=cfg_of(ctx)
    )


@router.command("补学完成", help=strings.HELP_MAKEUP_DONE, audience=_is_member)
def makeup_done(ctx: HandlerContext, args: str) -> None:
    task_id, note = _split_ref(args)
    task = makeup_uc.report_makeup(
        ctx.session, ctx.person, note=note, task_id=task_id, now=ctx.now, cfg=cfg_of(ctx)
    )
    ctx.reply(Text(makeup_uc.reported_reply(ctx.session, task, cfg_of(ctx))))


@router.command("我的补学", help=strings.HELP_MY_MAKEUP, audience=_is_member)
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
def makeup_confirm(ctx: HandlerContext, params: dict[str, str]) -> None:
    makeup_uc.decide_makeup(
        ctx.session, ctx.person, _int(params, "task"), confirm=True, now=ctx.now, cfg=cfg_of(ctx)
    )


@router.action(makeup_uc.ACTION_RETURN)
def makeup_return(ctx: HandlerContext, params: dict[str, str]) -> None:
    makeup_uc.decide_makeup(
        ctx.session, ctx.person, _int(params, "task"), confirm=False, now=ctx.now, cfg=cfg_of(ctx)
    )
