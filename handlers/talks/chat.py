"""Chat commands of 谈心谈话. Thin: parse, call a use case, answer."""

from __future__ import annotations

from bot.core.context import HandlerContext
from bot.core.errors import Refused
from bot.core.messages import Markdown, Text, md_escape
from bot.core.router import Router, bound
from handlers.common.dates import fmt_full_day
from handlers.common.roles import units_where
from handlers.talks import coverage, record, strings
from handlers.talks.config import TalksConfig, talks_config
from models.org import OrgUnit, UnitKind

router = Router("talks")


def cfg_of(ctx: HandlerContext) -> TalksConfig:
    return talks_config(ctx.config)


def _is_recorder(ctx: HandlerContext) -> bool:
    return any(r.role in cfg_of(ctx).recorder_roles for r in ctx.roles)


@router.command("谈心谈话", "谈心", help=strings.HELP_RECORD, audience=bound)
@router.command("谈心谈话", "谈心", help=strings.HELP_RECORD_ANY, audience=_is_recorder)
def record_talk(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    today = ctx.local_now.date()
    done = record.record_talk(ctx.session, ctx.person, args, now=ctx.now, today=today, cfg=cfg)
    talk = done.talk
    names = "、".join(p.name for p in done.people)
    template = {"new": strings.RECORDED, "same": strings.ALREADY, "topic": strings.TOPIC_UPDATED}[done.state]
    lines = [template.format(id=talk.id, names=names, day=fmt_full_day(talk.held_on), topic=talk.topic)]
    if done.state == "new" and talk.held_on.year == today.year:
        row = coverage.coverage(ctx.session, [done.branch.id], today.year, cfg).get(done.branch.id)
        if row is not None:
            lines.append(
                strings.PROGRESS.format(
                    branch=done.branch.name, year=today.year, done=row.done, required=row.required
                )
            )
    ctx.reply(Text("\n".join(lines)))


@router.command("谈心谈话情况", help=strings.HELP_COVERAGE, audience=_is_recorder)
def show_coverage(ctx: HandlerContext, args: str) -> None:
    cfg = cfg_of(ctx)
    if ctx.person is None:
        raise Refused(strings.NOT_BOUND)
    units = units_where(ctx.session, ctx.person.id, cfg.recorder_roles, kind=UnitKind.BRANCH)
    if not units:
        raise Refused(
            strings.COVERAGE_NOT_RECORDER.format(recorders=strings.recorders(cfg.recorder_roles)), status=403
        )
    today = ctx.local_now.date()
    typed = args.strip().removesuffix("年")
    year = int(typed) if typed.isdigit() and len(typed) == 4 and int(typed) <= today.year else today.year
    # Their own branch first, then any other branch they lead (a 书记 of two branches sees both).
    ordered = sorted(units, key=lambda u: (u != ctx.person.branch_id, u))
    rows = coverage.coverage(ctx.session, ordered, year, cfg)
    parts = []
    for unit_id in ordered:
        branch = ctx.session.get(OrgUnit, unit_id)
        row = rows.get(unit_id) or coverage.BranchTalks(unit_id, year)
        parts.append(coverage.coverage_text(row, branch.name, cfg, escape=md_escape))
    # Who has not been talked with is the secretary's to act on, not the group's to read.
    ctx.reply_privately(Markdown(title=strings.COVERAGE_TITLE.format(year=year), text="\n\n".join(parts)))
