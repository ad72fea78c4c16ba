"""Chat commands and card actions of the observers feature. Thin: parse, call a use case, answer."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.core.context import HandlerContext
from bot.core.errors import Refused
from bot.core.messages import Button, Markdown, Text, md_escape
from bot.core.router import Router
from handlers.common import dates
from handlers.observers import access, coverage, notices, observation, periods, record, rectification, strings
from handlers.observers.forms import ObserversConfig, export_url, observers_config
from models.observers import ObserverAssignment

router = Router("observers")

_REF = re.compile(r"^#?\s*(\d+)\s*(.*)$", re.S)


def cfg_of(ctx: HandlerContext) -> ObserversConfig:
    return observers_config(ctx.config)


def _is_observer(ctx: HandlerContext) -> bool:
    if ctx.person is None:
        return False
    return bool(
        ctx.session.scalar(
            select(func.count()).where(
                ObserverAssignment.observer_id == ctx.person.id, ObserverAssignment.active.is_(True)
            )
        )
    )


def _is_manager(ctx: HandlerContext) -> bool:
    return any(r.role in cfg_of(ctx).manager_roles for r in ctx.roles)


def _observer_or_admin(ctx: HandlerContext) -> bool:
    return _is_observer(ctx) or any(r.role in access.ADMIN_ROLES for r in ctx.roles)


def _ref(args: str, usage: str) -> tuple[int, str]:
    m = _REF.match(args.strip())
    if not m:
        raise Refused(usage)
    return int(m.group(1)), m.group(2).strip()


def _param(params: dict[str, str], key: str, missing: str) -> int:
    try:
        return int(params.get(key, ""))
    except ValueError:
        raise Refused(missing) from None


@router.command("我的支部", help=strings.HELP_MY_BRANCHES, audience=_is_observer)
def my_branches(ctx: HandlerContext, _args: str) -> None:
    cfg = cfg_of(ctx)
    parts = []
    for b in coverage.my_branches(ctx.session, ctx.person, now=ctx.now, cfg=cfg):
        head = strings.MY_BRANCH_LINE.format(
            branch=md_escape(b.branch.name),
            period=periods.period_label(cfg),
            done=b.observed,
            required=b.required,
        )
        lines = [
            strings.MY_MEETING_LINE.format(
                when=dates.fmt_when(m.starts_at, cfg.tz), title=md_escape(m.title), place=md_escape(m.place)
            )
            for m in b.meetings
        ] or [strings.MY_NO_MEETINGS]
        parts.append(head + "\n\n" + "\n".join(lines))
    ctx.reply(Markdown(title=strings.MY_BRANCHES_TITLE, text="\n\n".join(parts)))


@router.command("观察统计", help=strings.HELP_STATS, audience=_observer_or_admin)
def stats(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    year = int(args) if args.strip().isdigit() and len(args.strip()) == 4 else ctx.local_now.year
    ids, admin = access.stats_scope(ctx.session, ctx.person)
    records = record.observer_records(ctx.session, year, now=ctx.now, cfg=cfg, observer_ids=ids)
    lines = [
        strings.STATS_LINE.format(
            name=md_escape(r.name),
            branches=len(r.branches),
            attended=r.attended,
            forms=r.forms,
            on_time=r.forms_on_time,
            raised=r.issues_raised,
            closed=r.issues_closed,
            period=r.period,
            done=md_escape("、".join(r.attended_branches)) or strings.STATS_NONE,
            pending=md_escape("、".join(r.pending_branches)) or strings.STATS_NONE,
            basis=record.rating_basis(r, cfg),
        )
        for r in records
    ]
    text = "\n\n".join(lines) or strings.STATS_EMPTY
    title = strings.STATS_TITLE.format(year=year)
    if admin:
        text += "\n\n" + _coverage_text(ctx, year, cfg)
        url = export_url(ctx.config.public_base_url, year)
        from bot.core.messages import Card

        ctx.reply(Card(title=title, text=text, buttons=(Button(strings.STATS_EXPORT, url=url),)))
    else:
        ctx.reply(Markdown(title=title, text=text))


# A county's 组织部 sees over a thousand branches: the chat answer lists the gaps first and stops
# here; the Excel export has every branch.
STATS_MAX_BRANCH_LINES = 80


def _coverage_text(ctx: HandlerContext, year: int, cfg: ObserversConfig) -> str:
    """Every branch of the person's committees this period, the unobserved and unassigned first
    (seed 000: 每半年至少列席一次), grouped by committee."""
    day = coverage.coverage_day(year, ctx.local_now.date())
    rows = coverage.coverage(
        ctx.session, day, cfg, now=ctx.now, within=access.coverage_scope(ctx.session, ctx.person)
    )
    head = strings.STATS_COVERAGE_HEAD.format(
        name=periods.period_name(day, cfg),
        as_of=dates.fmt_full_day(day),
        total=len(rows),
        covered=sum(c.covered for c in rows),
        gaps=sum(not c.covered for c in rows),
        unassigned=sum(not c.assigned for c in rows),
    )
    shown = sorted(rows, key=lambda c: (c.covered, c.assigned, c.committee, c.name))[:STATS_MAX_BRANCH_LINES]
    shown.sort(key=lambda c: (c.committee, c.committee_id or 0, c.covered, c.assigned, c.name))
    lines: list[str] = []
    committee = None
    for c in shown:
        if c.committee_id != committee:
            committee = c.committee_id
            lines.append(strings.STATS_COMMITTEE.format(committee=md_escape(c.committee)))
        lines.append(coverage.coverage_line(c))
    if len(rows) > STATS_MAX_BRANCH_LINES:
        lines.append(strings.STATS_COVERAGE_MORE.format(count=len(rows) - STATS_MAX_BRANCH_LINES))
    return "\n".join([head, *lines])


@router.action(notices.ACTION_ATTEND)
def attend(ctx: HandlerContext, params: dict[str, str]) -> None:
    meeting_id = _param(params, "meeting", strings.NO_MEETING)
    ctx.reply(Text(observation.attend(ctx.session, ctx.person, meeting_id, now=ctx.now, cfg=cfg_of(ctx))))


@router.command("我要列席", help=strings.HELP_ATTEND, audience=_is_observer)
def attend_text(ctx: HandlerContext, args: str) -> None:
    """The same as the card's button, for a 观察提示 that lists several meetings."""
    meeting_id, _ = _ref(args, strings.ATTEND_USAGE)
    ctx.reply(Text(observation.attend(ctx.session, ctx.person, meeting_id, now=ctx.now, cfg=cfg_of(ctx))))


# Rectification


@router.command(
    "整改", help=strings.HELP_RECT_LIST, audience=lambda ctx: _is_manager(ctx) or _is_observer(ctx)
)
def rect_list(ctx: HandlerContext, _args: str) -> None:
    rects = rectification.open_rectifications(ctx.session, ctx.person, cfg=cfg_of(ctx))
    text = rectification.rect_lines(rects, markdown=True) if rects else strings.RECT_LIST_EMPTY
    ctx.reply(Markdown(title=strings.RECT_LIST_TITLE, text=text))


@router.command("整改完成", help=strings.HELP_RECT_DONE, audience=_is_manager)
def rect_done(ctx: HandlerContext, args: str) -> None:
    rect_id, note = _ref(args, strings.RECT_NOTE_REQUIRED.format(id="编号"))
    cfg = cfg_of(ctx)
    rect = rectification.report_fixed(ctx.session, ctx.person, rect_id, note, now=ctx.now, cfg=cfg)
    ctx.reply(Text(rectification.rect_reported_reply(ctx.session, rect, cfg)))


@router.command("确认整改")
def rect_confirm_text(ctx: HandlerContext, args: str) -> None:
    rect_id, _ = _ref(args, strings.NO_RECT.format(id="?"))
    rect = rectification.confirm_fixed(ctx.session, ctx.person, rect_id, now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.RECT_CONFIRMED_REPLY.format(id=rect.id, text=rect.text)))


@router.command("退回整改")
def rect_reopen_text(ctx: HandlerContext, args: str) -> None:
    rect_id, reason = _ref(args, strings.RECT_REASON_REQUIRED.format(id="编号"))
    rect = rectification.reopen_rect(ctx.session, ctx.person, rect_id, reason, now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.RECT_REOPENED_REPLY.format(id=rect.id, text=rect.text)))


@router.action(rectification.ACTION_RECT_CONFIRM)
def rect_confirm(ctx: HandlerContext, params: dict[str, str]) -> None:
    rect_id = _param(params, "rect", strings.NO_RECT.format(id="?"))
    rect = rectification.confirm_fixed(ctx.session, ctx.person, rect_id, now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.RECT_CONFIRMED_REPLY.format(id=rect.id, text=rect.text)))


@router.action(rectification.ACTION_RECT_REOPEN)
def rect_reopen(ctx: HandlerContext, params: dict[str, str]) -> None:
    ctx.reply(
        Text(strings.RECT_REOPEN_PROMPT.format(id=_param(params, "rect", strings.NO_RECT.format(id="?"))))
    )
