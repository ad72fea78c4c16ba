"""The demo organisation: small, fixed and memorable, so the README can name people to play.

Two committees, six branches, sixty members, every one with the same readable account id on
DingTalk and WeCom (pinyin + a two-digit counter).
"""

from __future__ import annotations

from models.org import BranchCategory, MemberStatus, Role, UnitKind
from models.seed.generator import Builder

C = BranchCategory

# Role codes used below: branch roles by their label; "党委X" for the committee's roles;
# 观察员 is appointed by the person's own committee; 组织部 covers the whole tree.
_BRANCH_ROLES = {
    "书记": Role.SECRETARY,
    "副书记": Role.DEPUTY_SECRETARY,
    "组织委员": Role.ORGANIZATION_MEMBER,
    "宣传委员": Role.PROPAGANDA_MEMBER,
    "纪检委员": Role.DISCIPLINE_MEMBER,
    "支部联系人": Role.CONTACT,
    "党费收缴员": Role.FEE_COLLECTOR,
}
_COMMITTEE_ROLES = {
    "党委书记": Role.SECRETARY,
    "党委副书记": Role.DEPUTY_SECRETARY,
    "党委组织委员": Role.ORGANIZATION_MEMBER,
}

# (committee, [(branch, category, groups, [(name, pinyin, roles, group index or None, 预备?)])])
DEMO_ORG = [
    ("城关镇党委", [
        ("东风村党支部", C.RURAL, ["第一党小组", "第二党小组"], [
            ("王建国", "wangjianguo", "书记", 0, False),
            ("刘桂兰", "liuguilan", "组织委员、党费收缴员", 0, False),
            ("张德明", "zhangdeming", "宣传委员", 1, False),
            ("陈玉梅", "chenyumei", "纪检委员", 1, False),
            ("李小红", "lixiaohong", "", 0, False),
            ("赵大山", "zhaodashan", "党小组组长", 0, False),
            ("孙长林", "sunchanglin", "党小组组长", 1, False),
            ("周秀英", "zhouxiuying", "", 1, False),
            ("吴永福", "wuyongfu", "", 0, False),
            ("郑春燕", "zhengchunyan", "", 1, False),
            ("储文斌", "chuwenbin", "", 0, False),
            ("檀小军", "tanxiaojun", "", 1, True),
        ]),
        ("幸福社区党支部", C.COMMUNITY, [], [
            ("胡晓燕", "huxiaoyan", "书记、支部联系人", None, False),
            ("徐国强", "xuguoqiang", "组织委员、党费收缴员", None, False),
            ("林淑芬", "linshufen", "宣传委员", None, False),
            ("何志刚", "hezhigang", "纪检委员", None, False),
            ("罗丽华", "luolihua", "", None, False),
            ("高建平", "gaojianping", "", None, False),
            ("梁翠英", "liangcuiying", "", None, False),
            ("宋明远", "songmingyuan", "", None, False),
            ("唐雪梅", "tangxuemei", "", None, False),
            ("许文杰", "xuwenjie", "", None, True),
        ]),
        ("城关镇机关党支部", C.GOVERNMENT, [], [
            ("韩立新", "hanlixin", "书记", None, False),
            ("冯丽娟", "fenglijuan", "组织委员、党费收缴员", None, False),
            ("邓海涛", "denghaitao", "宣传委员", None, False),
            ("曹玉洁", "caoyujie", "纪检委员", None, False),
            ("陈志国", "chenzhiguo", "党委书记", None, False),
            ("刘海燕", "liuhaiyan", "党委副书记", None, False),
            ("周明华", "zhouminghua", "党委组织委员", None, False),
            ("马超", "machao", "观察员", None, False),
            ("彭慧", "penghui", "", None, False),
        ]),
    ]),
    ("县直机关工委", [
        ("县委组织部机关党支部", C.GOVERNMENT, [], [
            ("孙立新", "sunlixin", "书记", None, False),
            ("吴静", "wujing", "组织委员、党费收缴员", None, False),
            ("郑晓东", "zhengxiaodong", "宣传委员", None, False),
            ("杨帆", "yangfan", "纪检委员", None, False),
            ("赵敏", "zhaomin", "组织部", None, False),
            ("黄建华", "huangjianhua", "组织部", None, False),
            ("曾德胜", "zengdesheng", "党委书记", None, False),
            ("肖红梅", "xiaohongmei", "党委组织委员", None, False),
            ("田光荣", "tianguangrong", "", None, False),
        ]),
        ("县第一中学党支部", C.SCHOOL, [], [
            ("董文华", "dongwenhua", "书记", None, False),
            ("袁丽", "yuanli", "副书记", None, False),
            ("潘志强", "panzhiqiang", "组织委员、党费收缴员", None, False),
            ("于婷", "yuting", "宣传委员", None, False),
            ("蒋永胜", "jiangyongsheng", "纪检委员", None, False),
            ("蔡佳", "caijia", "党委副书记", None, False),
            ("余俊", "yujun", "", None, False),
            ("杜晓梅", "duxiaomei", "", None, False),
            ("叶春生", "yechunsheng", "", None, False),
            ("程欣", "chengxin", "", None, True),
            ("苏建军", "sujianjun", "", None, False),
        ]),
        ("县人民医院党支部", C.PUBLIC_INSTITUTION, [], [
            ("魏国庆", "weiguoqing", "书记", None, False),
            ("吕芳", "lvfang", "组织委员、党费收缴员", None, False),
            ("丁磊", "dinglei", "宣传委员", None, False),
            ("任秀兰", "renxiulan", "纪检委员", None, False),
            ("何丽", "heli", "观察员", None, False),
            ("沈浩", "shenhao", "", None, False),
            ("姚玲", "yaoling", "", None, False),
            ("卢振华", "luzhenhua", "", None, False),
            ("姜悦", "jiangyue", "", None, False),
        ]),
    ]),
]  # fmt: skip

# People the README names, by what they are in the demo (account id on both platforms).
DEMO_PEOPLE = {
    "branch_secretary": "wangjianguo01",  # 王建国, 东风村党支部书记
    "member": "lixiaohong01",  # 李小红, 东风村党支部 第一党小组
    "fee_collector": "liuguilan01",  # 刘桂兰, 东风村党支部组织委员、党费收缴员
    "committee_organization_member": "zhouminghua01",  # 周明华, 城关镇党委组织委员
    "committee_secretary": "chenzhiguo01",  # 陈志国, 城关镇党委书记
    "observer": "machao01",  # 马超, 城关镇党委观察员
    "org_staff": "zhaomin01",  # 赵敏, 组织部
}


def build_demo(builder: Builder) -> None:
    for committee_name, branches in DEMO_ORG:
        committee = builder.unit(UnitKind.COMMITTEE, committee_name, None)
        for branch_name, category, group_names, people in branches:
            branch = builder.unit(UnitKind.BRANCH, branch_name, committee, category)
            groups = [builder.unit(UnitKind.GROUP, g, branch) for g in group_names]
            for name, pinyin, roles, group_index, probationary in people:
                status = MemberStatus.PROBATIONARY if probationary else MemberStatus.FULL
                person = builder.person(branch, category, name=name, pinyin=pinyin, status=status)
                # The demo's people are reachable and expected at meetings: no surprises.
                person["is_mobile"] = False
                person["attendance_exempt_reason"] = None
                if group_index is not None:
                    person["group_id"] = groups[group_index]["id"]
                for code in filter(None, roles.split("、")):
                    if code in _BRANCH_ROLES:
                        builder.role(person, branch, _BRANCH_ROLES[code])
                    elif code in _COMMITTEE_ROLES:
                        builder.role(person, committee, _COMMITTEE_ROLES[code])
                    elif code == "观察员":
                        builder.role(person, committee, Role.OBSERVER)
                    elif code == "组织部":
                        builder.role(person, None, Role.ORG_STAFF)
                    elif code == "党小组组长":
                        builder.role(person, groups[group_index], Role.GROUP_LEADER)
                    else:  # pragma: no cover - a typo in the table above
                        raise ValueError(f"unknown demo role {code}")
    builder.finish_accounts()
