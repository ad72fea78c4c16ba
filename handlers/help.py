"""帮助, 我的, and the polite answer to anything not understood: the first handlers, on both platforms."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.context import HandlerContext
from bot.core.messages import Markdown, Text, md_escape
from bot.core.router import Router
from models.org import PLATFORM_LABELS, ROLE_LABELS, ChatAccount, OrgUnit, Platform

router = Router("help")

# The Chinese this module says, in one place.
HELP_TITLE = "我能帮您做什么"
HELP_INTRO = "您好{name}！直接发送下面的指令即可（不区分全角半角，群里请先@我）："
HELP_UNBOUND_NOTE = "您的账号还未登记到党员名册，登记前只能使用“帮助”和“我的”。"
ME_TITLE = "我的信息"
ME_UNBOUND = (
    "未绑定：系统里还没有登记您的{platform}账号（账号 ID：{account}）。\n"
    "请把这个账号 ID 告诉所在党支部的书记或上级党委组织部，请他们在党员名册中为您添加，登记后即可使用。"
)
ME_NO_BRANCH = "（未编入党支部）"
ME_NO_ROLES = "党员"
FALLBACK = "没太明白“{text}”的意思。发送“帮助”可以查看您能使用的功能。"
FALLBACK_EMPTY = "您好！发送“帮助”可以查看您能使用的功能。"


def help_line(word: str, text: str) -> str:
    """One line of 帮助. Help that starts with its own usage ("调整会议 #编号 时间：…") shows the usage in
    bold instead of repeating the command word."""
    usage, sep, description = text.partition("：")
    if sep and usage.startswith(word):
        return f"- **{usage}**：{description}"
    return f"- **{word}**：{text}"


@router.command("帮助", "help", "菜单", "?", help="查看我能帮您做什么", public=True)
def show_help(ctx: HandlerContext, _args: str) -> None:
    lines = [HELP_INTRO.format(name=f"，{md_escape(ctx.person.name)}" if ctx.person else "")]
    seen: set[str] = set()
    commands = ctx.routes.commands if ctx.routes is not None else router.commands
    for command in commands:
        word = command.words[0]
        if word in seen or not command.help:
            continue
        if ctx.person is None and not command.public:
            continue
        try:
            allowed = command.audience(ctx)
        except Exception:  # a faulty predicate hides its command rather than breaking 帮助
            allowed = False
        if allowed:
            seen.add(word)
            lines.append(help_line(word, command.help))
    if ctx.person is None:
        lines.append("")
        lines.append(HELP_UNBOUND_NOTE)
    ctx.reply(Markdown(HELP_TITLE, "\n".join(lines)))


@router.command("我的", "我是谁", help="查看我在系统里的身份：姓名、支部、职务", public=True)
def who_am_i(ctx: HandlerContext, _args: str) -> None:
    sender = ctx.event.sender
    if ctx.person is None:
        ctx.reply_privately(
            Text(
                ME_UNBOUND.format(
                    platform=PLATFORM_LABELS.get(Platform(sender.platform)), account=sender.account_id
                )
            )
        )
        return
    person = ctx.person
    branch = ctx.session.get(OrgUnit, person.branch_id) if person.branch_id else None
    roles = []
    for assignment in ctx.roles:
        unit = ctx.session.get(OrgUnit, assignment.org_unit_id) if assignment.org_unit_id else None
        roles.append(f"{md_escape(unit.name) if unit else '全部组织'}{ROLE_LABELS[assignment.role]}")
    accounts = ctx.session.scalars(select(ChatAccount).where(ChatAccount.person_id == person.id)).all()
    lines = [
        f"- 姓名：{md_escape(person.name)}",
        f"- 所在支部：{md_escape(branch.name) if branch else ME_NO_BRANCH}",
        f"- 职务：{'、'.join(roles) if roles else ME_NO_ROLES}",
        "- 已绑定："
        + "、".join(f"{PLATFORM_LABELS[Platform(a.platform)]}（{a.account_id}）" for a in accounts),
    ]
    ctx.reply_privately(Markdown(ME_TITLE, "\n".join(lines)))


def fallback(ctx: HandlerContext, text: str) -> None:
    """Anything no command matched: a polite pointer to 帮助, quoting (a short piece of) what was said."""
    shown = " ".join(text.split())[:20]
    ctx.reply(Text(FALLBACK.format(text=shown) if shown else FALLBACK_EMPTY))
