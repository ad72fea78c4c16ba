"""登录后台: a one-time link to the web console, for the people the console serves.

The link is a ConsoleLoginTicket (single use, ZHIBU_CONSOLE__LINK_MINUTES): the answer goes to the
person's own 1:1 chat even when they ask in a group, since whoever opens the link is logged in as them.
"""

from __future__ import annotations

from bot.core.context import HandlerContext
from bot.core.messages import Markdown, Text
from bot.core.router import Router
from handlers.console import strings
from handlers.console.scope import scope_of
from handlers.console.sessions import console_config, issue_ticket

router = Router("console")

LINK_PATH = "/console/login/link/{token}"


def has_console(ctx: HandlerContext) -> bool:
    return ctx.person is not None and scope_of(ctx.session, ctx.person.id) is not None


@router.command("登录后台", "管理后台", help=strings.CHAT_HELP, audience=has_console)
def console_link(ctx: HandlerContext, _args: str) -> None:
    if not has_console(ctx):
        ctx.reply_privately(Text(strings.CHAT_MEMBER))
        return
    cfg = console_config(ctx.config)
    token = issue_ticket(ctx.session, ctx.person.id, now=ctx.now, cfg=cfg)
    url = ctx.config.public_base_url.rstrip("/") + LINK_PATH.format(token=token)
    minutes = int(cfg.ticket_valid.total_seconds() // 60)
    ctx.reply_privately(Markdown(strings.CHAT_LINK_TITLE, strings.CHAT_LINK.format(minutes=minutes, url=url)))
