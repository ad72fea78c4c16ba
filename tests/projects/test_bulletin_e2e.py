"""排位赛 and 进度通报 end to end through the sandbox on DingTalk and WeCom: the committee's 组织委员 reads
the proposed ranking in chat; a branch's secretary and another committee's 书记 cannot confirm it; the
组织委员 confirms it; the committee's leaders and the projects' secretaries get the bulletin, members do
not; a member of a ranked unit reads it on the H5 page behind the platform's identity, someone of another
committee cannot; a second confirmation is refused."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from config import demo
from models.inspection import Liaison
from models.org import Person, Platform, Role, UnitKind
from models.projects import ProjectBulletin
from tests import builders
from tests.core.e2e import running_bot
from tests.projects.conftest import build, local
from tests.projects.test_bulletin import quarter_data
from tests.projects.test_e2e import _login, _say, _to

NOW = local(date(2027, 4, 2))


def _bulletins(bot, platform, user):
    return [m for m in _to(bot, platform, user) if "书记项目进度通报" in str(m)]


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_the_quarter_bulletin_through_the_sandbox(session_factory, database_url, platform):
    with session_factory() as s, s.begin():
        org = build(s, Platform(platform))
        quarter_data(s, org)
        corp = demo.DINGTALK_CORP_ID if platform == "dingtalk" else demo.WECOM_CORP_ID
        other = builders.unit(s, "河西镇党委", UnitKind.COMMITTEE)
        branch = builders.unit(s, "河西村党支部", UnitKind.BRANCH, other)
        qian = builders.person(
            s, "钱书记", branch, account_id="qiansj", corp=corp, platform=Platform(platform)
        )
        builders.role(s, qian, other, Role.SECRETARY)
        committee_id, other_id = org.committee.id, other.id
    with running_bot(session_factory, database_url, clock_start=NOW) as bot:
        shown = _say(bot, platform, "zhouzz", "排位赛 2027Q1")
        assert "城关镇党委2027年第1季度书记项目排位赛" in shown and "系统建议排位" in shown
        assert shown.index("第1名 河东村党支部：A 光伏") < shown.index("第5名 城关社区党支部：B 停车")
        assert "确认排位 2027Q1 城关镇党委" in shown
        assert "季度应写成" in _say(bot, platform, "zhouzz", "排位赛 2027Q5")
        named = _say(bot, platform, "sunbz", "排位赛 城关镇党委")  # 组织部: names the committee; bare quarter
        assert "第1名 河东村党支部：A 光伏" in named
        assert "请在后面写上党委名称" in _say(bot, platform, "sunbz", "排位赛 2027Q1")
        # The heading is the body's first line too (DingTalk shows a markdown title only in the preview).
        assert "**城关镇党委2027年第1季度书记项目排位赛**" in shown
        # A 组织部 cadre who is 包保 cadre of exactly one committee means that one; of two, names it again.
        with session_factory() as s, s.begin():
            sun_id = s.scalar(select(Person.id).where(Person.name == "孙部长"))
            s.add(Liaison(person_id=sun_id, committee_id=committee_id))
        assert "第1名 河东村党支部：A 光伏" in _say(bot, platform, "sunbz", "排位赛 2027Q1")
        with session_factory() as s, s.begin():
            s.add(Liaison(person_id=sun_id, committee_id=other_id))
        assert "请在后面写上党委名称" in _say(bot, platform, "sunbz", "排位赛 2027Q1")
        # Nothing published yet: a member asking is told so.
        assert "还没有您可以查看的进度通报" in _say(bot, platform, "zhangdy", "进度通报")
        # Not theirs: a branch's secretary (no committee of theirs, then naming it) and another committee's 书记.
        assert "您不是党委的书记" in _say(bot, platform, "lisj", "确认排位 2027Q1")
        assert "只有本党委" in _say(bot, platform, "lisj", "确认排位 2027Q1 城关镇党委")
        assert "只有本党委" in _say(bot, platform, "qiansj", "确认排位 2027Q1 城关镇党委")
        # A pasted page instead of a committee's name is echoed shortened, the usage still after it.
        long = _say(bot, platform, "zhouzz", "确认排位 2027Q1 " + "城" * 5000)
        assert "城" * 30 + "…" in long and "城" * 31 not in long and "确认排位" in long
        assert "只有本党委" in _say(bot, platform, "qiansj", "排位赛 2027Q1 城关镇党委")
        with session_factory() as s:
            assert s.scalar(select(ProjectBulletin.id)) is None
        assert not _bulletins(bot, platform, "wangsj")

        assert "已确认城关镇党委2027年第1季度排位赛" in _say(bot, platform, "zhouzz", "确认排位 2027Q1")
        for user in ("fengsj", "wufsj", "zhouzz", "wangsj", "lisj", "zhaosj"):
            (sent,) = _bulletins(bot, platform, user)
            assert "2027年3月：红旗 A 光伏；蜗牛 B 停车" in str(sent), user
        for user in ("zhangdy", "liudy", "qiansj", "sunbz"):
            assert not _bulletins(bot, platform, user), user
        assert "不能重复确认" in _say(bot, platform, "fengsj", "确认排位 2027Q1")
        (sent,) = _bulletins(bot, platform, "lisj")
        assert "**城关镇党委2027年第1季度书记项目进度通报**" in str(sent)
        # A member of a ranked unit finds the bulletin by command (no card was sent to them), with its link;
        # someone of another committee finds none; a quarter without one says so.
        mine = _say(bot, platform, "zhangdy", "进度通报")
        assert "城关镇党委2027年第1季度书记项目进度通报" in mine
        assert "- [" not in mine  # WeCom markdown has no lists: a dash would show as typed
        assert f"/h5/projects/bulletin/{committee_id}/2027Q1" in mine
        assert f"/h5/projects/bulletin/{committee_id}/2027Q1" in _say(
            bot, platform, "zhangdy", "进度通报 2027Q1"
        )
        assert "2026年第4季度还没有您可以查看的进度通报" in _say(bot, platform, "zhangdy", "进度通报 2026Q4")
        assert "季度应写成" in _say(bot, platform, "zhangdy", "进度通报 2027Q9")
        assert "还没有您可以查看的进度通报" in _say(bot, platform, "qiansj", "进度通报")
        assert "已由党委确认" in _say(bot, platform, "fengsj", "排位赛")  # bare: the last whole quarter

        link = re.search(
            r"https?://[^'\"\s)]+/h5/projects/bulletin/\d+/2027Q1", str(_bulletins(bot, platform, "lisj")[0])
        )
        page = urlsplit(link.group(0)).path
        assert page == f"/h5/projects/bulletin/{committee_id}/2027Q1"
        member = httpx.Client(base_url=bot.url, trust_env=False, timeout=30)
        _login(bot, platform, member, "zhangdy", page)
        got = member.get(page)
        assert got.status_code == 200 and "城关镇党委2027年第1季度书记项目进度通报" in got.text
        assert got.text.index("A 光伏") < got.text.index("B 停车") and "四月中旬前推出承诺制" in got.text
        outsider = httpx.Client(base_url=bot.url, trust_env=False, timeout=30)
        _login(bot, platform, outsider, "qiansj", page)
        refused = outsider.get(page)
        assert refused.status_code == 403 and "只对本党委领导" in refused.text
        assert member.get(f"/h5/projects/bulletin/{committee_id}/2027Q2").status_code == 404
