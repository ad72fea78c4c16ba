"""群众评议 end to end through the sandbox on DingTalk and WeCom: the committee's 组织委员 opens a public
window in chat and gets the signed link; the village's member is told and rates in chat, once; a browser
opens the link and rates once; the 组织委员 reads the result in chat."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from handlers.projects import library, review
from handlers.projects.config import DEFAULT as CFG
from models.org import Platform
from models.projects import ProjectRating
from tests.core.e2e import running_bot
from tests.projects.conftest import REGISTRATION, build, local
from tests.projects.test_e2e import _say, _to

T0 = local(date(2027, 11, 3))


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_rating_through_the_sandbox(session_factory, database_url, platform):
    with session_factory() as s, s.begin():
        org = build(s, Platform(platform))
        p = library.register(s, org.wang, REGISTRATION["wangsj"], now=local(date(2027, 2, 10)), cfg=CFG)
        review.pre_accept(
            s, org.zhou, p.id, now=local(date(2027, 2, 11)), cfg=CFG, public_base_url="http://x"
        )
        review.score(
            s, org.sun, p.id, 85, "", now=local(date(2027, 2, 12)), cfg=CFG, public_base_url="http://x"
        )
        pid = p.id
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        assert "由其上级党委" in _say(bot, platform, "zhangdy", f"开启评议 #{pid} 2027-11-01 2027-11-30 公开")
        opened = _say(bot, platform, "zhouzz", f"开启评议 #{pid} 2027-11-01 2027-11-30 公开")
        assert "群众评议已开启" in opened
        link = re.search(r"https?://[^'\"\s，。]+/h5/projects/rate/[A-Za-z0-9_.-]+", opened).group(0)
        assert any("书记项目群众评议" in str(m) for m in _to(bot, platform, "zhangdy"))
        assert "基本满意" in _say(bot, platform, "zhangdy", f"评议 #{pid} 基本满意 再接再厉")
        assert "只能评议一次" in _say(bot, platform, "zhangdy", f"评议 #{pid} 满意")
        assert "您不在该单位" in _say(bot, platform, "liudy", f"评议 #{pid} 满意")

        path = urlsplit(link).path
        browser = httpx.Client(base_url=bot.url, trust_env=False, timeout=30)
        assert "村集体经济增收" in browser.get(path).text
        assert browser.post(path, data={"verdict": "satisfied"}).status_code == 200
        assert browser.post(path, data={"verdict": "satisfied"}).status_code == 409
        result = _say(bot, platform, "zhouzz", f"评议结果 #{pid}")
        assert "2人参评" in result and "满意1、基本满意1" in result
    with session_factory() as s:
        rows = s.scalars(select(ProjectRating).where(ProjectRating.project_id == pid)).all()
        assert len(rows) == 2 and sum(r.person_id is None for r in rows) == 1
