"""书记项目 end to end through the sandbox and the real adapters, on DingTalk and on WeCom: three
secretaries register in chat; the committee's 组织委员 accepts one from the card's button, accepts one by
text and returns one with a reason; the 组织部 scores; members get the 公开承诺 card and open the H5 page
behind the platform's login-free identity; one secretary reports progress there with a photo; at month
end the other is reminded once, and on the 1st the committee hears (the ladder's first rung)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from handlers.projects.jobs import jobs
from models.org import Platform
from models.projects import ProjectReminder, ProjectStatus, SecretaryProject
from tests.core.e2e import running_bot
from tests.projects.conftest import REGISTRATION, build, local
from tests.web import open_session

T0 = local(date(2027, 2, 10))


def _to(bot, platform, user):
    return [m for m in bot.sb.outbox(platform=platform) if user in m.get("to", [])]


def _say(bot, platform, user, text):
    if platform == "dingtalk":
        bot.sb.push_dingtalk_message(user, text)
        passive = ""
    else:
        result = bot.sb.deliver_wecom(user, text)
        assert result["delivered"], result
        passive = str((result.get("reply") or {}).get("fields", {}).get("Content", ""))
    bot.drain()
    return passive + str(_to(bot, platform, user)[-1])


def _card(bot, platform, user, part):
    cards = [m for m in _to(bot, platform, user) if m.get("card_id") and part in str(m)]
    assert cards, (user, part, _to(bot, platform, user))
    return cards[-1]


def _press(bot, platform, user, card, label):
    button = next(b for b in card["buttons"] if b["text"] == label)
    if platform == "dingtalk":
        ack = bot.sb.push_card_action(card["card_id"], user, button["params"], action_id=button["action_id"])
        assert ack["ack"]["code"] == 200
    else:
        assert bot.sb.press_wecom_button(user, card["card_id"], button["key"])["status"] == 200
    bot.drain()


def _login(bot, platform, client, user, page):
    if platform == "dingtalk":
        payload = {"platform": "dingtalk", "code": bot.sb.dingtalk_authcode(user)}
    else:
        out = client.get("/h5/projects/auth/wecom", params={"next": page}, follow_redirects=False)
        state = parse_qs(urlsplit(out.headers["location"]).query)["state"][0]
        payload = {"platform": "wecom", "code": bot.sb.wecom_oauth_code(user), "state": state}
    assert open_session(client, "/h5/projects/session", payload).status_code == 200


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 10)).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_the_cycle_through_the_sandbox(session_factory, database_url, platform):
    with session_factory() as s, s.begin():
        build(s, Platform(platform))
    with running_bot(session_factory, database_url, clock_start=T0) as bot:
        ids = {}
        for account in ("wangsj", "lisj", "zhaosj"):
            reply = _say(bot, platform, account, "申报项目\n" + REGISTRATION[account])
            ids[account] = int(re.search(r"已提交书记项目 #(\d+)", reply).group(1))
        # 预审: the button on the card for one, text for another, a return with a reason for the third.
        _press(bot, platform, "zhouzz", _card(bot, platform, "zhouzz", "村集体经济增收"), "预审通过")
        assert "已预审通过" in str(_to(bot, platform, "zhouzz")[-1])
        assert "已预审通过" in _say(bot, platform, "zhouzz", f"预审通过 #{ids['lisj']}")
        _press(bot, platform, "zhouzz", _card(bot, platform, "zhouzz", "窗口服务提速"), "退回修改")
        assert f"预审退回 #{ids['zhaosj']}" in str(_to(bot, platform, "zhouzz")[-1])
        assert "已退回" in _say(bot, platform, "zhouzz", f"预审退回 #{ids['zhaosj']} 请写明办结时限")
        assert any("请写明办结时限" in str(m) for m in _to(bot, platform, "zhaosj"))
        # A secretary may not score; the 组织部 scores and the projects enter the library.
        assert "您不是项目" in _say(bot, platform, "lisj", f"项目评分 #{ids['wangsj']} 90")
        assert "已入库" in _say(bot, platform, "sunbz", f"项目评分 #{ids['wangsj']} 88 选题精准")
        assert "已入库" in _say(bot, platform, "sunbz", f"项目评分 #{ids['lisj']} 72")
        # 公开承诺: the village's member has the card with the page's link, and opens it.
        published = [m for m in _to(bot, platform, "zhangdy") if "公开承诺" in str(m)]
        assert published and "村集体经济增收" in str(published[0])
        link = re.search(r"https?://[^'\"\s]+/h5/projects/\d+", str(published[0])).group(0)
        page = urlsplit(link).path
        assert page == f"/h5/projects/{ids['wangsj']}"
        web = httpx.Client(base_url=bot.url, trust_env=False, timeout=30)
        _login(bot, platform, web, "zhangdy", page)
        assert "盘活闲置土地" in web.get(page).text
        # The secretary reports progress on the H5 page, with a photo.
        sec = httpx.Client(base_url=bot.url, trust_env=False, timeout=30)
        _login(bot, platform, sec, "wangsj", page + "/progress")
        ok = sec.post(
            page + "/progress",
            data={"text": "入户调研120户", "milestone": "1", "done": "1"},
            files=[("photos", ("a.jpg", _jpeg(), "image/jpeg"))],
        )
        assert ok.status_code == 200, ok.text
        assert "入户调研120户" in web.get(page).text
        # Month end: li (no report) is reminded once; wang is not.
        specs = {j.name: j for j in jobs(bot.service.core)}
        bot.clock.sleep((local(date(2027, 2, 25), 9) - bot.clock.now()).total_seconds())
        for _ in range(2):
            with session_factory() as s, s.begin():
                specs["projects.progress"].function(s, bot.clock.now(), "")
            bot.drain()
        assert len([m for m in _to(bot, platform, "lisj") if "月度进展提醒" in str(m)]) == 1
        assert not [m for m in _to(bot, platform, "wangsj") if "月度进展提醒" in str(m)]
        # The 1st: February ended without li's report → the committee's 组织委员 hears.
        bot.clock.sleep(timedelta(days=4).total_seconds())
        with session_factory() as s, s.begin():
            specs["projects.progress"].function(s, bot.clock.now(), "")
        bot.drain()
        assert any(
            "已连续1个月" in str(m) and "老旧小区停车难" in str(m) for m in _to(bot, platform, "zhouzz")
        )
    with session_factory() as s:
        statuses = dict(s.execute(select(SecretaryProject.id, SecretaryProject.status)).all())
        assert statuses == {
            ids["wangsj"]: ProjectStatus.ACCEPTED,
            ids["lisj"]: ProjectStatus.ACCEPTED,
            ids["zhaosj"]: ProjectStatus.RETURNED,
        }
        assert (
            s.scalar(
                select(ProjectReminder.rung).where(
                    ProjectReminder.month == date(2027, 2, 1), ProjectReminder.rung == 1
                )
            )
            == 1
        )
