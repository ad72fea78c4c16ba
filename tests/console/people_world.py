"""A small organisation and a console app for the PEOPLE tests (组织与党员, 审计日志).

城关镇党委 (东风村党支部 with 第一党小组, 幸福社区党支部) and 县直机关工委 (县人民医院党支部). Who logs in:
赵敏 组织部 (the whole tree), 陈志国 城关镇党委书记 (its subtree), 王建国 东风村党支部书记 (his branch),
马超 观察员 of 东风村党支部 (read-only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.core import signing
from bot.core.context import CoreConfig
from bot.web.console import build_console
from bot.web.console.deps import COOKIE
from config import demo
from config.rules import ConsoleRules, Rules
from handlers.console.sessions import ConsoleConfig, open_session
from models.audit import SYSTEM, act_as
from models.db import unit_of_work
from models.observers import ObserverAssignment
from models.org import BranchCategory, FeeCategory, MemberStatus, Platform, Role, UnitKind
from tests import builders

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday 3 December, 10:00 in Shanghai
SECRET = "console-people-test-secret"
DT, WC = demo.DINGTALK_CORP_ID, demo.WECOM_CORP_ID


@dataclass
class World:
    units: dict[str, int]
    people: dict[str, int]


def build_world(session) -> World:
    # Set up a month before the tests' "now", so their own entries are the newest.
    act_as(session, SYSTEM, clock=lambda: NOW - timedelta(days=30))
    c1 = builders.unit(session, "城关镇党委", UnitKind.COMMITTEE)
    b1 = builders.unit(session, "东风村党支部", UnitKind.BRANCH, c1, BranchCategory.RURAL)
    g1 = builders.unit(session, "第一党小组", UnitKind.GROUP, b1)
    b2 = builders.unit(session, "幸福社区党支部", UnitKind.BRANCH, c1, BranchCategory.COMMUNITY)
    c2 = builders.unit(session, "县直机关工委", UnitKind.COMMITTEE)
    b3 = builders.unit(session, "县人民医院党支部", UnitKind.BRANCH, c2, BranchCategory.PUBLIC_INSTITUTION)

    def member(name, branch, account, phone, **fields):
        p = builders.person(session, name, branch, account_id=account, corp=DT, phone=phone, **fields)
        builders.account(session, p, account, platform=Platform.WECOM, corp=WC)
        return p

    zhao = member("赵敏", None, "zhaomin01", "13900000001")
    chen = member("陈志国", b2, "chenzhiguo01", "13900000002")
    wang = member("王建国", b1, "wangjianguo01", "13900000003")
    li = member("李小红", b1, "lixiaohong01", "13900000004", group=g1, joined_on=datetime(2012, 7, 1).date())
    zhang = member("张三", b2, "zhangsan01", "13900000005", status=MemberStatus.PROBATIONARY)
    ma = member("马超", b2, "machao01", "13900000006")
    liu = member("刘医生", b3, "liuyisheng01", "13900000007", fee_category=FeeCategory.RETIRED)
    builders.role(session, zhao, None, Role.ORG_STAFF)
    builders.role(session, chen, c1, Role.SECRETARY)
    builders.role(session, wang, b1, Role.SECRETARY)
    builders.role(session, ma, c1, Role.OBSERVER)
    session.add(ObserverAssignment(observer_id=ma.id, branch_id=b1.id, active=True))
    session.flush()
    return World(
        units={"c1": c1.id, "b1": b1.id, "g1": g1.id, "b2": b2.id, "c2": c2.id, "b3": b3.id},
        people={
            "zhao": zhao.id,
            "chen": chen.id,
            "wang": wang.id,
            "li": li.id,
            "zhang": zhang.id,
            "ma": ma.id,
            "liu": liu.id,
        },
    )


class Identity:
    """What the console reads of a platform's identity here: its corp id (the roster's accounts)."""

    def __init__(self, corp_id: str) -> None:
        self.corp_id = corp_id


def console_app(session_factory, *, now: datetime = NOW, uploads: Path | None = None) -> FastAPI:
    """`uploads`: where roster uploads wait (ZHIBU_CONSOLE__UPLOADS; a test's own directory)."""
    app = FastAPI()
    rules = Rules(console=ConsoleRules(uploads=str(uploads or "")))
    core = CoreConfig(tz=TZ, public_base_url="http://testserver", secret_key=SECRET, rules=rules)
    identities = {"dingtalk": Identity(DT), "wecom": Identity(WC)}
    build_console(app, session_factory, identities, core, clock=lambda: now)
    return app


def login_token(session_factory, person_id: int, *, now: datetime = NOW) -> str:
    with unit_of_work(session_factory) as session:
        return open_session(session, person_id, "test", now=now, cfg=ConsoleConfig())


def login(session_factory, app: FastAPI, person_id: int, *, now: datetime = NOW) -> TestClient:
    client = TestClient(app)
    client.cookies.set(COOKIE, login_token(session_factory, person_id, now=now))
    return client


def csrf_of(client: TestClient) -> str:
    """The CSRF token the pages carry (the signature of the session cookie)."""
    return signing.signature(SECRET, "console.csrf", client.cookies.get(COOKIE))
