"""Who the bot cannot reach: a branch's members whose messages fail (unknown account, not bound)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.context import HandlerContext
from bot.core.errors import Refused
from bot.core.messages import Markdown, Text, md_escape
from bot.core.outbox import choose_account, reachable_platforms
from bot.core.router import Router, any_role, normalize
from models.org import PLATFORM_LABELS, ChatAccount, OrgUnit, Person, Platform, Role, UnitKind
from models.outbox import DeliveryStatus, OutboxMessage

router = Router("delivery")

SECRETARY_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER, Role.CONTACT)

# The Chinese this module says, in one place.
NO_BRANCH_ROLE = "只有党支部书记、副书记、组织委员或支部联系人可以查看本支部的未送达名单。"
ALL_REACHABLE = "{branch}：全体党员都能收到消息。"
TITLE = "未送达名单"
HEADER = "{branch}有 {n} 名党员收不到机器人的消息："
ROW = "- {name}：{reason}{when}"
FOOTER = "请核对他们的钉钉/企业微信账号，并请组织部在党员名册中更正。"
REASON_NO_ACCOUNT = "未绑定钉钉或企业微信账号"
REASON_LEFT = "已不在{platforms}通讯录中"
PREFER_HELP = "消息发到企业微信：钉钉和企业微信都绑定了时，选择通知发到哪一个（或“消息发到钉钉”）"
PREFER_USAGE = "请说明发到哪里，例如“消息发到企业微信”或“消息发到钉钉”。"
PREFER_NO_ACCOUNT = "您还没有绑定{platform}账号，通知仍发到您的{current}。如需改用{platform}，请联系支部书记在党员名册中登记。"
PREFER_NOT_ENABLED = "本系统没有启用{platform}，通知仍发到您的{current}。"
PREFER_DONE = "好的，以后的通知和提醒都发到您的{platform}。您在哪里问我，我仍在哪里回答。"
PREFER_ALREADY = "通知本来就发到您的{platform}，不用改。"
# What a person may call each platform after 消息发到.
PLATFORM_WORDS = {"钉钉": Platform.DINGTALK, "企业微信": Platform.WECOM, "企微": Platform.WECOM}


@dataclass(frozen=True)
class Unreachable:
    person_id: int
    name: str
    reason: str
    failed_at: datetime | None  # None: never tried (no account at all); for accounts that left, when


def unreachable_members(session: Session, branch_id: int) -> list[Unreachable]:
    """Active members of the branch with no chat account, whose every account left its platform's
    directory (since when), or whose latest message failed for good."""
    people = {
        p.id: p
        for p in session.scalars(
            select(Person).where(Person.branch_id == branch_id, Person.active.is_(True)).order_by(Person.id)
        )
    }
    if not people:
        return []
    with_account: set[int] = set()
    left: dict[int, list[tuple[Platform, datetime]]] = {}  # people whose accounts all left
    for pid, platform, left_at in session.execute(
        select(ChatAccount.person_id, ChatAccount.platform, ChatAccount.left_directory_at).where(
            ChatAccount.person_id.in_(people)
        )
    ):
        if left_at is None:
            with_account.add(pid)
        else:
            left.setdefault(pid, []).append((Platform(platform), left_at))
    latest = (
        select(OutboxMessage.person_id, func.max(OutboxMessage.id).label("last_id"))
        .where(
            OutboxMessage.person_id.in_(people),
            OutboxMessage.status.in_([DeliveryStatus.SENT, DeliveryStatus.FAILED]),
        )
        .group_by(OutboxMessage.person_id)
        .subquery()
    )
    failed = {
        row.person_id: row
        for row in session.scalars(
            select(OutboxMessage)
            .join(latest, OutboxMessage.id == latest.c.last_id)
            .where(OutboxMessage.status == DeliveryStatus.FAILED)
        )
    }
    result = []
    for pid, person in people.items():
        if pid not in with_account and pid in left:
            gone = sorted(left[pid], key=lambda item: item[1])
            platforms = "、".join(PLATFORM_LABELS[p] for p, _ in gone)
            result.append(Unreachable(pid, person.name, REASON_LEFT.format(platforms=platforms), gone[-1][1]))
        elif pid not in with_account:
            result.append(Unreachable(pid, person.name, REASON_NO_ACCOUNT, None))
        elif pid in failed:
            row = failed[pid]
            result.append(Unreachable(pid, person.name, row.reason or "", row.created_at))
    return result


def branches_held(ctx: HandlerContext, roles: Iterable[Role]) -> list[OrgUnit]:
    """The branches where the person holds one of `roles`, in the order of their role assignments.

    The one helper for "the branches this person manages" in chat commands (fees' collector commands too)."""
    wanted = set(roles)
    ids = list(dict.fromkeys(r.org_unit_id for r in ctx.roles if r.role in wanted and r.org_unit_id))
    if not ids:
        return []
    units = {
        u.id: u
        for u in ctx.session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_(ids), OrgUnit.kind == UnitKind.BRANCH)
        )
    }
    return [units[i] for i in ids if i in units]


@router.command(
    "未送达名单", "无法送达", "未送达", help="查看本支部收不到消息的党员", audience=any_role(*SECRETARY_ROLES)
)
def show_unreachable(ctx: HandlerContext, _args: str) -> None:
    branches = branches_held(ctx, SECRETARY_ROLES)
    if not branches:
        ctx.reply(Text(NO_BRANCH_ROLE))
        return
    for branch in branches:
        items = unreachable_members(ctx.session, branch.id)
        if not items:
            ctx.reply(Text(ALL_REACHABLE.format(branch=branch.name)))
            continue
        lines = [HEADER.format(branch=md_escape(branch.name), n=len(items))]
        for item in items:
            when = ""
            if item.failed_at is not None:
                when = f"（{item.failed_at.astimezone(ctx.config.tz):%m-%d %H:%M}）"
            # The reason is the platform's own error text, the name the roster's: neither is markdown.
            lines.append(ROW.format(name=md_escape(item.name), reason=md_escape(item.reason), when=when))
        lines.append(FOOTER)
        ctx.reply(Markdown(TITLE, "\n".join(lines)))


def _accounts(ctx: HandlerContext) -> list[tuple[str, str, str]]:
    # An account that left its platform's directory reaches nobody: it is not offered (nor chosen).
    rows = ctx.session.execute(
        select(ChatAccount.platform, ChatAccount.corp_id, ChatAccount.account_id).where(
            ChatAccount.person_id == ctx.person.id, ChatAccount.left_directory_at.is_(None)
        )
    )
    return [(str(p), corp, account) for p, corp, account in rows]


def notice_platform(
    session: Session, person: Person, accounts: list[tuple[str, str, str]]
) -> Platform | None:
    """The platform this person's notices are queued on now (the outbox's own choice)."""
    chosen = choose_account(accounts, reachable_platforms(session), person.preferred_platform)
    return Platform(chosen[0]) if chosen else None


def _has_both(ctx: HandlerContext) -> bool:
    return ctx.person is not None and len({a[0] for a in _accounts(ctx)}) > 1


@router.command("消息发到", "通知发到", help=PREFER_HELP, audience=_has_both)
def choose_platform(ctx: HandlerContext, args: str) -> None:
    wanted = PLATFORM_WORDS.get(normalize(args))
    if wanted is None:
        raise Refused(PREFER_USAGE)
    accounts = _accounts(ctx)
    current = notice_platform(ctx.session, ctx.person, accounts)
    current_label = PLATFORM_LABELS[current] if current else REASON_NO_ACCOUNT
    label = PLATFORM_LABELS[wanted]
    if wanted not in {Platform(a[0]) for a in accounts}:
        raise Refused(PREFER_NO_ACCOUNT.format(platform=label, current=current_label))
    if wanted not in reachable_platforms(ctx.session):
        raise Refused(PREFER_NOT_ENABLED.format(platform=label, current=current_label))
    if current == wanted and ctx.person.preferred_platform == wanted:
        ctx.reply(Text(PREFER_ALREADY.format(platform=label)))
        return
    ctx.person.preferred_platform = wanted
    ctx.reply(Text(PREFER_DONE.format(platform=label)))
