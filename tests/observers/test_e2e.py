"""End to end through the sandbox and the real adapters: a meeting is scheduled → the observer's card →
我要列席 (the secretary hears) → the H5 form behind the emulated DingTalk identity (refused, then saved)
→ the secretary and the committee see the result → rectification reported in chat and confirmed from the card.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from bot.web.observers import build_observers_router
from handlers.observers import jobs, notices
from models.observers import Observation, Rectification, RectificationStatus
from tests.core.e2e import running_bot
from tests.observers.conftest import CFG, build_world, full_form, make_meeting
from tests.web import open_session

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Mon 10:00 in Shanghai


def _wire(bot):
    app = bot.service.app
    app.include_router(
        build_observers_router(
            bot.service.session_factory,
            bot.service.platforms.identities,
            bot.service.dispatcher.config,
            cfg=CFG,
            clock=bot.clock.now,
            dingtalk_jsapi_url=bot.sb.url + "/_sandbox/dd-shim.js",
        )
    )
    # Ahead of the app's own copy (wired from the settings): this one has the test's config and the
    # sandbox's dd shim for the browser.
    app.router.routes.insert(0, app.router.routes.pop())


def _to(bot, user):
    return [m for m in bot.sb.outbox(platform="dingtalk") if user in m.get("to", [])]


def _card(bot, user, title_part):
    cards = [m for m in _to(bot, user) if m.get("card_id") and title_part in str(m)]
    assert cards, (user, title_part, _to(bot, user))
    return cards[-1]


def _press(bot, user, card, label):
    button = next(b for b in card["buttons"] if b["text"] == label)
    ack = bot.sb.push_card_action(card["card_id"], user, button["params"], action_id=button["action_id"])
    assert ack["ack"]["code"] == 200
    bot.drain()


def _say(bot, user, text):
    bot.sb.push_dingtalk_message(user, text)
    bot.drain()
    return [m.get("text", "") for m in _to(bot, user)][-1]


def _login(bot, client, user):
    code = bot.sb.dingtalk_authcode(user)
    return open_session(client, "/h5/observers/session", {"platform": "dingtalk", "code": code})


def test_notice_attend_form_result_and_rectification_through_the_sandbox(session_factory, database_url):
    with session_factory() as s, s.begin():
        world = build_world(s)
        meeting = make_meeting(s, world, T0 + timedelta(days=2), topic="学习党章")
        meeting_id = meeting.id
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        # The app factory's own copy of the pages loads the sandbox's JSAPI stand-in in the demo.
        ua = {"user-agent": "Mozilla/5.0 (iPhone) AliApp(DingTalk/7.6.0)"}
        own = httpx.get(f"{bot.url}/h5/observers/{meeting_id}/form", headers=ua, trust_env=False, timeout=30)
        assert own.status_code == 200 and "/_sandbox/dd-shim.js" in own.text
        _wire(bot)
        # 1. The notice job finds the new meeting: the observer gets the card (time, place, topic).
        with session_factory() as s, s.begin():
            assert notices.send_notices(s, now=bot.clock.now(), cfg=CFG, public_base_url=bot.url) == 1
            assert notices.send_notices(s, now=bot.clock.now(), cfg=CFG, public_base_url=bot.url) == 0
        bot.drain()
        card = _card(bot, "qiangc", "观察提示")
        assert "学习党章" in str(card) and "党员活动室" in str(card) and "11月25日" in str(card)
        assert not any("观察提示" in str(m) for m in _to(bot, "zhangli"))
        form_link = re.search(r"https?://[^'\"\s]+/h5/observers/\d+/form", str(card)).group(0)
        assert form_link == f"{bot.url}/h5/observers/{meeting_id}/form"
        # 2. 我要列席: the secretary hears of it.
        _press(bot, "qiangc", card, "我要列席")
        assert "已告知城关社区党支部书记" in _to(bot, "qiangc")[-1]["text"]
        assert any("观察员钱观察将列席" in str(m) for m in _to(bot, "wangsj"))
        # 3. Before the meeting the form is refused; after it, a bad form is refused and nothing saved.
        web = httpx.Client(base_url=bot.url, trust_env=False, timeout=30)
        path = urlsplit(form_link).path
        assert _login(bot, web, "qiangc").status_code == 200
        assert "会议还没有召开" in web.get(path).text
        bot.clock.sleep(timedelta(days=2, hours=3).total_seconds())
        assert _login(bot, web, "qiangc").status_code == 200
        assert "观察质量评价表" in web.get(path).text
        bad = web.post(path, json=full_form("责令纠正", score_content="26", issues=""))
        assert (
            bad.status_code == 400
            and "应为 0–25 分" in bad.json()["error"]
            and "整改事项" in bad.json()["error"]
        )
        with session_factory() as s:
            assert s.scalar(select(Observation.id)) is None
        raw = full_form("责令纠正", correct_by="2026-12-10", issues="会议记录补齐主持人签名")
        assert web.post(path, json=raw).status_code == 200
        # The wrong observer is refused by the same form.
        other = httpx.Client(base_url=bot.url, trust_env=False, timeout=30)
        assert _login(bot, other, "konggc").status_code == 200
        assert "您不是城关社区党支部的观察员" in other.post(path, json=full_form()).json()["error"]
        bot.drain()
        # 4. The secretary and the committee's 组织委员 see the result, with the item to fix.
        for user in ("wangsj", "zhouzz"):
            assert any("观察评价结果" in str(m) and "88/100" in str(m) for m in _to(bot, user)), user
        with session_factory() as s:
            rect = s.scalars(select(Rectification)).one()
        assert any(f"#{rect.id} 会议记录补齐主持人签名" in str(m) for m in _to(bot, "wangsj"))
        # 5. Reported fixed in chat; the observer confirms from the card; the secretary is told.
        assert "等待观察员确认" in _say(bot, "wangsj", f"整改完成 #{rect.id} 已补签")
        _press(bot, "qiangc", _card(bot, "qiangc", "整改确认"), "确认销号")
        assert "已确认销号" in _to(bot, "qiangc")[-1]["text"]
        assert any("观察员已确认整改销号" in str(m) for m in _to(bot, "wangsj"))
        with session_factory() as s:
            assert s.get(Rectification, rect.id).status == RectificationStatus.CLOSED
        # 6. The jobs as the registry runs them: nothing new to send, nothing breaks.
        with session_factory() as s, s.begin():
            specs = {j.name: j for j in jobs.jobs(bot.service.core)}
            for name in ("notices", "rectification_reminders", "coverage_reminders", "missed_reopens"):
                specs[f"observers.{name}"].function(s, bot.clock.now(), "")
        assert "城关社区党支部" in _say(bot, "qiangc", "我的支部")
