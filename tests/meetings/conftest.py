"""A small county for the meetings tests: one committee, two branches, a 党小组, and office holders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.core.context import CoreConfig
from handlers.meetings.types import DEFAULT_CONFIG
from models.org import OrgUnit, Person, Role, UnitKind
from models.outbox import OutboxMessage
from tests import builders

CORP = "dingzhibudemo0001"
CFG = DEFAULT_CONFIG
SECRET = "test-secret-key-for-meetings"
# What the composition root hands the jobs: the default rules in the same zone.
CORE = CoreConfig(tz=CFG.tz, public_base_url="http://127.0.0.1:8000", secret_key=SECRET)
# Mon 2026-05-18 10:00 Shanghai.
NOW = datetime(2026, 5, 18, 2, 0, tzinfo=UTC)


@dataclass
class Org:
    committee: OrgUnit
    branch: OrgUnit
    group: OrgUnit
    other_branch: OrgUnit
    secretary: Person
    deputy: Person
    org_member: Person  # branch 组织委员 (a 支委, not a manager by default)
    alice: Person  # in the group
    bob: Person  # in the group
    carol: Person
    exempt: Person  # 免于参加组织生活
    reviewer: Person  # the committee's 组织委员
    other_secretary: Person
    other_member: Person

    @property
    def branch_members(self) -> list[Person]:
        return [self.secretary, self.deputy, self.org_member, self.alice, self.bob, self.carol]


# The names other meetings and observers tests import; built by the one builders module.
_unit = builders.unit
_role = builders.role


def _person(session, name, branch, account, group=None, **kw):
    """A member of `branch` with a DingTalk account in CORP (none when `account` is empty)."""
    return builders.person(session, name, branch, account_id=account, corp=CORP, group=group, **kw)


def build_org(session) -> Org:
    committee = _unit(session, "城关镇党委", UnitKind.COMMITTEE)
    branch = _unit(session, "城关社区党支部", UnitKind.BRANCH, committee)
    group = _unit(session, "第一党小组", UnitKind.GROUP, branch)
    other = _unit(session, "河西村党支部", UnitKind.BRANCH, committee)
    secretary = _person(session, "王书记", branch, "wangsj")
    deputy = _person(session, "李副书记", branch, "lifsj")
    org_member = _person(session, "赵委员", branch, "zhaowy")
    alice = _person(session, "张丽", branch, "zhangli", group)
    bob = _person(session, "陈刚", branch, "chengang", group)
    carol = _person(session, "刘芳", branch, "liufang")
    exempt = _person(session, "孙老", branch, "sunlao", attendance_exempt_reason="年老体弱")
    reviewer = _person(session, "周组织委员", None, "zhouzz")
    other_secretary = _person(session, "吴书记", other, "wusj")
    other_member = _person(session, "郑强", other, "zhengq")
    _role(session, secretary, branch, Role.SECRETARY)
    _role(session, deputy, branch, Role.DEPUTY_SECRETARY)
    _role(session, org_member, branch, Role.ORGANIZATION_MEMBER)
    _role(session, reviewer, committee, Role.ORGANIZATION_MEMBER)
    _role(session, other_secretary, other, Role.SECRETARY)
    _role(session, alice, group, Role.GROUP_LEADER)
    session.flush()
    return Org(
        committee, branch, group, other, secretary, deputy, org_member, alice, bob, carol, exempt, reviewer,
        other_secretary, other_member,
    )  # fmt: skip


@pytest.fixture
def org(session) -> Org:
    o = build_org(session)
    session.commit()
    return o


def sent(session, dedup_prefix: str = "") -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if dedup_prefix:
        stmt = stmt.where(OutboxMessage.dedup_key.startswith(dedup_prefix))
    return list(session.scalars(stmt))


def recipients(session, dedup_prefix: str) -> set[int]:
    return {m.person_id for m in sent(session, dedup_prefix)}
