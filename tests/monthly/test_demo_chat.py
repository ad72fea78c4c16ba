"""The demo organisation's leaders ask for 本月积分 and 排名 in chat, on DingTalk and on WeCom (issue 15:
4): 组织部 (赵敏, 黄建华) see the county's committees, each 党委's leaders their committee."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.cli.serve import DEMO_HISTORY_MONTHS, demo_monthly, demo_settings
from config import demo
from handlers.monthly.chat import router
from models.monthly import MonthlyScore
from models.org import Platform
from models.seed import seed
from tests.harness import Chat

NOW = datetime(2026, 11, 23, 2, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def demo_month(session, database_url):
    seed(session, "demo", dingtalk_corp_id=demo.DINGTALK_CORP_ID, wecom_corp_id=demo.WECOM_CORP_ID,
         months=DEMO_HISTORY_MONTHS, today=NOW.date(), now=NOW)  # fmt: skip
    session.commit()
    run = demo_monthly(
        session, demo_settings(database_url, "http://127.0.0.1:18080", "http://127.0.0.1:8000"), NOW
    )
    session.commit()
    return run


@pytest.mark.parametrize("platform", [Platform.DINGTALK, Platform.WECOM])
def test_org_staff_see_the_county_and_committee_leaders_their_committee(
    session_factory, session, demo_month, platform
):
    chat = Chat(session_factory, [router], now=NOW, platform=platform)
    committees = session.scalars(
        select(MonthlyScore.unit_id).where(
            MonthlyScore.month == demo_month.month, MonthlyScore.unit_kind == "committee"
        )
    ).all()
    assert len(committees) == 2
    for account in ("zhaomin01", "huangjianhua01"):  # 组织部, the whole tree
        score = chat.say(account, "本月积分").text
        assert "只对" not in score and "2026年10月" in score, score
        assert "城关镇党委" in score and "县直机关工委" in score and "**党委**：2个" in score
        ranking = chat.say(account, "排名").text
        assert "只对" not in ranking, ranking
        # One committee of each kind: ranked together, and two are too few for anyone to be 落后.
        assert "**综合类党委**（2个）" in ranking and "城关镇党委" in ranking and "县直机关工委" in ranking
        assert "落后" not in ranking
        # Tied at 90.2 or not, each line says its own rank (a markdown "1." list would renumber ties).
        assert ranking.count("- 第") == 2 and "\n1. " not in ranking
    mine = chat.say("chenzhiguo01", "本月积分").text  # 城关镇党委书记
    assert "城关镇党委 2026年10月月积分" in mine and "县直机关工委" not in mine
    ranking = chat.say("zhouminghua01", "排名").text  # 城关镇党委组织委员
    assert "城关镇党委" in ranking and "县直机关工委" not in ranking
    assert "月积分只对" in chat.say("lixiaohong01", "积分").text  # a plain member still has no scope
