"""A crafted county for 督查/巡查: the 组织部 (孙部长, over everything), an inspector on 城关镇党委's
组织部 line (钱督查, 组织部 staff over that committee only), two committees with their branches and each
branch's 书记 (and one 组织委员), and a plain member. Everyone has a chat account on the platform a test
asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from config import demo
from handlers.inspection.config import DEFAULT
from handlers.inspection.rounds import standing
from models.org import BranchCategory, OrgUnit, Person, Platform, Role, UnitKind
from tests import builders

TZ = ZoneInfo("Asia/Shanghai")


def local(day, hour=10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


@dataclass
class County:
    town: OrgUnit  # 城关镇党委
    east: OrgUnit  # 东风镇党委
    village: OrgUnit
    community: OrgUnit
    office: OrgUnit
    east1: OrgUnit
    east2: OrgUnit
    sun: Person  # 组织部 over everything
    qian: Person  # 组织部 staff over 城关镇党委: an inspector
    wang: Person  # 河东村 书记
    li: Person  # 城关社区 书记
    zhao: Person  # 镇机关 书记
    chen: Person  # 东风一村 书记
    zhou: Person  # 东风二村 组织委员
    member: Person  # 河东村 member


def build(session, platform: Platform = Platform.DINGTALK) -> County:
    corp = demo.DINGTALK_CORP_ID if platform == Platform.DINGTALK else demo.WECOM_CORP_ID

    def person(name, branch, account):
        return builders.person(session, name, branch, account_id=account, corp=corp, platform=platform)

    town = builders.unit(session, "城关镇党委", UnitKind.COMMITTEE)
    east = builders.unit(session, "东风镇党委", UnitKind.COMMITTEE)
    village = builders.unit(session, "河东村党支部", UnitKind.BRANCH, town, BranchCategory.RURAL)
    community = builders.unit(session, "城关社区党支部", UnitKind.BRANCH, town, BranchCategory.COMMUNITY)
    office = builders.unit(session, "镇机关党支部", UnitKind.BRANCH, town, BranchCategory.GOVERNMENT)
    east1 = builders.unit(session, "东风一村党支部", UnitKind.BRANCH, east, BranchCategory.RURAL)
    east2 = builders.unit(session, "东风二村党支部", UnitKind.BRANCH, east, BranchCategory.RURAL)
    c = County(
        town, east, village, community, office, east1, east2,
        sun=person("孙部长", None, "sunbz"), qian=person("钱督查", None, "qiandc"),
        wang=person("王书记", village, "wangsj"), li=person("李书记", community, "lisj"),
        zhao=person("赵书记", office, "zhaosj"), chen=person("陈书记", east1, "chensj"),
        zhou=person("周组织", east2, "zhouzz"), member=person("张党员", village, "zhangdy"),
    )  # fmt: skip
    builders.role(session, c.sun, None, Role.ORG_STAFF)
    builders.role(session, c.qian, town, Role.ORG_STAFF)
    for who, where in ((c.wang, village), (c.li, community), (c.zhao, office), (c.chen, east1)):
        builders.role(session, who, where, Role.SECRETARY)
    builders.role(session, c.zhou, east2, Role.ORGANIZATION_MEMBER)
    session.flush()
    return c


@pytest.fixture
def county(session) -> County:
    c = build(session)
    session.commit()
    return c


def st(session, person: Person):
    return standing(session, person.id, DEFAULT)
