"""A branch-year for the 民主评议 tests, with known people and a clock the tests move.

城关镇党委 (its 书记 陈书记, no branch of his own) → 东门社区党支部: 王书记 (书记), 李委员 (组织委员), 张三, 李四,
王五, 赵六 (正式), 陈七 (预备), 周八 (正式, to be marked 留党察看): 8 members, so 优秀 at most 2; 河西村党支部:
孙书记 (书记), 周杰. Everyone has a DingTalk account (their account id below) and a WeCom one (the same id).
The window the tests open: Thursday 3 to Wednesday 9 December 2026; it closes at midnight into the 10th.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from bot.core.context import CoreConfig
from bot.web.app import create_app
from bot.web.console.deps import COOKIE as CONSOLE_COOKIE
from handlers.appraisal import chat as appraisal_chat
from models.org import BranchCategory, MemberStatus, OrgUnit, Person, Platform, Role, UnitKind
from tests import builders, harness
from tests.console.people_world import login_token
from tests.web import set_session

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday 3 December, 10:00 in Shanghai
AFTER_CLOSE = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # Thursday 10 December, 09:00
SECRET = "appraisal-test-secret"
CORE = CoreConfig(tz=TZ, public_base_url="http://testserver", secret_key=SECRET)


@dataclass
class Org:
    committee: OrgUnit
    branch: OrgUnit
    other: OrgUnit
    people: dict[str, Person]  # by account id

    def __getitem__(self, account: str) -> Person:
        return self.people[account]


@pytest.fixture
def org(session) -> Org:
    committee = builders.unit(session, "城关镇党委", UnitKind.COMMITTEE)
    branch = builders.unit(session, "东门社区党支部", UnitKind.BRANCH, committee, BranchCategory.COMMUNITY)
    other = builders.unit(session, "河西村党支部", UnitKind.BRANCH, committee, BranchCategory.RURAL)
    people: dict[str, Person] = {}

    def person(account, name, unit, *roles, role_unit=None, **fields):
        p = builders.person(session, name, unit, account_id=account, corp=harness.DT, **fields)
        builders.account(session, p, account, platform=Platform.WECOM, corp=harness.WC)
        for role in roles:
            builders.role(session, p, role_unit or unit, role)
        people[account] = p

    person("wang", "王书记", branch, Role.SECRETARY)
    person("li", "李委员", branch, Role.ORGANIZATION_MEMBER)
    person("zs", "张三", branch)
    person("ls", "李四", branch)
    person("ww", "王五", branch)
    person("zl", "赵六", branch)
    person("cq", "陈七", branch, status=MemberStatus.PROBATIONARY)
    person("zb", "周八", branch)
    person("sun", "孙书记", other, Role.SECRETARY)
    person("zj", "周杰", other)
    person("chen", "陈书记", None, Role.SECRETARY, role_unit=committee)
    session.commit()
    return Org(committee, branch, other, people)


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    """The whole app (H5 and console) and the chat, on one moving clock."""

    session_factory: object
    org: Org
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.app = create_app(self.session_factory, core=CORE, clock=self.clock)
        self.chat = harness.Chat(self.session_factory, [appraisal_chat.router], now=NOW, config=CORE)

    def h5(self, account: str) -> TestClient:
        client = TestClient(self.app)
        set_session(client, SECRET, self.org[account].id, self.clock.now)
        return client

    def console(self, account: str) -> TestClient:
        client = TestClient(self.app)
        client.cookies.set(
            CONSOLE_COOKIE, login_token(self.session_factory, self.org[account].id, now=self.clock.now)
        )
        return client

    def say(self, account: str, text: str):
        self.chat.now = self.clock.now
        return self.chat.say(account, text)


@pytest.fixture
def world(session_factory, org) -> World:
    return World(session_factory, org)
