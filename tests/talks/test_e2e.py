"""谈心谈话 end to end through the sandbox and the real adapters, on both platforms: the secretary records
and asks for the coverage on DingTalk, a member who is on WeCom only records their own talk."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from config import demo
from models.org import ChatAccount, Platform
from models.talks import HeartTalk
from tests.core.e2e import running_bot
from tests.talks.conftest import local

T0 = local(date(2026, 11, 25), 15)


def _to(bot, platform, user):
    return [m for m in bot.sb.outbox(platform=platform) if user in m.get("to", [])]


def test_recording_and_coverage_on_both_platforms(session_factory, database_url, session, branches):
    chen = branches.by_name("陈红")
    session.execute(delete(ChatAccount).where(ChatAccount.person_id == chen.id))
    session.add(ChatAccount(person_id=chen.id, platform=Platform.WECOM, corp_id=demo.WECOM_CORP_ID,
                            account_id="ChenHong"))  # fmt: skip
    session.commit()
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        bot.sb.push_dingtalk_message("wang", "谈心谈话 张三 2026-11-20 工作和思想情况")
        bot.drain()
        assert "已登记谈心谈话" in _to(bot, "dingtalk", "wang")[-1].get("text", "")

        result = bot.sb.deliver_wecom("ChenHong", "谈心谈话 刘芳 11月24日 家庭和工作")
        assert result["delivered"], result
        bot.drain()
        wecom = [str(m) for m in _to(bot, "wecom", "ChenHong")]
        reply = (result.get("reply") or {}).get("fields", {}).get("Content", "")
        assert any("陈红、刘芳，2026年11月24日" in t for t in [*wecom, reply])

        bot.sb.push_dingtalk_message("wang", "谈心谈话情况")
        bot.drain()
        text = _to(bot, "dingtalk", "wang")[-1].get("text", "")
        assert (
            "已登记谈心谈话2次，应谈13项" in text
            and "- 支委与党员：1/5" in text
            and "- 党员之间：2/5" in text
        )
    session.expire_all()
    assert len(session.scalars(select(HeartTalk)).all()) == 2
