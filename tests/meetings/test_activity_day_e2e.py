"""The 主题党日 menu recorded in chat end to end, through the sandbox and the real adapters, on
DingTalk and on WeCom: the 会议记录 card of a 主题党日 names 党日动作; a wrong item is refused in
Chinese and nothing is stored; the secretary records the items and the 自选动作 and is told which
fixed item is missing; a member cannot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config import demo
from handlers.meetings import meetings as meetings_uc
from handlers.meetings import minutes as minutes_uc
from handlers.meetings.types import DEFAULT_CONFIG as CFG
from models.meetings import Meeting, Minutes
from models.org import Platform, Role, UnitKind
from tests import builders
from tests.core.e2e import running_bot

T0 = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)  # Wed 10:00 Shanghai, the day after the 主题党日


def _build(s, platform: Platform) -> int:
    corp = demo.DINGTALK_CORP_ID if platform == Platform.DINGTALK else demo.WECOM_CORP_ID
    committee = builders.unit(s, "城关镇党委", UnitKind.COMMITTEE)
    branch = builders.unit(s, "城关社区党支部", UnitKind.BRANCH, committee)
    secretary = builders.person(s, "王书记", branch, account_id="wangsj", corp=corp, platform=platform)
    builders.person(s, "张丽", branch, account_id="zhangli", corp=corp, platform=platform)
    builders.role(s, secretary, branch, Role.SECRETARY)
    s.flush()
    meeting = meetings_uc.schedule_meeting(
        s, secretary, types=["主题党日"], starts_at=T0 - timedelta(days=1), place="党员活动室",
        topic="重温入党誓词", now=T0 - timedelta(days=3), cfg=CFG,
    )  # fmt: skip
    minutes_uc.record_minutes(
        s, secretary, meeting.id, minutes_uc.MinutesInput("王书记", "张丽", "重温入党誓词"), now=T0, cfg=CFG
    )
    return meeting.id


def _say(bot, platform, user, text):
    before = len(bot.sb.outbox(platform=platform))
    if platform == "dingtalk":
        bot.sb.push_dingtalk_message(user, text)
        passive = ""
    else:
        result = bot.sb.deliver_wecom(user, text)
        assert result["delivered"], result
        passive = str((result.get("reply") or {}).get("fields", {}).get("Content", ""))
    bot.drain()
    new = [m for m in bot.sb.outbox(platform=platform)[before:] if user in m.get("to", [])]
    return passive + "".join(str(m) for m in new)


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_menu_recorded_in_chat_through_the_sandbox(session_factory, database_url, platform):
    with session_factory() as s, s.begin():
        meeting_id = _build(s, Platform(platform))
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        assert "党日动作" in _say(bot, platform, "wangsj", f"会议记录 #{meeting_id}")
        refused = _say(bot, platform, "wangsj", f"党日动作 #{meeting_id} 1 唱红歌")
        assert "「唱红歌」不是本组织主题党日的规定动作" in refused
        assert "只有本支部" in _say(bot, platform, "zhangli", f"党日动作 #{meeting_id} 1")
        with session_factory() as s:
            assert s.scalars(select(Minutes)).one().menu_done is None
        reply = _say(bot, platform, "wangsj", f"党日动作 #{meeting_id} 1 2 3 4 5 6 自选：参观红色教育基地")
        assert f"已记录会议 #{meeting_id} 的主题党日动作" in reply and "未开展的规定动作：党内关怀" in reply
        # 「自选：」 with nothing after it: the items are recorded and the 自选动作 is cleared.
        cleared = _say(bot, platform, "wangsj", f"党日动作 #{meeting_id} 1 2 自选：")
        assert f"已记录会议 #{meeting_id} 的主题党日动作：集中学习、重温入党誓词。" in cleared, cleared
        assert "不是本组织主题党日的规定动作" not in cleared
        with session_factory() as s:
            m = s.get(Meeting, meeting_id).minutes
            assert m.menu_done == list(CFG.activity.items[:2]) and not m.menu_extra
        reply = _say(bot, platform, "wangsj", f"党日动作 #{meeting_id} 1 2 3 4 5 6 自选：参观红色教育基地")
    with session_factory() as s:
        m = s.get(Meeting, meeting_id).minutes
        assert m.menu_done == list(CFG.activity.items[:6]) and m.menu_extra == "参观红色教育基地"
