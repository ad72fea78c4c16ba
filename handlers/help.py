"""帮助, 我的, and the polite answer to anything not understood: the first handlers, on both platforms."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from sqlalchemy import select

from bot.core.context import HandlerContext
from bot.core.messages import Markdown, Text, md_escape
from bot.core.router import Command, Router, normalize
from handlers.delivery import notice_platform
from models.org import PLATFORM_LABELS, ROLE_LABELS, ChatAccount, OrgUnit, Platform, Role

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
ME_NOTICES = "- 通知发到：{platform}（可发送“消息发到{other}”改用{other}）"
FALLBACK = "没太明白“{text}”的意思。发送“帮助”可以查看您能使用的功能。"
FALLBACK_EMPTY = "您好！发送“帮助”可以查看您能使用的功能。"
FALLBACK_SUGGEST = "没太明白“{text}”的意思。您是不是想：\n{lines}\n发送“帮助”可以查看全部功能。"
OTHER_GROUP = "其他"

# 帮助 in groups by what the person does, each with its most used commands first (by the first command
# word). A group shows when the person may use one of its commands; a command listed nowhere goes to
# 其他 at the end, so a new feature's commands show before someone files them here.
HELP_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "我是党员",
        (
            "请假",
            "已交",
            "党费",
            "我的补学",
            "补学完成",
            "组织生活会",
            "学习研讨",
            "征求意见",
            "对照检查材料",
            "整改措施完成",
            "民主评议",
            "评议",
            "进度通报",  # 书记项目's 进度通报 for anyone (here: a member's 帮助 stays one message)
            "谈心谈话",
            "我的",
            "消息发到",
        ),
    ),
    (
        "我是书记（支委）",
        (
            "本月会议",
            "签到码",
            "签到情况",
            "安排会议",
            "月度计划",
            "会议记录",
            "党日动作",
            "会议",
            "代签",
            "调整会议",
            "取消会议",
            "整改",
            "整改完成",
            "督查整改",
            "本月积分",
            "排名",
            "谈心谈话情况",
            "未送达名单",
            "未做分配工作",
            "撤销未做分配工作",
            "失联",
            "恢复联系",
        ),
    ),
    # Its own message: with the group above it would pass WeCom's 2,048-byte markdown.
    (
        "组织生活会和民主评议（书记、支委）",
        (
            "组织生活会计划",
            "组织生活会情况",
            "标记完成",
            "批评和自我批评",
            "查摆问题",
            "整改措施",
            "开始民主评议",
        ),
    ),
    # A unit's 书记 registers and reports their 书记项目 (the committee's part is under 我在上级党委).
    ("书记项目", ("书记项目", "申报项目", "修改项目", "项目进展", "督办完成", "督办单", "评议结果")),
    ("我管党费", ("党费名单", "党费确认")),
    ("我是观察员", ("我的支部", "我要列席", "观察统计")),
    # 督查任务: an inspector's units, who acts for the committee (交叉互查's secretaries too).
    (
        "我在上级党委",
        (
            "退回计划",
            "督查任务",
            "预审通过",
            "项目评分",
            "督办",
            "项目征集",
            "项目评审人",
            "开启评议",
            "观摩评委",
            "观摩评分",
            "观摩排名",
            "评为优秀",
            "排位赛",
            "确认排位",
        ),
    ),  # fmt: skip
    ("管理后台（电脑上使用）", ("登录后台",)),
)
# Groups for one kind of person only, whatever their commands' own audience lets in. 我是观察员: 观察统计
# also answers a committee's leaders, and its audience counts any 书记, so a branch's 书记 would find
# the observers' group in his 帮助 with a command that then refuses him. A group not shown takes its
# commands with it (they do not fall to 其他).
GROUP_AUDIENCE: dict[str, Callable[[HandlerContext], bool]] = {
    "我是观察员": lambda ctx: ctx.has_role(Role.OBSERVER),
}
# How close a typed word must be to a command word to be suggested (difflib's ratio, 0..1).
SUGGEST_CUTOFF = 0.5
SUGGEST_MAX = 3


def help_line(word: str, text: str) -> str:
    """One line of 帮助. Help that starts with its own usage ("调整会议 #编号 时间：…") shows the usage in
    bold instead of repeating the command word."""
    usage, sep, description = text.partition("：")
    if sep and usage.startswith(word):
        return f"- **{usage}**：{description}"
    return f"- **{word}**：{text}"


def usable_commands(ctx: HandlerContext) -> list[Command]:
    """The commands this person may use, each once, in registration order (those without help are
    hidden; someone not in the roster only gets the public ones)."""
    seen: set[str] = set()
    usable = []
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
            usable.append(command)
    return usable


def grouped(commands: list[Command], ctx: HandlerContext | None = None) -> list[tuple[str, list[Command]]]:
    """The commands in HELP_GROUPS' groups and order, without the groups GROUP_AUDIENCE keeps from this
    person (`ctx`; None: every group); the rest under 其他, as registered."""
    by_word = {c.words[0]: c for c in commands}
    groups = []
    for title, words in HELP_GROUPS:
        members = [by_word.pop(w) for w in words if w in by_word]
        shown = ctx is None or title not in GROUP_AUDIENCE or GROUP_AUDIENCE[title](ctx)
        if members and shown:
            groups.append((title, members))
    rest = [c for c in commands if c.words[0] in by_word and c.words[0] != "帮助"]
    if rest:
        groups.append((OTHER_GROUP, rest))
    return groups


@router.command("帮助", "help", "菜单", "?", help="查看我能帮您做什么", public=True)
def show_help(ctx: HandlerContext, _args: str) -> None:
    """The first group under the greeting, then one message per further group: each fits the
    platforms' message size (WeCom's markdown takes 2,048 bytes) and reads as one card."""
    lines = [HELP_INTRO.format(name=f"，{md_escape(ctx.person.name)}" if ctx.person else "")]
    groups = grouped(usable_commands(ctx), ctx)
    if groups:
        title, commands = groups[0]
        lines += ["", f"**{title}**", *(help_line(c.words[0], c.help) for c in commands)]
    if ctx.person is None:
        lines += ["", HELP_UNBOUND_NOTE]
    ctx.reply(Markdown(HELP_TITLE, "\n".join(lines)))
    for title, commands in groups[1:]:
        # The group's name in the text too: DingTalk shows a markdown message's title only in the
        # notification, not in the chat.
        lines = [f"**{title}**", *(help_line(c.words[0], c.help) for c in commands)]
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
    if len({a.platform for a in accounts}) > 1:
        triples = [(str(a.platform), a.corp_id, a.account_id) for a in accounts]
        now = notice_platform(ctx.session, person, triples)
        if now is not None:
            other = next(p for p in Platform if p != now)
            lines.append(ME_NOTICES.format(platform=PLATFORM_LABELS[now], other=PLATFORM_LABELS[other]))
    ctx.reply_privately(Markdown(ME_TITLE, "\n".join(lines)))


def suggestions(ctx: HandlerContext, text: str) -> list[Command]:
    """The commands this person may use that look like what they typed, best first: those whose word
    the text contains ("怎么请假" → 请假), then the closest by difflib's similarity ratio ("签到" → 签到码)."""
    said = normalize(text).lower()
    if not said:
        return []
    by_word = {w: c for c in usable_commands(ctx) for w in c.words if len(w) >= 2}
    found: list[Command] = []
    contained = sorted((w for w in by_word if w in said), key=len, reverse=True)
    close = difflib.get_close_matches(said, list(by_word), n=SUGGEST_MAX * 2, cutoff=SUGGEST_CUTOFF)
    for word in contained + close:
        if by_word[word] not in found:
            found.append(by_word[word])
    return found[:SUGGEST_MAX]


def fallback(ctx: HandlerContext, text: str) -> None:
    """Anything no command matched: the closest commands this person may use, or a polite pointer to
    帮助, quoting (a short piece of) what was said."""
    shown = " ".join(text.split())[:20]
    if not shown:
        ctx.reply(Text(FALLBACK_EMPTY))
        return
    found = suggestions(ctx, text)
    if not found:
        ctx.reply(Text(FALLBACK.format(text=shown)))
        return
    lines = "\n".join(f"· {plain_help_line(c.words[0], c.help)}" for c in found)
    ctx.reply(Text(FALLBACK_SUGGEST.format(text=shown, lines=lines)))


def plain_help_line(word: str, text: str) -> str:
    """help_line without markdown, for a plain-text reply."""
    usage, sep, description = text.partition("：")
    if sep and usage.startswith(word):
        return f"{usage}：{description}"
    return f"{word}：{text}"
