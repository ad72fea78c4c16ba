"""Following the platforms' directories: a member who left, came back, or got a new userid or mobile.

DirectoryEvents (bot.core.directory) calls apply_directory_change in one transaction per event, behind
the inbound dedup row. Nothing is deleted:

- left: the chat account is marked (ChatAccount.left_directory_at); the outbox and the relay stop
  sending to it (the person's other platform, if any, takes over) and the branch secretary is told once;
- joined again (or updated, which proves the user is there): the mark is cleared, if the event is newer
  than it, and the secretary is told that messages go out again;
- a new userid (WeCom's NewUserID): the account follows it, and so do the messages still queued for
  the old one and the cards they can still update; a userid already on someone else's account is not
  taken, the secretary is told instead;
- a new mobile changes nothing (the roster is the record) but is noted to the secretary when it differs
  from the roster's number or belongs to someone else in it.

A plain use case over a Session that never commits.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.core.context import CoreConfig
from bot.core.directory import ChangeKind, DirectoryChange
from bot.core.messages import Text
from bot.core.outbox import enqueue_to_people, reachable_platforms
from handlers.common.roles import committee_people, people_by_role
from handlers.phones import normalize_phone
from models.org import PLATFORM_LABELS, ChatAccount, OrgUnit, Person, Platform, Role, person_by_account
from models.outbox import CardRef, DeliveryStatus, OutboxMessage, TargetKind

logger = logging.getLogger(__name__)

# Who hears about a member's account, in order: the first of these roles held on the member's branch
# (by someone other than the member), else the organisation staff of the committee above.
TOLD_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER, Role.CONTACT)
COMMITTEE_ROLES = (Role.ORG_STAFF, Role.ORGANIZATION_MEMBER)

# The Chinese this module says, in one place.
LEFT = (
    "{who}已不在本单位{platform}通讯录中（{platform}账号“{account}”），{consequence}\n"
    "如该同志已调离或组织关系已转出，请在管理后台“组织与党员”中为其办理；"
    "如是通讯录误删，请{platform}管理员把他重新加入通讯录（账号“{account}”不变），系统会自动恢复发送，不用另行操作。"
)
LEFT_NO_MORE = "今后不再向其发送消息。"
LEFT_OTHER = "今后的通知改发到其{other}。"
BACK = "{who}已重新加入本单位{platform}通讯录（{platform}账号“{account}”），消息恢复发送到其{platform}。"
RENAMED = "{who}的{platform}账号已由“{old}”改为“{new}”，系统已随之更新，不用另行操作。"
RENAME_TAKEN = (
    "{platform}通讯录里，{who}的账号由“{old}”改为“{new}”，但“{new}”在党员名册中登记的是{holder}，"
    "所以系统没有自动更新。请核对两人的{platform}账号，并在管理后台“组织与党员”中更正。"
)
MOBILE_DIFFERS = (
    "{who}在{platform}通讯录中的手机号改为 {mobile}，与党员名册登记的{roster}不一致。"
    "名册没有自动修改；如号码确已变更，请在管理后台“组织与党员”中更正。"
)
MOBILE_OF_OTHER = (
    "{who}在{platform}通讯录中的手机号改为 {mobile}，但这个号码在党员名册中登记的是{holder}。"
    "名册没有自动修改，请核对后在管理后台“组织与党员”中更正。"
)
ROSTER_NO_PHONE = "号码（空）"


def apply_directory_change(
    session: Session, change: DirectoryChange, now: datetime, config: CoreConfig
) -> None:
    """The use case DirectoryEvents runs for each change (see the module's docstring)."""
    ids = [a for a in dict.fromkeys(change.account_ids) if a]
    if not ids:
        return
    accounts = list(
        session.scalars(
            select(ChatAccount)
            .where(
                ChatAccount.platform == change.platform,
                ChatAccount.corp_id == change.corp_id,
                ChatAccount.account_id.in_(ids),
            )
            .order_by(ChatAccount.id)
            # Events about one user may be handled at once (DingTalk pushes frames concurrently):
            # each sees the account as the one before it left it.
            .with_for_update()
        )
    )
    if not accounts:
        logger.info(
            "%s directory %s for %d account(s) nobody in the roster holds",
            change.platform,
            change.kind,
            len(ids),
        )
        return
    when = _aware(change.occurred_at) or now
    for account in accounts:
        if change.kind == ChangeKind.LEFT:
            _left(session, account, when, now)
        else:
            _present(session, account, when, now)
            if change.kind == ChangeKind.UPDATED:
                if change.new_account_id and change.new_account_id != account.account_id:
                    _renamed(session, account, change.new_account_id, now, change.event_id)
                if change.mobile:
                    _mobile(session, account, change.mobile, now, change.event_id)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _left(session: Session, account: ChatAccount, when: datetime, now: datetime) -> None:
    if account.left_directory_at is not None:
        return  # told already, when it was first marked
    account.left_directory_at = when
    session.flush()
    person = session.get(Person, account.person_id)
    platform = _label(account.platform)
    reachable = {str(p) for p in reachable_platforms(session)}
    others = [
        a
        for a in session.scalars(
            select(ChatAccount).where(
                ChatAccount.person_id == account.person_id,
                ChatAccount.id != account.id,
                ChatAccount.left_directory_at.is_(None),
            )
        )
        if str(a.platform) in reachable
    ]
    consequence = LEFT_OTHER.format(other=_label(others[0].platform)) if others else LEFT_NO_MORE
    text = LEFT.format(
        who=_who(session, person), platform=platform, account=account.account_id, consequence=consequence
    )
    _tell(session, person, text, f"directory:left:{account.id}:{when.isoformat()}", now)


def _present(session: Session, account: ChatAccount, when: datetime, now: datetime) -> None:
    mark = _aware(account.left_directory_at)
    if mark is None or when < mark:
        return  # never marked, or this news is older than the departure
    account.left_directory_at = None
    session.flush()
    person = session.get(Person, account.person_id)
    text = BACK.format(
        who=_who(session, person), platform=_label(account.platform), account=account.account_id
    )
    _tell(session, person, text, f"directory:back:{account.id}:{mark.isoformat()}", now)


def _renamed(session: Session, account: ChatAccount, new: str, now: datetime, event_id: str) -> None:
    old = account.account_id
    person = session.get(Person, account.person_id)
    platform = _label(account.platform)
    holder = person_by_account(session, account.platform, account.corp_id, new)
    if holder is not None:
        logger.warning(
            "%s userid %s -> %s: the new id is already another person's account", platform, old, new
        )
        text = RENAME_TAKEN.format(
            who=_who(session, person), platform=platform, old=old, new=new, holder=holder.name
        )
        _tell(session, person, text, f"directory:rename-taken:{event_id}:{account.id}", now)
        return
    account.account_id = new
    session.flush()
    # Messages still waiting for the old id, and the cards they may update, follow the account.
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.platform == str(account.platform),
            OutboxMessage.corp_id == account.corp_id,
            OutboxMessage.target_kind == TargetKind.USER,
            OutboxMessage.target == old,
            OutboxMessage.status == DeliveryStatus.QUEUED,
        )
        .values(target=new)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(CardRef)
        .where(
            CardRef.platform == str(account.platform),
            CardRef.corp_id == account.corp_id,
            CardRef.target == old,
        )
        .values(target=new)
        .execution_options(synchronize_session=False)
    )
    text = RENAMED.format(who=_who(session, person), platform=platform, old=old, new=new)
    _tell(session, person, text, f"directory:renamed:{account.id}:{new}", now)


def _mobile(session: Session, account: ChatAccount, mobile: str, now: datetime, event_id: str) -> None:
    number = normalize_phone(mobile)
    person = session.get(Person, account.person_id)
    if number is None or number == person.phone:
        return
    platform = _label(account.platform)
    holder = session.scalars(select(Person).where(Person.phone == number, Person.id != person.id)).first()
    if holder is not None:
        text = MOBILE_OF_OTHER.format(
            who=_who(session, person), platform=platform, mobile=number, holder=holder.name
        )
    else:
        roster = person.phone or ROSTER_NO_PHONE
        text = MOBILE_DIFFERS.format(
            who=_who(session, person), platform=platform, mobile=number, roster=roster
        )
    _tell(session, person, text, f"directory:mobile:{account.id}:{number}", now)


def _label(platform: Platform | str) -> str:
    return PLATFORM_LABELS.get(Platform(platform), str(platform))


def _who(session: Session, person: Person) -> str:
    """「第一党支部党员张三」: how the secretary recognises the member."""
    branch = session.get(OrgUnit, person.branch_id) if person.branch_id else None
    return f"{branch.name}党员{person.name}" if branch is not None else person.name


def recipients(session: Session, person: Person) -> list[int]:
    """Who is told about this member's account: the first of TOLD_ROLES held on their branch by someone
    else, else the committee's organisation staff; [] for someone outside any branch with nobody above."""
    if person.branch_id is None:
        return []
    held = people_by_role(session, person.branch_id, TOLD_ROLES)
    for role in TOLD_ROLES:
        others = [pid for pid in held.get(role, []) if pid != person.id]
        if others:
            return others
    return [pid for pid in committee_people(session, person.branch_id, COMMITTEE_ROLES) if pid != person.id]


def _tell(session: Session, person: Person, text: str, dedup_key: str, now: datetime) -> None:
    if not person.active:
        return  # already off the roster (transferred out): the account is followed, nobody needs telling
    told = recipients(session, person)
    if not told:
        logger.warning("nobody to tell about a directory change of person %s", person.id)
        return
    enqueue_to_people(session, told, Text(text), dedup_key=dedup_key, now=now)
