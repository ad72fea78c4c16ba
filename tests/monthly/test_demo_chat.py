"""The demo organisation's leaders ask for 本月积分 and 排名 in chat, on DingTalk and on WeCom (issue 15:
4): 组织部 (赵敏, 黄建华) see the county's committees, each 党委's leaders their committee."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli.serve import DEMO_HISTORY_MONTHS, demo_monthly, demo_settings
from bot.core.context import CoreConfig
from bot.core.dispatcher import Dispatcher
from bot.core.events import Account, Conversation, TextReceived
from bot.core.router import Routes
from config import demo
from handlers.monthly.chat import router
from models.monthly import MonthlyScore
from models.org import Platform
from models.outbox import OutboxMessage
from models.seed import seed

NOW = datetime(2026, 11, 23, 2, tzinfo=UTC)  # 10:00 in Shanghai
CORPS = {Platform.DINGTALK: demo.DINGTALK_CORP_ID, Platform.WECOM: demo.WECOM_CORP_ID}


class DemoChat:
    """Text typed by a demo person (account id as the README gives it) and the bot's replies."""

    def __init__(self, session_factory, platform: Platform):
        core = CoreConfig(
            tz=ZoneInfo("Asia/Shanghai"), public_base_url="http://127.0.0.1:8000", secret_key="k" * 32
        )
        self.dispatcher = Dispatcher(session_factory, Routes([router]), core, clock=lambda: NOW)
        self.session_factory = session_factory
        self.platform = platform
        self.n = 0

    def say(self, account: str, text: str) -> str:
        self.n += 1
        corp = CORPS[self.platform]
        sender = Account(self.platform, corp, account)
        conv = Conversation(self.platform, corp, account)
        self.dispatcher.dispatch(TextReceived(f"t{self.n}", sender, "x", conv, text, NOW))
        with self.session_factory() as s:
            rows = s.scalars(
                select(OutboxMessage).where(OutboxMessage.dedup_key.startswith(f"reply:t{self.n}:"))
            ).all()
            return "\n".join(r.payload.get("title", "") + "\n" + r.payload.get("text", "") for r in rows)


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
    chat = DemoChat(session_factory, platform)
    committees = session.scalars(
        select(MonthlyScore.unit_id).where(
            MonthlyScore.month == demo_month.month, MonthlyScore.unit_kind == "committee"
        )
    ).all()
    assert len(committees) == 2
    for account in ("zhaomin01", "huangjianhua01"):  # 组织部, the whole tree
        score = chat.say(account, "本月积分")
        assert "只对" not in score and "2026年10月" in score, score
        assert "城关镇党委" in score and "县直机关工委" in score and "**党委**：2个" in score
        ranking = chat.say(account, "排名")
        assert "只对" not in ranking, ranking
        # One committee of each kind: ranked together, and two are too few for anyone to be 落后.
        assert "**综合类党委**（2个）" in ranking and "城关镇党委" in ranking and "县直机关工委" in ranking
        assert "落后" not in ranking
        # Tied at 90.2 or not, each line says its own rank (a markdown "1." list would renumber ties).
        assert ranking.count("- 第") == 2 and "\n1. " not in ranking
    mine = chat.say("chenzhiguo01", "本月积分")  # 城关镇党委书记
    assert "城关镇党委 2026年10月月积分" in mine and "县直机关工委" not in mine
    ranking = chat.say("zhouminghua01", "排名")  # 城关镇党委组织委员
    assert "城关镇党委" in ranking and "县直机关工委" not in ranking
    assert "月积分只对" in chat.say("lixiaohong01", "积分")  # a plain member still has no scope
