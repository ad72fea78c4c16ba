"""Chat commands of handlers.lifemeeting. Thin: parse, call a use case, answer."""

from __future__ import annotations

from bot.core.context import HandlerContext
from bot.core.errors import Refused
from bot.core.messages import Markdown, Text, md_escape
from bot.core.router import Router
from handlers.common.dates import fmt_full_day
from handlers.lifemeeting import prepare, record, strings
from handlers.lifemeeting.config import STEPS, LifeMeetingConfig, lifemeeting_config
from handlers.lifemeeting.status import BranchLife, branch_status, names_of
from handlers.meetings.types import meetings_config
from handlers.talks import strings as talk_strings
from handlers.talks.config import TalksConfig, talks_config
from models.org import OrgUnit

router = Router("lifemeeting")


def cfg_of(ctx: HandlerContext) -> LifeMeetingConfig:
    return lifemeeting_config(ctx.config)


def _is_manager(ctx: HandlerContext) -> bool:
    return any(r.role in cfg_of(ctx).manager_roles for r in ctx.roles)


def _has_plan(ctx: HandlerContext) -> bool:
    """帮助 shows a member's 组织生活会 commands only in a year their branch has planned it: the rest of the
    year they would only lengthen the member's list."""
    person = ctx.person
    return (
        person is not None
        and person.branch_id is not None
        and prepare.plan_of(ctx.session, person.branch_id, ctx.local_now.year) is not None
    )


def _owns_measure(ctx: HandlerContext) -> bool:
    return ctx.person is not None and record.owns_open_measure(ctx.session, ctx.person.id)


def _status(ctx: HandlerContext, branch_id: int, year: int) -> BranchLife:
    return branch_status(
        ctx.session, [branch_id], year, now=ctx.now, cfg=cfg_of(ctx),
        talks_cfg=talks_config(ctx.config), meetings_cfg=meetings_config(ctx.config),
    )[branch_id]  # fmt: skip


def _with_whom(talks_cfg: TalksConfig) -> str:
    secretary = talks_cfg.member_talks_with == "secretary"
    return talk_strings.RULE_WITH_SECRETARY if secretary else talk_strings.RULE_WITH_COMMITTEE


def _talks_need(life: BranchLife, person_id: int, talks_cfg: TalksConfig) -> str:
    """A member's 谈心谈话 still owed, so 未完成 says with whom (one recorded talk rarely covers it all)."""
    others, leader, peer = life.talks_owed(person_id)
    needs = [strings.NEED_COMMITTEE.format(names=names_of(life, others, len(others), strings.MORE))] * bool(
        others
    )
    needs += [strings.NEED_LEADER.format(with_whom=_with_whom(talks_cfg))] * leader
    needs += [strings.NEED_PEER] * peer
    return strings.MINE_TALKS_NEED.format(needs="；".join(needs))


def _local_day(ctx: HandlerContext, moment) -> str:
    return fmt_full_day(moment.astimezone(cfg_of(ctx).tz).date())


@router.command("组织生活会", help=strings.HELP_MINE, audience=_has_plan)
def mine(ctx: HandlerContext, _args: str) -> None:
    person = ctx.person
    if person is None:
        raise Refused(strings.NOT_BOUND, status=403)
    if person.branch_id is None:
        raise Refused(strings.NO_BRANCH, status=403)
    today = ctx.local_now.date()
    life = _status(ctx, person.branch_id, today.year)
    if life.plan is None and not life.held:
        raise Refused(strings.NO_PLAN.format(year=today.year), status=404)
    lines = []
    if life.held:
        lines.append(strings.MINE_HELD.format(day=_local_day(ctx, life.held_at)))
    else:
        lines.append(strings.MINE_PLAN.format(day=fmt_full_day(life.plan.planned_on)))
    if life.plan is not None and person.id in life.names:
        for step in STEPS:
            due = life.plan.due(step)
            state = life.person_state(person.id, step)
            word = {
                "done": strings.STATE_DONE,
                "waiting": strings.STATE_SUBMITTED,
                "missing": strings.STATE_OVERDUE if due < today else strings.STATE_MISSING,
            }[state]
            lines.append(
                strings.MINE_STEP.format(step=strings.STEP_LABELS[step], due=fmt_full_day(due), state=word)
            )
            if step == "talks" and state == "missing":
                lines.append(_talks_need(life, person.id, talks_config(ctx.config)))
        if not life.held:
            lines.append(strings.MINE_HINT)
    ctx.reply_privately(Text(strings.MINE_TITLE.format(year=today.year) + "\n" + "\n".join(lines)))


@router.command("组织生活会计划", help=strings.HELP_PLAN, audience=_is_manager)
def plan(ctx: HandlerContext, args: str) -> None:
    p = prepare.set_plan(
        ctx.session, ctx.person, args, now=ctx.now, today=ctx.local_now.date(), cfg=cfg_of(ctx)
    )
    dues = "\n".join(
        strings.PLAN_DUE_LINE.format(step=strings.STEP_LABELS[s], due=fmt_full_day(p.due(s))) for s in STEPS
    )
    ctx.reply(Text(strings.PLAN_SET.format(year=p.year, day=fmt_full_day(p.planned_on), dues=dues)))


@router.command("组织生活会情况", help=strings.HELP_STATUS, audience=_is_manager)
def status(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    branch = prepare.managed_branch(ctx.session, ctx.person, cfg, strings.WHAT_STATUS)
    today = ctx.local_now.date()
    typed = args.strip().removesuffix("年")
    year = int(typed) if typed.isdigit() and len(typed) == 4 and int(typed) <= today.year + 1 else today.year
    life = _status(ctx, branch.id, year)
    ctx.reply_privately(
        Markdown(
            title=strings.STATUS_TITLE.format(year=year),
            text=status_text(life, branch, cfg, talks_config(ctx.config)),
        )
    )


def status_text(life: BranchLife, branch: OrgUnit, cfg: LifeMeetingConfig, talks_cfg: TalksConfig) -> str:
    if life.held:
        when = strings.STATUS_HELD.format(day=fmt_full_day(life.held_at.astimezone(cfg.tz).date()))
    elif life.plan is not None:
        when = strings.STATUS_PLANNED.format(day=fmt_full_day(life.plan.planned_on))
    else:
        when = strings.STATUS_NOT_PLANNED
    lines = [strings.STATUS_HEAD.format(branch=md_escape(branch.name), when=when)]
    for step in STEPS:
        state = life.steps[step]
        due = fmt_full_day(life.plan.due(step)) if life.plan else "—"
        if step == "talks" and life.talks is not None:
            lines += _talks_lines(life, due, cfg, talks_cfg)
            continue
        lines.append(
            strings.STATUS_STEP.format(
                step=strings.STEP_LABELS[step], due=due, done=len(state.done), required=state.required
            )
        )
        if state.missing:
            names = names_of(life, state.missing, cfg.names_shown, strings.MORE)
            lines.append(strings.STATUS_MISSING.format(names=md_escape(names)))
        if state.waiting:
            names = names_of(life, state.waiting, cfg.names_shown, strings.MORE)
            lines.append(strings.STATUS_WAITING.format(names=md_escape(names)))
    if life.measures_total:
        lines.append(
            strings.STATUS_MEASURES.format(
                total=life.measures_total, open=life.measures_open, overdue=life.measures_overdue
            )
        )
    return "\n".join(lines)


def _talks_lines(life: BranchLife, due: str, cfg: LifeMeetingConfig, talks_cfg: TalksConfig) -> list[str]:
    """The 谈心谈话 step counted as handlers.talks counts it (each pair of 支委, each member's talks), so it
    moves with each talk recorded and agrees with 谈心谈话情况, and says which talks are still owed."""
    row = life.talks
    limit = cfg.names_shown
    lines = [strings.STATUS_TALKS.format(due=due, required=row.required, done=row.done, talks=row.talks)]
    if row.committee_missing:
        pairs = [
            talk_strings.PAIR.format(a=md_escape(life.names.get(a, "?")), b=md_escape(life.names.get(b, "?")))
            for a, b in row.committee_missing
        ]
        more = talk_strings.MORE_PAIRS.format(n=len(pairs)) if len(pairs) > limit else ""
        lines.append(strings.STATUS_TALKS_PAIRS.format(pairs="、".join(pairs[:limit]) + more))
    with_whom = _with_whom(talks_cfg)
    if row.members_missing:
        names = md_escape(names_of(life, row.members_missing, limit, strings.MORE))
        lines.append(strings.STATUS_TALKS_LEADER.format(with_whom=with_whom, names=names))
    if row.peers_required and row.peers_missing:
        names = md_escape(names_of(life, row.peers_missing, limit, strings.MORE))
        lines.append(strings.STATUS_TALKS_PEERS.format(names=names))
    if not row.complete:
        peer = strings.STATUS_TALKS_PEER_RULE if row.peers_required else ""
        lines.append(strings.STATUS_TALKS_RULE.format(with_whom=with_whom, peer=peer))
    return lines


def _submit(ctx: HandlerContext, step: str, args: str) -> None:
    done = prepare.submit_step(ctx.session, ctx.person, step, args, now=ctx.now, today=ctx.local_now.date())
    label = strings.STEP_LABELS[step]
    if done.again:
        ctx.reply_privately(Text(strings.RESUBMITTED.format(step=label)))
    else:
        ctx.reply_privately(Text(strings.SUBMITTED.format(step=label, due=fmt_full_day(done.plan.due(step)))))


@router.command("学习研讨", help=strings.HELP_STUDY, audience=_has_plan)
def study(ctx: HandlerContext, args: str) -> None:
    _submit(ctx, "study", args)


@router.command("征求意见", help=strings.HELP_OPINIONS, audience=_has_plan)
def opinions(ctx: HandlerContext, args: str) -> None:
    _submit(ctx, "opinions", args)


@router.command("对照检查材料", help=strings.HELP_MATERIALS, audience=_has_plan)
def materials(ctx: HandlerContext, args: str) -> None:
    _submit(ctx, "materials", args)


@router.command("标记完成", help=strings.HELP_MARK, audience=_is_manager)
def mark(ctx: HandlerContext, args: str) -> None:
    done = prepare.mark_done(
        ctx.session, ctx.person, args, now=ctx.now, today=ctx.local_now.date(), cfg=cfg_of(ctx)
    )
    label = strings.STEP_LABELS[done.step]
    lines = []
    if done.marked:
        lines.append(strings.MARKED.format(step=label, names="、".join(done.marked)))
    if done.already:
        lines.append(strings.MARKED_ALREADY.format(names="、".join(done.already)))
    if done.unsubmitted:
        lines.append(strings.MARKED_NONE_SUBMITTED.format(names="、".join(done.unsubmitted)))
    ctx.reply(Text("\n".join(lines)))


@router.command("批评和自我批评", help=strings.HELP_CRITICISM, audience=_is_manager)
def criticism(ctx: HandlerContext, args: str) -> None:
    saved = record.record_criticism(ctx.session, ctx.person, args, now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.CRITICISM_SAVED.format(name=saved.name, title=saved.meeting.title, n=saved.count)))


@router.command("查摆问题", help=strings.HELP_PROBLEMS, audience=_is_manager)
def problems(ctx: HandlerContext, args: str) -> None:
    meeting = record.record_problems(ctx.session, ctx.person, args, now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.PROBLEMS_SAVED.format(title=meeting.title)))


@router.command("整改措施", help=strings.HELP_MEASURE, audience=_is_manager)
def measure(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    today = ctx.local_now.date()
    if args.strip():
        row, owner = record.add_measure(ctx.session, ctx.person, args, now=ctx.now, today=today, cfg=cfg)
        ctx.reply(
            Text(
                strings.MEASURE_ADDED.format(
                    id=row.id, content=row.content, owner=owner, due=fmt_full_day(row.due_on)
                )
            )
        )
        return
    branch = prepare.managed_branch(ctx.session, ctx.person, cfg, strings.WHAT_RECORD)
    rows = record.year_measures(ctx.session, branch.id, today.year, cfg)
    if not rows:
        ctx.reply(Text(strings.MEASURE_NONE.format(year=today.year)))
        return
    names = prepare.branch_people(ctx.session, branch.id)
    lines = []
    for r in rows:
        state = (
            strings.MEASURE_DONE_STATE
            if r.done_at is not None
            else strings.MEASURE_OVERDUE_STATE
            if r.due_on < today
            else strings.MEASURE_OPEN_STATE
        )
        lines.append(
            strings.MEASURE_LINE.format(
                id=r.id,
                content=r.content,
                owner=names.get(r.owner_id, "—"),
                due=fmt_full_day(r.due_on),
                state=state,
            )
        )
    ctx.reply(Text(strings.MEASURE_LIST_TITLE.format(year=today.year) + "\n" + "\n".join(lines)))


@router.command("整改措施完成", help=strings.HELP_MEASURE_DONE, audience=_owns_measure)
def measure_done(ctx: HandlerContext, args: str) -> None:
    row = record.finish_measure(ctx.session, ctx.person, args, now=ctx.now, cfg=cfg_of(ctx))
    ctx.reply(Text(strings.MEASURE_FINISHED.format(id=row.id, content=row.content)))
