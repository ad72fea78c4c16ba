"""Chat commands of 书记项目. Thin: parse, call a use case, answer."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import or_, select

from bot.core.context import HandlerContext
from bot.core.errors import Refused
from bot.core.messages import Markdown, Text, md_escape
from bot.core.router import Router
from handlers.common import dates
from handlers.common.roles import roles_held
from handlers.projects import access, bulletin, library, orders, progress, rating, review, showcase, strings
from handlers.projects.config import ProjectsConfig, projects_config
from models.inspection import Liaison
from models.org import OrgUnit, Person, Role, UnitKind
from models.projects import ProjectJudge, ProjectReview, ProjectReviewer, ProjectStatus, SecretaryProject

router = Router("projects")

_REF = re.compile(r"^#?\s*(\d+)\s*(.*)$", re.S)
_NODE = re.compile(r"^节点\s*(\d+)\s*(.*)$", re.S)
_DONE = re.compile(r"^(已完成|完成)\s*(.*)$", re.S)
_DAY = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?$")


def cfg_of(ctx: HandlerContext) -> ProjectsConfig:
    return projects_config(ctx.config)


def _ref(args: str, usage: str) -> tuple[int, str]:
    m = _REF.match(args.strip())
    if not m:
        raise Refused(usage)
    return int(m.group(1)), m.group(2).strip()


def _param(params: dict[str, str]) -> int:
    try:
        return int(params.get("project", ""))
    except ValueError:
        raise Refused(strings.NO_REF) from None


def _is_secretary(ctx: HandlerContext) -> bool:
    return ctx.person is not None and bool(access.secretary_units(ctx.session, ctx.person, cfg_of(ctx)))


def _leads_above(ctx: HandlerContext) -> bool:
    """A committee's 书记/副书记/组织委员 or 组织部: who pre-reviews, issues 督办单 and decides."""
    return any(
        (r.role == Role.ORG_STAFF)
        or (
            r.role in cfg_of(ctx).committee_roles
            and r.org_unit is not None
            and r.org_unit.kind == UnitKind.COMMITTEE
        )
        for r in ctx.roles
    )


def _reviews(ctx: HandlerContext) -> bool:
    """Who may be asked to score: 组织部, a committee's leaders, a named reviewer."""
    if _leads_above(ctx):
        return True
    return (
        ctx.person is not None
        and ctx.session.scalar(
            select(ProjectReviewer.id).where(ProjectReviewer.person_id == ctx.person.id).limit(1)
        )
        is not None
    )


def _in_projects(ctx: HandlerContext) -> bool:
    return _is_secretary(ctx) or _reviews(ctx)


def _sets_calls(ctx: HandlerContext) -> bool:
    return ctx.person is not None and bool(access.call_units(ctx.session, ctx.person, cfg_of(ctx)))


@router.command("书记项目", "我的项目", help=strings.HELP_LIST, audience=_in_projects)
def list_projects(ctx: HandlerContext, _args: str) -> None:
    cfg = cfg_of(ctx)
    if ctx.person is None:
        raise Refused(strings.NOT_BOUND)
    rows = _waiting(ctx)
    units = {
        u.id: u for u in ctx.session.scalars(select(OrgUnit).where(OrgUnit.id.in_({p.unit_id for p in rows})))
    }
    scored = set(
        ctx.session.scalars(
            select(ProjectReview.project_id).where(ProjectReview.reviewer_id == ctx.person.id)
        )
    )
    # Who pre-reviews and who scores, for all the waiting projects at once (组织部: the whole county).
    submitted = [p for p in rows if p.status == ProjectStatus.SUBMITTED]
    prereviewers = access.prereviewers_by_unit(ctx.session, [units[p.unit_id] for p in submitted], cfg)
    to_pre = [p for p in submitted if ctx.person.id in prereviewers[p.unit_id]]
    unscored = [p for p in rows if p.status == ProjectStatus.PRE_ACCEPTED and p.id not in scored]
    reviewers = access.reviewers_by_project(ctx.session, unscored, cfg)
    to_score = [p for p in unscored if ctx.person.id in reviewers[p.id][0]]
    mine = ctx.session.scalars(
        select(SecretaryProject)
        .where(SecretaryProject.secretary_id == ctx.person.id)
        .order_by(SecretaryProject.id)
    ).all()
    today = ctx.local_now.date()
    parts = []
    if mine:
        lines = []
        for p in mine:
            lines.append(_line(p))
            if p.status == ProjectStatus.ACCEPTED:
                lines.append(review.milestone_lines(p.milestones, today))
            if p.status == ProjectStatus.RETURNED and p.return_reason:
                lines.append(md_escape(p.return_reason))
        parts.append(strings.LIST_MINE + "\n\n" + "\n".join(lines))
    if _leads_above(ctx):
        parts.append(_overview(ctx, today))
    if to_pre:
        parts.append(strings.LIST_TO_PREREVIEW + "\n\n" + "\n".join(_line(p) for p in to_pre))
    if to_score:
        parts.append(strings.LIST_TO_SCORE + "\n\n" + "\n".join(_line(p) for p in to_score))
    ctx.reply(Markdown(title=strings.LIST_TITLE, text="\n\n".join(parts) or strings.LIST_EMPTY))
    # The 预审 cards again (the first few), so whoever missed the card on submission can act on it here.
    for p in to_pre[: cfg.list_cards]:
        ctx.reply(review.prereview_card(ctx.session, p, today))


def _overview(ctx: HandlerContext, today: date) -> str:
    """A committee leader's or the 组织部's projects in brief: per year (this one, and next once there
    are any), how many in each state; the details are the console's."""
    scope = library.leader_scope(ctx.session, ctx.person, cfg_of(ctx))
    counts = library.status_counts(ctx.session, scope, [today.year, today.year + 1])
    name = strings.LIST_SCOPE_WHOLE if scope is None else "、".join(u.name for u in scope)
    lines = [strings.LIST_SCOPE.format(scope=md_escape(name))]
    for year in sorted({today.year, *counts}):
        by_status = counts.get(year, {})
        if not by_status:
            lines.append(strings.LIST_SCOPE_NONE.format(year=year))
            continue
        shown = "，".join(
            strings.LIST_SCOPE_PART.format(status=label, count=by_status[status])
            for status, label in strings.STATUS_LABELS.items()
            if by_status.get(status)
        )
        lines.append(strings.LIST_SCOPE_YEAR.format(year=year, total=sum(by_status.values()), parts=shown))
    lines.append(strings.LIST_SCOPE_MORE)
    return "\n".join(lines)


def _waiting(ctx: HandlerContext) -> list[SecretaryProject]:
    """Projects waiting for a 预审 or a score that this person might be asked for: under the units where
    they hold an office (a county's whole library only for 组织部 over the tree or a named reviewer)."""
    session, person = ctx.session, ctx.person
    stmt = (
        select(SecretaryProject)
        .join(OrgUnit, OrgUnit.id == SecretaryProject.unit_id)
        .where(SecretaryProject.status.in_([ProjectStatus.SUBMITTED, ProjectStatus.PRE_ACCEPTED]))
        .order_by(SecretaryProject.id)
    )
    held = roles_held(session, person.id)
    named = session.scalar(select(ProjectReviewer.id).where(ProjectReviewer.person_id == person.id).limit(1))
    if named is None and (None, Role.ORG_STAFF) not in held:
        paths = list(session.scalars(select(OrgUnit.path).where(OrgUnit.id.in_({u for u, _ in held if u}))))
        if not paths:
            return []
        stmt = stmt.where(or_(*(OrgUnit.path.startswith(p) for p in paths)))
    return list(session.scalars(stmt))


def _line(p: SecretaryProject) -> str:
    return strings.LIST_LINE.format(
        id=p.id, title=md_escape(p.title), year=p.year, status=strings.STATUS_LABELS[p.status]
    )


@router.command("申报项目", "申报书记项目", help=strings.HELP_REGISTER, audience=_is_secretary)
def register(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    if not args.strip():
        # The form with examples in the open year, or, the call being closed, when the next one opens.
        unit = library.registering_unit(ctx.session, ctx.person, cfg)
        today = ctx.local_now.date()
        window = library.registration_window(ctx.session, unit, today, cfg)
        if not window.open:
            ctx.reply(Text(library.closed_text(ctx.session, unit, window, cfg)))
            return
        hint = strings.TEMPLATES.get(unit.category, "")
        usage = library.usage_text(window, today)
        ctx.reply(Text("\n".join(filter(None, [usage, hint, strings.TEMPLATE_GENERAL]))))
        return
    p = library.register(ctx.session, ctx.person, args, now=ctx.now, cfg=cfg)
    who = review.prereviewer_names(ctx.session, p, cfg)
    text = (
        strings.REGISTERED.format(id=p.id, title=p.title, nodes=len(p.milestones), who=who)
        if who
        else strings.REGISTERED_NOBODY.format(id=p.id, title=p.title)
    )
    ctx.reply(Text(text))


@router.command("修改项目", help=strings.HELP_EDIT, audience=_is_secretary)
def edit(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    project_id, rest = _ref(args, strings.NO_REF)
    p = library.edit(ctx.session, ctx.person, project_id, rest, now=ctx.now, cfg=cfg)
    ctx.reply(
        Text(
            strings.RESUBMITTED.format(
                id=p.id, title=p.title, who=review.prereviewer_names(ctx.session, p, cfg)
            )
        )
    )


@router.command("预审通过", help=strings.HELP_PRE, audience=_leads_above)
def pre_accept_text(ctx: HandlerContext, args: str) -> None:
    project_id, _ = _ref(args, strings.NO_REF)
    _pre_accept(ctx, project_id)


@router.action(review.ACTION_PRE_ACCEPT)
def pre_accept(ctx: HandlerContext, params: dict[str, str]) -> None:
    _pre_accept(ctx, _param(params))


def _pre_accept(ctx: HandlerContext, project_id: int) -> None:
    p = review.pre_accept(
        ctx.session,
        ctx.person,
        project_id,
        now=ctx.now,
        cfg=cfg_of(ctx),
        public_base_url=ctx.config.public_base_url,
    )
    ctx.reply(Text(strings.PRE_ACCEPTED_REPLY.format(id=p.id, title=p.title)))


@router.command("预审退回")
def pre_return_text(ctx: HandlerContext, args: str) -> None:
    project_id, reason = _ref(args, strings.REASON_REQUIRED.format(id="编号"))
    p = review.pre_return(ctx.session, ctx.person, project_id, reason, now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.PRE_RETURNED_REPLY.format(id=p.id, title=p.title)))


@router.action(review.ACTION_PRE_RETURN)
def pre_return(ctx: HandlerContext, params: dict[str, str]) -> None:
    ctx.reply(Text(strings.PRE_RETURN_PROMPT.format(id=_param(params))))


@router.command("项目评分", help=strings.HELP_SCORE, audience=_reviews)
def score(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    project_id, rest = _ref(args, strings.SCORE_USAGE)
    value, _, comment = rest.partition(" ")
    if not value.strip().isdigit():
        raise Refused(strings.SCORE_BAD.format(value=value or "") + "\n" + strings.SCORE_USAGE)
    p, row, missing = review.score(
        ctx.session,
        ctx.person,
        project_id,
        int(value),
        comment.strip(),
        now=ctx.now,
        cfg=cfg,
        public_base_url=ctx.config.public_base_url,
    )
    if missing:
        outcome = strings.SCORED_WAITING.format(count=missing)
    elif p.status == ProjectStatus.ACCEPTED:
        outcome = strings.SCORED_ACCEPTED.format(mean=p.score)
    else:
        outcome = strings.SCORED_NOT_ACCEPTED.format(mean=p.score, pass_score=f"{cfg.pass_score:g}")
    ctx.reply(Text(strings.SCORED_REPLY.format(id=p.id, title=p.title, score=row.score, outcome=outcome)))


@router.command("项目进展", help=strings.HELP_PROGRESS, audience=_is_secretary)
def report(ctx: HandlerContext, args: str) -> None:
    project_id, rest = _ref(args, strings.PROGRESS_USAGE)
    seq, done = None, False
    if m := _NODE.match(rest):
        seq, rest = int(m.group(1)), m.group(2).strip()
    if m := _DONE.match(rest):
        done, rest = True, m.group(2).strip()
    _row, answer = progress.report(
        ctx.session, ctx.person, project_id, rest, milestone_seq=seq, done=done, now=ctx.now, cfg=cfg_of(ctx)
    )
    ctx.reply(Text(answer))


def _day(text: str) -> date | None:
    m = _DAY.match(text)
    try:
        return date(int(m[1]), int(m[2]), int(m[3])) if m else None
    except ValueError:
        return None


@router.command("项目征集", help=strings.HELP_CALL, audience=_sets_calls)
def call(ctx: HandlerContext, args: str) -> None:
    parts = args.split()
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit() or _day(parts[1]) is None:
        raise Refused(strings.CALL_USAGE.format(year=ctx.local_now.year + 1))
    year, deadline, count = int(parts[0]), _day(parts[1]), int(parts[2])
    c, unit = library.set_call(ctx.session, ctx.person, year, deadline, count, cfg=cfg_of(ctx))
    ctx.reply(
        Text(
            strings.CALL_SAVED.format(
                year=year,
                unit=unit.name if unit is not None else strings.CALL_WHOLE,
                deadline=dates.fmt_full_day(c.deadline),
                count=c.per_secretary,
            )
        )
    )


@router.command("项目评审人", help=strings.HELP_REVIEWERS, audience=_sets_calls)
def reviewers(ctx: HandlerContext, args: str) -> None:
    year, _, rest = args.strip().partition(" ")
    names = [n for n in re.split(r"[、,，\s]+", rest) if n]
    if not year.isdigit() or not names:
        raise Refused(strings.REVIEWERS_USAGE.format(year=ctx.local_now.year + 1))
    people = library.set_reviewers(ctx.session, ctx.person, int(year), names, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.REVIEWERS_SAVED.format(year=year, names="、".join(p.name for p in people))))


# 督办单


@router.command("督办", help=strings.HELP_ORDER, audience=_leads_above)
def issue_order(ctx: HandlerContext, args: str) -> None:
    project_id, rest = _ref(args, strings.ORDER_USAGE)
    day_text, _, text = rest.partition(" ")
    due = _day(day_text)
    if due is None:
        raise Refused(strings.ORDER_USAGE)
    seq = None
    if m := _NODE.match(text.strip()):
        seq, text = int(m.group(1)), m.group(2)
    order = orders.issue(
        ctx.session, ctx.person, project_id, due, text, milestone_seq=seq, now=ctx.now, cfg=cfg_of(ctx)
    )
    secretary = ctx.session.get(Person, order.addressee_id)
    ctx.reply(
        Text(
            strings.ORDER_ISSUED_REPLY.format(
                secretary=secretary.name, id=order.id, due=dates.fmt_full_day(due)
            )
        )
    )


@router.command("督办完成", help=strings.HELP_ORDER_DONE, audience=_is_secretary)
def order_done(ctx: HandlerContext, args: str) -> None:
    order_id, note = _ref(args, strings.ORDER_NOTE_REQUIRED.format(id="编号"))
    order = orders.report_done(ctx.session, ctx.person, order_id, note, now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.ORDER_REPORTED_REPLY.format(id=order.id)))


@router.command("确认督办")
def order_confirm_text(ctx: HandlerContext, args: str) -> None:
    order_id, _ = _ref(args, strings.NO_REF)
    order = orders.confirm(ctx.session, ctx.person, order_id, now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.ORDER_CLOSED_REPLY.format(id=order.id)))


@router.command("退回督办")
def order_reopen_text(ctx: HandlerContext, args: str) -> None:
    order_id, reason = _ref(args, strings.ORDER_REASON_REQUIRED.format(id="编号"))
    order = orders.reopen(ctx.session, ctx.person, order_id, reason, now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.ORDER_REOPENED_REPLY.format(id=order.id)))


def _order_param(params: dict[str, str]) -> int:
    try:
        return int(params.get("order", ""))
    except ValueError:
        raise Refused(strings.NO_REF) from None


@router.action(orders.ACTION_CONFIRM)
def order_confirm(ctx: HandlerContext, params: dict[str, str]) -> None:
    order = orders.confirm(ctx.session, ctx.person, _order_param(params), now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.ORDER_CLOSED_REPLY.format(id=order.id)))


@router.action(orders.ACTION_REOPEN)
def order_reopen(ctx: HandlerContext, params: dict[str, str]) -> None:
    ctx.reply(Text(strings.ORDER_REOPEN_PROMPT.format(id=_order_param(params))))


@router.command("督办单", help=strings.HELP_ORDER_LIST, audience=_in_projects)
def order_list(ctx: HandlerContext, _args: str) -> None:
    if ctx.person is None:
        raise Refused(strings.NOT_BOUND)
    rows = orders.open_orders(ctx.session, ctx.person)
    text = "\n".join(
        strings.ORDER_LINE.format(
            id=o.id,
            text=md_escape(o.text),
            due=dates.fmt_full_day(o.due_on),
            state=strings.ORDER_STATUS[o.status],
        )
        for o in rows
    )
    ctx.reply(Markdown(title=strings.ORDER_LIST_TITLE, text=text or strings.ORDER_LIST_EMPTY))


# 群众评议
# The commands below carry no help= yet: handlers/help.py (not this feature's file) files every helped
# command under a group, and their lines are requested in the notes (strings.HELP_RATING… are ready).


def rating_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}{review.H5_PREFIX}/rate/{token}"


@router.command("开启评议", help=strings.HELP_RATING_OPEN, audience=_leads_above)
def open_rating(ctx: HandlerContext, args: str) -> None:
    project_id, rest = _ref(args, strings.RATING_OPEN_USAGE)
    parts = rest.split()
    public = bool(parts) and parts[-1] == strings.RATING_PUBLIC_WORD
    if public:
        parts = parts[:-1]
    days = [_day(x) for x in parts]
    if len(days) != 2 or None in days:
        raise Refused(strings.RATING_OPEN_USAGE)
    p = rating.open_window(
        ctx.session, ctx.person, project_id, days[0], days[1], public=public, now=ctx.now, cfg=cfg_of(ctx)
    )
    link = ""
    if public:
        token = rating.public_token(ctx.config.secret_key, p, cfg_of(ctx))
        link = strings.RATING_OPENED_PUBLIC.format(url=rating_url(ctx.config.public_base_url, token))
    ctx.reply(
        Text(
            strings.RATING_OPENED.format(
                id=p.id,
                title=p.title,
                opens=dates.fmt_full_day(days[0]),
                closes=dates.fmt_full_day(days[1]),
                public=link,
            )
        )
    )


@router.command("评议", help=strings.HELP_RATING)
def rate(ctx: HandlerContext, args: str) -> None:
    project_id, rest = _ref(args, strings.RATING_USAGE)
    verdict, comment = rating.parse_verdict(rest)
    row = rating.rate(ctx.session, ctx.person, project_id, verdict, comment, now=ctx.now, cfg=cfg_of(ctx))
    p = access.project(ctx.session, row.project_id)
    ctx.reply(
        Text(strings.RATING_SAVED.format(id=p.id, title=p.title, verdict=strings.VERDICT_LABELS[verdict]))
    )


@router.command("评议结果", help=strings.HELP_RATING_RESULT, audience=_in_projects)
def rating_result(ctx: HandlerContext, args: str) -> None:
    project_id, _ = _ref(args, strings.HELP_RATING_RESULT)
    p = access.project(ctx.session, project_id)
    if ctx.person is None or not access.can_view(ctx.session, ctx.person, p, cfg_of(ctx)):
        raise Refused(strings.H5_NOT_VISIBLE)
    line = rating.result_line(ctx.session, p)
    ctx.reply(Text(strings.RATING_RESULT_REPLY.format(id=p.id, title=p.title, line=line)))


# 观摩评比, 优秀项目


def _judges_anywhere(ctx: HandlerContext) -> bool:
    return (
        ctx.person is not None
        and ctx.session.scalar(
            select(ProjectJudge.id).where(ProjectJudge.person_id == ctx.person.id).limit(1)
        )
        is not None
    )


@router.command("观摩评委", help=strings.HELP_JUDGES, audience=_sets_calls)
def judges(ctx: HandlerContext, args: str) -> None:
    year, _, rest = args.strip().partition(" ")
    names = [n for n in re.split(r"[、,，\s]+", rest) if n]
    if not year.isdigit() or not names:
        raise Refused(strings.JUDGES_USAGE.format(year=ctx.local_now.year))
    people = showcase.set_judges(ctx.session, ctx.person, int(year), names, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.JUDGES_SAVED.format(year=year, names="、".join(p.name for p in people))))


@router.command("观摩评分", help=strings.HELP_SHOW_SCORE, audience=_judges_anywhere)
def show_score(ctx: HandlerContext, args: str) -> None:
    project_id, rest = _ref(args, strings.SHOW_USAGE)
    value, _, comment = rest.partition(" ")
    if not value.strip().isdigit():
        raise Refused(strings.SCORE_BAD.format(value=value or "") + "\n" + strings.SHOW_USAGE)
    row = showcase.score(ctx.session, ctx.person, project_id, int(value), comment.strip(), now=ctx.now)
    p = access.project(ctx.session, row.project_id)
    ctx.reply(Text(strings.SHOW_SAVED.format(id=p.id, title=p.title, score=row.score)))


@router.command("观摩排名", help=strings.HELP_RANKING, audience=_leads_above)
def ranking(ctx: HandlerContext, args: str) -> None:
    text = args.strip()
    year = int(text) if text.isdigit() else ctx.local_now.year
    if ctx.person is None:
        raise Refused(strings.NOT_BOUND)
    rows = showcase.ranking(ctx.session, ctx.person, year, cfg_of(ctx))
    lines = [
        strings.RANKING_LINE.format(
            rank=i,
            id=r.project.id,
            title=md_escape(r.project.title),
            unit=md_escape(r.unit),
            show=f"{r.show:.1f}（{r.judged}人）" if r.show is not None else strings.RANKING_NONE,
            rate=f"{r.project.satisfaction * 100:.1f}%"
            if r.project.satisfaction is not None
            else strings.RANKING_NONE,
            score=f"{r.project.score:g}" if r.project.score is not None else strings.RANKING_NONE,
            excellent=strings.RANKING_EXCELLENT if r.project.excellent_at else "",
        )
        for i, r in enumerate(rows, 1)
    ]
    ctx.reply(
        Markdown(
            title=strings.RANKING_TITLE.format(year=year),
            text="\n".join(lines) or strings.RANKING_EMPTY.format(year=year),
        )
    )


@router.command("评为优秀", help=strings.HELP_EXCELLENT, audience=_leads_above)
def excellent(ctx: HandlerContext, args: str) -> None:
    project_id, _ = _ref(args, strings.HELP_EXCELLENT)
    p = showcase.choose_excellent(ctx.session, ctx.person, project_id, now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.EXCELLENT_SAVED.format(id=p.id, title=p.title, year=p.year)))


# 排位赛 and 进度通报 (handlers.projects.bulletin)
# Like 群众评议's, their help lines (strings.HELP_QUARTER…) wait for handlers/help.py to file the words.


def _quarter_args(ctx: HandlerContext, args: str, usage: str) -> tuple:
    """(quarter, committee) from "2027Q1 城关镇党委": the quarter (bare: the last whole one), then the
    committee's name, which may be left out by whoever leads exactly one committee."""
    if ctx.person is None:
        raise Refused(strings.NOT_BOUND)
    today = ctx.local_now.date()
    ex = bulletin.examples(today)
    first, _, rest = args.strip().partition(" ")
    quarter = bulletin.parse_quarter(first, today)
    if quarter is None and first[:1].isdigit():
        raise Refused(strings.QUARTER_BAD.format(**ex) + "\n" + usage.format(**ex))
    if quarter is None:  # no quarter given: the whole text names the committee
        quarter, rest = bulletin.last_quarter(today), args.strip()
    name = rest.strip()
    if name:
        committee = ctx.session.scalar(
            select(OrgUnit).where(OrgUnit.kind == UnitKind.COMMITTEE, OrgUnit.name == name).limit(1)
        )
        if committee is None:
            shown = name if len(name) <= 30 else name[:30] + "…"  # echo a typo, not a pasted page
            raise Refused(strings.QUARTER_UNKNOWN_COMMITTEE.format(name=shown) + "\n" + usage.format(**ex))
        return quarter, committee
    led = sorted(
        {
            r.org_unit.id: r.org_unit
            for r in ctx.roles
            if r.role in cfg_of(ctx).committee_roles
            and r.org_unit is not None
            and r.org_unit.kind == UnitKind.COMMITTEE
        }.values(),
        key=lambda u: u.path,
    )
    if not led and any(r.role == Role.ORG_STAFF for r in ctx.roles):
        # a 组织部 cadre means their 包保 committee (with several, they are asked which, as a leader is)
        led = list(
            ctx.session.scalars(
                select(OrgUnit)
                .join(Liaison, Liaison.committee_id == OrgUnit.id)
                .where(Liaison.person_id == ctx.person.id, OrgUnit.active.is_(True))
                .order_by(OrgUnit.path)
            )
        )
    if not led:
        raise Refused(strings.QUARTER_NO_COMMITTEE.format(**ex))
    if len(led) > 1:
        raise Refused(
            strings.QUARTER_WHICH.format(
                names="、".join(u.name for u in led), quarter=bulletin.code(quarter), first=led[0].name
            )
        )
    return quarter, led[0]


@router.command("排位赛", "季度排位", audience=_leads_above, help=strings.HELP_QUARTER)
def quarter_ranking(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    quarter, committee = _quarter_args(ctx, args, strings.QUARTER_USAGE)
    if not bulletin.can_confirm(ctx.session, ctx.person, committee, cfg):
        raise Refused(strings.QUARTER_NOT_YOURS)
    today = ctx.local_now.date()
    rows, confirmed = bulletin.quarter_view(ctx.session, committee, quarter, cfg, today)
    label = dates.fmt_quarter(quarter)
    if not rows:
        ctx.reply(Text(strings.QUARTER_EMPTY.format(committee=committee.name, quarter=label)))
        return
    parts = [bulletin.ranking_lines(rows)]
    if confirmed is not None:
        parts.insert(0, strings.QUARTER_DONE)
        parts.append(
            strings.BULLETIN_LINK.format(url=bulletin.h5_url(ctx.config.public_base_url, committee, quarter))
        )
    elif today < bulletin.quarter_end(quarter):
        parts.insert(0, strings.QUARTER_RUNNING.format(quarter=label, today=dates.fmt_full_day(today)))
    else:
        parts.insert(0, strings.QUARTER_PROPOSED)
        parts.append(
            strings.QUARTER_NOTHING
            if bulletin.nothing_to_rank(rows)
            else strings.QUARTER_HOW.format(quarter=bulletin.code(quarter), committee=committee.name)
        )
    ctx.reply(
        bulletin.headed(
            strings.QUARTER_KIND,
            strings.QUARTER_TITLE.format(committee=committee.name, quarter=label),
            "\n\n".join(parts),
        )
    )


@router.command("确认排位", audience=_leads_above, help=strings.HELP_QUARTER_CONFIRM)
def confirm_ranking(ctx: HandlerContext, args: str) -> None:
    quarter, committee = _quarter_args(ctx, args, strings.QUARTER_CONFIRM_USAGE)
    _b, _rows, count = bulletin.confirm(
        ctx.session,
        ctx.person,
        committee,
        quarter,
        now=ctx.now,
        cfg=cfg_of(ctx),
        public_base_url=ctx.config.public_base_url,
    )
    ctx.reply(
        Text(
            strings.QUARTER_SAVED_REPLY.format(
                committee=committee.name, quarter=dates.fmt_quarter(quarter), count=count
            )
        )
    )


@router.command("进度通报", help=strings.HELP_BULLETIN)
def my_bulletins(ctx: HandlerContext, args: str) -> None:
    """The published 进度通报 the asker may read (bulletin.can_read, as the H5 page), latest first, or
    the given quarter's, each with its H5 link."""
    if ctx.person is None:
        raise Refused(strings.NOT_BOUND)
    today = ctx.local_now.date()
    text = args.strip()
    quarter = bulletin.parse_quarter(text, today) if text else None
    if text and quarter is None:
        ex = bulletin.examples(today)
        raise Refused(strings.QUARTER_BAD.format(**ex) + "\n" + strings.BULLETIN_USAGE.format(**ex))
    found = bulletin.readable(ctx.session, ctx.person, cfg_of(ctx), quarter)
    if not found:
        none = (
            strings.BULLETIN_MINE_NONE_QUARTER.format(quarter=dates.fmt_quarter(quarter))
            if quarter
            else strings.BULLETIN_MINE_NONE
        )
        ctx.reply(Text(none))
        return
    lines = [
        strings.BULLETIN_MINE_LINE.format(
            title=md_escape(
                strings.BULLETIN_TITLE.format(committee=c.name, quarter=dates.fmt_quarter(b.quarter))
            ),
            url=bulletin.h5_url(ctx.config.public_base_url, c, b.quarter),
        )
        for b, c in found
    ]
    ctx.reply(Markdown(strings.BULLETIN_KIND, "\n".join(lines)))
