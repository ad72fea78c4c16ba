"""A crafted committee for 书记项目: 城关镇党委 with three branches whose secretaries each register a
project (one kept on time, one late, one returned), its 组织委员 who pre-reviews, the county 组织部 who
scores, and a member per branch who sees the public commitment. Everyone's chat account is on the
platform a test asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from config import demo
from models.org import BranchCategory, OrgUnit, Person, Platform, Role, UnitKind
from tests import builders

TZ = ZoneInfo("Asia/Shanghai")


def local(day, hour=10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


REGISTRATION = {
    "wangsj": (
        "名称：村集体经济增收\n问题：村集体经济收入低，年收入不足5万元\n内容：盘活闲置土地，发展光伏项目\n"
        "节点：2027-03-31 完成入户调研；2027-06-30 光伏项目并网\n成效：村集体年收入超过10万元\n领办人：王书记、张委员"
    ),
    "lisj": (
        "名称：老旧小区停车难\n问题：小区停车位不足，车辆乱停\n内容：增设生态停车位，建立党员巡查机制\n"
        "节点：3月31日 完成摸底；5月31日 建成停车位\n成效：新增停车位80个\n领办人：李书记"
    ),
    "zhaosj": (
        "名称：窗口服务提速\n问题：群众反映办事慢\n内容：党员先锋岗\n节点：2027-06-30 推出承诺制\n成效：办结时间缩短\n领办人：赵书记"
    ),
}


@dataclass
class Org:
    committee: OrgUnit
    village: OrgUnit
    community: OrgUnit
    office: OrgUnit
    wang: Person  # 河东村 书记: the project kept on time
    li: Person  # 城关社区 书记: the late one
    zhao: Person  # 机关 书记: the returned one
    zhou: Person  # 党委 组织委员: pre-reviews
    feng: Person  # 党委 书记
    deputy: Person  # 党委 副书记
    sun: Person  # 组织部 (whole tree): scores
    member: Person  # 河东村 member
    other_member: Person  # 城关社区 member


def build(session, platform: Platform = Platform.DINGTALK) -> Org:
    corp = demo.DINGTALK_CORP_ID if platform == Platform.DINGTALK else demo.WECOM_CORP_ID

    def person(name, branch, account):
        return builders.person(session, name, branch, account_id=account, corp=corp, platform=platform)

    committee = builders.unit(session, "城关镇党委", UnitKind.COMMITTEE)
    village = builders.unit(session, "河东村党支部", UnitKind.BRANCH, committee, BranchCategory.RURAL)
    community = builders.unit(session, "城关社区党支部", UnitKind.BRANCH, committee, BranchCategory.COMMUNITY)
    office = builders.unit(session, "镇机关党支部", UnitKind.BRANCH, committee, BranchCategory.GOVERNMENT)
    wang = person("王书记", village, "wangsj")
    li = person("李书记", community, "lisj")
    zhao = person("赵书记", office, "zhaosj")
    zhou = person("周组织", office, "zhouzz")
    feng = person("冯书记", office, "fengsj")
    deputy = person("吴副书记", office, "wufsj")
    sun = person("孙部长", None, "sunbz")
    member = person("张党员", village, "zhangdy")
    other_member = person("刘党员", community, "liudy")
    for who, where in ((wang, village), (li, community), (zhao, office), (feng, committee)):
        builders.role(session, who, where, Role.SECRETARY)
    builders.role(session, zhou, committee, Role.ORGANIZATION_MEMBER)
    builders.role(session, deputy, committee, Role.DEPUTY_SECRETARY)
    builders.role(session, sun, None, Role.ORG_STAFF)
    session.flush()
    return Org(
        committee, village, community, office, wang, li, zhao, zhou, feng, deputy, sun, member, other_member
    )


@pytest.fixture
def org(session) -> Org:
    o = build(session)
    session.commit()
    return o
