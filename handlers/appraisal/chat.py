"""Chat commands of 民主评议党员. Thin: parse, call a use case, answer. Everything a member fills in
(自评, the ballot) is on the H5 page the card opens: a ballot never passes through chat."""

from __future__ import annotations

from bot.core.context import HandlerContext
from bot.core.errors import Refused
from bot.core.messages import Text
from bot.core.router import Router, bound
from handlers.appraisal import service, strings
from handlers.appraisal.config import DEFAULT, AppraisalConfig, appraisal_config
from models.appraisal import AppraisalMember

router = Router("appraisal")


def cfg_of(ctx: HandlerContext) -> AppraisalConfig:
    return appraisal_config(ctx.config)


def _is_manager(ctx: HandlerContext) -> bool:
    return any(r.role in cfg_of(ctx).manager_roles for r in ctx.roles)


@router.command(
    "开始民主评议",
    "开启民主评议",
    help=strings.HELP_OPEN.format(days=DEFAULT.window_days),
    audience=_is_manager,
)
def open_appraisal(ctx: HandlerContext, args: str) -> None:
    def send(person_ids, card, key):
        return ctx.send(person_ids, card, dedup_key=key)

    done = service.open_appraisal(
        ctx.session, ctx.person, args, now=ctx.now, tz=ctx.config.tz, cfg=cfg_of(ctx), send=send
    )
    start, end = service.window_text(done.appraisal, ctx.config.tz)
    ctx.reply(
        Text(
            strings.OPENED.format(
                branch=done.branch.name, year=done.appraisal.year, start=start, end=end, n=done.notified
            )
        )
    )


@router.command("民主评议", "民主评议党员", help=strings.HELP_MEMBER, audience=bound)
def show(ctx: HandlerContext, args: str) -> None:
    # The member's card for their branch's appraisal of this year (a manager's also has the turnout and
    # the management page). A comment, not a docstring: the router would show a docstring as help.
    cfg, tz = cfg_of(ctx), ctx.config.tz
    if ctx.person is None:
        raise Refused(strings.NOT_BOUND)
    year = ctx.local_now.year
    managed = service.managed_branches(ctx.session, ctx.person, cfg)
    branch = managed[0] if managed else ctx.person.branch
    if branch is None:
        raise Refused(strings.NO_BRANCH)
    a = service.of_branch(ctx.session, branch.id, year)
    if a is None:
        raise Refused(strings.NONE_THIS_YEAR.format(branch=branch.name, year=year), status=404)
    status = ""
    manager = bool(managed)
    if manager:
        t = service.turnout(ctx.session, [a.id])[a.id]
        state = service.state_text(a, ctx.now, tz)
        status = strings.STATUS_LINE.format(
            branch=branch.name, year=year, state=state, voters=t.voters, voted=t.voted
        )
    member = ctx.session.get(AppraisalMember, (a.id, ctx.person.id)) is not None
    ctx.reply_privately(service.member_card(a, branch, tz, manager=manager, member=member, status=status))
